#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Crash torture: SIGKILL producers, consumers, exec workers and wq-serve at
random moments over a mixed workload, then prove SPEC promises 1 and 2.

    torture.py [--seconds S] [--seed N] [--bin DIR] [--keep] [--json FILE]

Every process of the workload is started by this script, and one of them,
chosen at random, is killed with SIGKILL after a random pause of 0 to
--pause milliseconds; whatever is gone is started again.  When the time is
up everything is killed, the queues are drained once the leases have run
out, and the checker proves:

  - every id a producer reported (wq-send printed it, wq-serve answered 201
    with it) was delivered, or is still in its queue or its dead-letter
    queue: nothing reported is lost;
  - every body delivered is the one sent with its id, and is well formed:
    nothing torn, truncated or spliced was ever read;
  - no message came back after an acknowledgement that succeeded;
  - nothing was quarantined in corrupt/, and wq-fsck -n (when built) finds
    nothing to repair.

Bodies are functions of a number ("N:LEN:PAD"), as in tests/tools/wq-body,
so a body can be checked wherever it shows up.  The random pauses and kills
are the fault injection; nothing waits on a timer for synchronisation
except the final drain, which waits for leases (2 s) to end.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ALPHABET = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            "0123456789-_") * 50
VISIBILITY = 2          # the lease of every claim, seconds
BATCH = 300             # bodies a producer is given to send
MAX_BACKLOG = 20000     # producers wait while a queue holds more


def body(n):
    """The body of number n: its length and padding are functions of n."""
    length = (n * 7919 + 13) % 3072 + 1
    off = n % 64
    return "%d:%d:%s" % (n, length, ALPHABET[off:off + length])


def body_number(b):
    """The number of a well-formed body, else None."""
    head = b.split(":", 1)[0]
    if not head.isdigit() or body(int(head)) != b:
        return None
    return int(head)


class Ledger:
    """What was reported sent, delivered and acknowledged, per queue."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = {}          # (queue, id) -> body number
        self.delivered = {}     # (queue, id) -> count
        self.numbers = {}       # (queue, id) -> body number delivered
        self.acked = {}         # (queue, id) -> time the ack returned
        self.late = []          # deliveries that began after an ack
        self.bad = []           # torn or mismatched bodies
        self.unreported = 0     # delivered, sent but never reported

    def send(self, queue, mid, n):
        with self.lock:
            self.sent[(queue, mid)] = n

    def deliver(self, queue, mid, text, began):
        """A delivery of id mid with body text, from a call begun at
        time began."""
        with self.lock:
            key = (queue, mid)
            n = body_number(text)
            if n is None or self.numbers.setdefault(key, n) != n:
                self.bad.append((queue, mid, text[:80]))
            self.delivered[key] = self.delivered.get(key, 0) + 1
            acked = self.acked.get(key)
            if acked is not None and began > acked:
                self.late.append((queue, mid))

    def ack(self, queue, mid):
        with self.lock:
            self.acked[(queue, mid)] = time.monotonic()


def complete_lines(path):
    """The lines of a file that a killed writer finished (with their
    newline)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    return [line.decode("utf-8", "replace") for line in lines[:-1]]


class Role:
    """One slot of the workload: at most one process running at a time."""

    def __init__(self, t, slot):
        self.t = t
        self.slot = slot
        self.proc = None
        self.began = 0.0
        self.runs = 0

    def file(self, what):
        return os.path.join(self.t.work, "%s.%d.%s" % (self.slot, self.runs,
                                                       what))

    def popen(self, argv, stdin=None, stdout=None):
        self.began = time.monotonic()
        self.runs += 1
        err = open(self.file("err"), "wb")
        out = open(self.file("out"), "wb") if stdout is None else stdout
        self.proc = subprocess.Popen(argv, stdin=stdin or subprocess.DEVNULL,
                                     stdout=out, stderr=err,
                                     env=self.t.env)
        err.close()
        if stdout is None:
            out.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def reap(self):
        """Account for the finished (or killed) process."""
        if self.proc is None:
            return
        rc = self.proc.wait()
        self.finished(rc, self.file("out"))
        self.proc = None

    def finished(self, rc, out):
        pass

    def start(self):
        raise NotImplementedError


class Producer(Role):
    """wq-send -l: line i of its output is the id of its i-th body."""

    def __init__(self, t, slot, queue, args=()):
        super().__init__(t, slot)
        self.queue = queue
        self.args = list(args)
        self.first = 0

    def start(self):
        self.first = self.t.numbers(BATCH)
        path = os.path.join(self.t.work, self.slot + ".in")
        with open(path, "w") as f:
            for n in range(self.first, self.first + BATCH):
                f.write(body(n) + "\n")
        with open(path, "rb") as f:
            self.popen([self.t.bin("wq-send"), "-l"] + self.args +
                       [self.queue], stdin=f)

    def finished(self, rc, out):
        for i, mid in enumerate(complete_lines(out)):
            self.t.ledger.send(self.queue, mid, self.first + i)
        if not self.t.args.keep:
            os.unlink(out)  # read once: a long run makes thousands


class OneShot(Producer):
    """wq-send with a few bodies as arguments and a random priority."""

    def start(self):
        k = self.t.rng.randint(1, 5)
        self.first = self.t.numbers(k)
        prio = str(self.t.rng.randint(-100, 100))
        self.popen([self.t.bin("wq-send"), "-p", prio] + self.args +
                   [self.queue] + [body(n) for n in
                                   range(self.first, self.first + k)])


class Popper(Role):
    """wq-recv -f --json: each complete line is a delivery."""

    def __init__(self, t, slot, queue):
        super().__init__(t, slot)
        self.queue = queue

    def start(self):
        self.popen([self.t.bin("wq-recv"), "-f", "--json", "-v",
                    str(VISIBILITY), self.queue])

    def finished(self, rc, out):
        for line in complete_lines(out):
            m = json.loads(line)
            self.t.ledger.deliver(self.queue, m["id"], m["body"],
                                  self.began)


class Worker(Role):
    """wq-recv -f -j 2 with a command that keeps each body in a file
    named by its id; bodies whose number is a multiple of fail_every make
    the command fail (and, after --max-receives, be dead-lettered)."""

    def __init__(self, t, slot, queue, fail_every=0):
        super().__init__(t, slot)
        self.queue = queue
        self.fail_every = fail_every
        self.dir = os.path.join(t.work, "exec-" + queue)
        os.makedirs(self.dir, exist_ok=True)

    def start(self):
        # The file is named ID.PID.START, START the wall clock in ns
        # when the command began (after its claim).
        script = ('t=$(date +%s%N); b=$(cat; echo .); b=${b%.}; '
                  'n=${b%%:*}; printf %s "$b" >"$0/.$WQ_ID.$$" && '
                  'mv "$0/.$WQ_ID.$$" "$0/$WQ_ID.$$.$t" && '
                  '{ [ "$1" -eq 0 ] || [ $((n % $1)) -ne 0 ]; }')
        self.popen([self.t.bin("wq-recv"), "-f", "-j", "2", "-v",
                    str(VISIBILITY), self.queue, "--", "sh", "-c", script,
                    self.dir, str(self.fail_every)])

    def collect(self):
        """The bodies kept by the commands, once they all ended."""
        for name in os.listdir(self.dir):
            if name.startswith("."):
                continue
            mid, _pid, ns = name.rsplit(".", 2)
            with open(os.path.join(self.dir, name)) as f:
                text = f.read()
            self.t.ledger.deliver(self.queue, mid, text,
                                  int(ns) / 1e9 - self.t.epoch_offset)


class Leaser(Role):
    """wq-recv -L --json -n 5, then wq-ack of most receipts and
    wq-ack --release of the others: two processes, either may be killed."""

    def __init__(self, t, slot, queue):
        super().__init__(t, slot)
        self.queue = queue
        self.pending = None     # receipts to acknowledge: [(id, receipt)]
        self.acking = []

    def start(self):
        if self.pending:
            rng = self.t.rng
            self.acking = self.pending
            self.pending = None
            if rng.random() < 0.2:
                self.release = True
                self.popen([self.t.bin("wq-ack"), "--release", "--delay",
                            "1", self.queue] + [r for _, r in self.acking])
            else:
                self.release = False
                self.popen([self.t.bin("wq-ack"), self.queue] +
                           [r for _, r in self.acking])
            return
        self.acking = []
        self.popen([self.t.bin("wq-recv"), "-L", "--json", "-n", "5", "-v",
                    str(VISIBILITY), self.queue])

    def finished(self, rc, out):
        if self.acking:
            if rc == 0 and not self.release:
                for mid, _ in self.acking:
                    self.t.ledger.ack(self.queue, mid)
            self.acking = []
            return
        got = []
        for line in complete_lines(out):
            m = json.loads(line)
            self.t.ledger.deliver(self.queue, m["id"], m["body"],
                                  self.began)
            got.append((m["id"], m["receipt"]))
        # The receipts of a killed wq-recv -L are printed all the same:
        # its messages are leased.  Acknowledge them while they hold.
        self.pending = got or None


class Server(Role):
    """wq-serve on a port of its choosing, for the HTTP client."""

    def __init__(self, t, slot):
        super().__init__(t, slot)
        self.port = None
        self.cond = threading.Condition()

    def start(self):
        pf = self.file("port")
        self.popen([self.t.bin("wq-serve"), "-l", "127.0.0.1:0",
                    "--port-file", pf, "--shutdown-timeout", "1"])
        # The port file is written once listening: wait for it (bounded)
        # so that the client has an address.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.running():
            try:
                with open(pf) as f:
                    text = f.read()
                if text.endswith("\n"):
                    with self.cond:
                        self.port = int(text)
                        self.cond.notify_all()
                    return
            except FileNotFoundError:
                pass
            time.sleep(0.005)

    def finished(self, rc, out):
        with self.cond:
            self.port = None


class HttpClient(threading.Thread):
    """Sends, receives and acknowledges through wq-serve, in a loop, as
    long as the run lasts; a request the server did not answer counts for
    nothing (not sent, not delivered, not acked)."""

    def __init__(self, t, server, queue):
        super().__init__(daemon=True)
        self.t = t
        self.server = server
        self.queue = queue
        self.stop = False
        self.requests = 0

    def request(self, method, path, data=None):
        port = self.server.port
        if port is None:
            time.sleep(0.01)
            return None, None
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            c.request(method, path, body=data)
            r = c.getresponse()
            payload = r.read()
            self.requests += 1
            return r.status, payload
        except (OSError, http.client.HTTPException):
            return None, None
        finally:
            c.close()

    def run(self):
        q = "/v1/queues/%s" % self.queue
        while not self.stop:
            n = self.t.numbers(1)
            status, payload = self.request("POST", q + "/messages",
                                           body(n).encode())
            if status == 201:
                self.t.ledger.send(self.queue, json.loads(payload)["id"], n)
            began = time.monotonic()
            status, payload = self.request(
                "POST", q + "/receive?max=3&visibility=%d" % VISIBILITY)
            if status != 200:
                continue
            for m in json.loads(payload)["messages"]:
                self.t.ledger.deliver(self.queue, m["id"], m["body"], began)
                status, _ = self.request(
                    "DELETE", q + "/messages/" + m["receipt"])
                if status == 204:
                    self.t.ledger.ack(self.queue, m["id"])


class Torture:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.bindir = os.path.abspath(args.bin)
        self.root = tempfile.mkdtemp(prefix="wq-torture.")
        self.spool = os.path.join(self.root, "spool")
        self.work = os.path.join(self.root, "work")
        os.makedirs(self.work)
        self.env = dict(os.environ, WQ_DIR=self.spool)
        self.ledger = Ledger()
        self.next_number = 1
        self.kills = {}
        self.undrained = []     # queues that still held messages
        self.backlog_checked = 0.0
        self.backlogged = False
        # exec-mode files are stamped with the wall clock; deliveries
        # are compared on the monotonic clock.
        self.epoch_offset = time.time() - time.monotonic()

    def bin(self, name):
        return os.path.join(self.bindir, name)

    def numbers(self, k):
        first = self.next_number
        self.next_number += k
        return first

    def run_tool(self, *argv):
        return subprocess.run([self.bin(argv[0])] + list(argv[1:]),
                              env=self.env, check=True,
                              stdout=subprocess.PIPE).stdout

    def setup(self):
        c = "wq-create"
        self.run_tool(c, "--sync", "batch", "batch")
        self.run_tool(c, "dead")
        self.run_tool(c, "--sync", "always", "--max-receives", "4",
                      "--dead-letter", "dead", "always")
        self.run_tool(c, "--fifo", "--compress", "always", "fifo")
        self.run_tool(c, "http")
        self.roles = [
            Producer(self, "prod-batch-1", "batch"),
            Producer(self, "prod-batch-2", "batch"),
            Popper(self, "pop-batch", "batch"),
            Worker(self, "exec-batch", "batch"),
            Leaser(self, "lease-batch", "batch"),
            OneShot(self, "prod-always", "always"),
            Worker(self, "exec-always", "always", fail_every=5),
            Leaser(self, "lease-always", "always"),
            Producer(self, "prod-fifo", "fifo", ["-g", "g1"]),
            Producer(self, "prod-fifo-2", "fifo", ["-g", "g2"]),
            Popper(self, "pop-fifo", "fifo"),
        ]
        self.server = Server(self, "serve")
        self.roles.append(self.server)
        self.client = HttpClient(self, self.server, "http")

    def kill_one(self):
        live = [r for r in self.roles if r.running()]
        if not live:
            return
        r = self.rng.choice(live)
        try:
            r.proc.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            return
        kind = r.slot.rsplit("-", 1)[0] if r.slot[-1].isdigit() else r.slot
        self.kills[kind] = self.kills.get(kind, 0) + 1

    def backlog(self):
        """Whether the producers are too far ahead of the consumers
        (looked at every 2 s): they wait, so that the queues stay small
        and the drain short."""
        now = time.monotonic()
        if now >= self.backlog_checked + 2:
            self.backlog_checked = now
            self.backlogged = max(self.left(q) for q in
                                  ("batch", "always", "fifo")) > MAX_BACKLOG
        return self.backlogged

    def workload(self):
        deadline = time.monotonic() + self.args.seconds
        self.client.start()
        while time.monotonic() < deadline:
            for r in self.roles:
                if not r.running():
                    r.reap()
                    if isinstance(r, Producer) and self.backlog():
                        continue
                    r.start()
            time.sleep(self.rng.uniform(0, self.args.pause / 1000))
            self.kill_one()
        self.client.stop = True
        for r in self.roles:
            if r.running():
                r.proc.send_signal(signal.SIGKILL)
            r.reap()
        self.client.join()
        # Exec commands orphaned by a killed wq-recv end on their own:
        # each reads one body from a pipe that is closed now.
        for r in self.roles:
            if isinstance(r, Worker):
                self.wait_orphans(r.dir)
                r.collect()

    def wait_orphans(self, d):
        """Wait (bounded) for the commands writing into d to finish."""
        deadline = time.monotonic() + 30
        while any(n.startswith(".") for n in os.listdir(d)):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)

    def left(self, q):
        """How many messages q still holds, ready, delayed or leased."""
        row = json.loads(self.run_tool("wq-stat", "--json", q))
        if isinstance(row, list):
            row = row[0]
        return row["ready"] + row["delayed"] + row["inflight"]

    def drain(self):
        """Receive what is left: each queue until it holds nothing (the
        leases and delays of the run end within seconds)."""
        for q in ("batch", "always", "fifo", "http", "dead"):
            # As long as each round receives something, go on; give up
            # after 60 s in which nothing came.
            deadline = time.monotonic() + 60
            while self.left(q) > 0 and time.monotonic() < deadline:
                began = time.monotonic()
                p = subprocess.run(
                    [self.bin("wq-recv"), "--json", "-n", "10000", "-w",
                     "1", "-v", "600", q], env=self.env,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                lines = p.stdout.decode().splitlines()
                if lines:
                    deadline = time.monotonic() + 60
                for line in lines:
                    m = json.loads(line)
                    # A dead letter is still the message sent to its
                    # origin queue, with the same id.
                    origin = q
                    if q == "dead":
                        origin = "always"
                    self.ledger.deliver(origin, m["id"], m["body"], began)
                if p.returncode not in (0, 1):
                    sys.exit("torture: wq-recv %s: %s" %
                             (q, p.stderr.decode().strip()))
            if self.left(q) > 0:
                self.undrained.append(q)

    def check(self):
        led = self.ledger
        problems = []
        lost = [k for k in led.sent if k not in led.delivered]
        led.bad += [(q, mid, "body %d, sent %d" % (led.numbers[(q, mid)], n))
                    for (q, mid), n in led.sent.items()
                    if led.numbers.get((q, mid), n) != n]
        for q, mid in lost[:10]:
            problems.append("lost: %s %s" % (q, mid))
        for q, mid, text in led.bad[:10]:
            problems.append("torn or foreign body: %s %s %r" % (q, mid, text))
        for q, mid in led.late[:10]:
            problems.append("delivered after its ack: %s %s" % (q, mid))
        corrupt = []
        for q in os.listdir(self.spool):
            cdir = os.path.join(self.spool, q, "corrupt")
            if os.path.isdir(cdir):
                corrupt += [q + "/" + n for n in os.listdir(cdir)]
        for q in self.undrained:
            problems.append("not drained: %s (60 s without a message)" % q)
        for c in corrupt[:10]:
            problems.append("quarantined: %s" % c)
        fsck = self.bin("wq-fsck")
        if os.path.exists(fsck):
            p = subprocess.run([fsck, "-n"], env=self.env,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            if p.returncode != 0:
                problems.append("wq-fsck -n: exit %d: %s" %
                                (p.returncode, p.stdout.decode()[:400]))
        dups = sum(c - 1 for c in led.delivered.values() if c > 1)
        unreported = sum(1 for k in led.delivered if k not in led.sent)
        figures = {
            "seconds": self.args.seconds,
            "seed": self.args.seed,
            "kills": sum(self.kills.values()),
            "kills_by_role": self.kills,
            "reported_sent": len(led.sent),
            "delivered_distinct": len(led.delivered),
            "sent_unreported_delivered": unreported,
            "duplicates": dups,
            "acked": len(led.acked),
            "http_requests": self.client.requests,
            "lost": len(lost),
            "torn": len(led.bad),
            "after_ack": len(led.late),
            "quarantined": len(corrupt),
        }
        return problems, figures

    def sabotage(self):
        """Harm one ready message of queue batch, to show that the
        checker sees it: delete it (lose) or change its last byte (tear).
        The message harmed is one sent now, after every consumer has
        stopped: one that was delivered before and came back after its
        lease would be neither lost nor torn in the ledger."""
        n = self.numbers(1)
        mid = self.run_tool("wq-send", "batch", body(n)).decode().strip()
        self.ledger.send("batch", mid, n)
        for d, _, files in os.walk(os.path.join(self.spool, "batch", "new")):
            for name in files:
                # Its file: new/.../RR.ID,COUNT,... (wq.5)
                if name[3:].split(",")[0] != mid:
                    continue
                path = os.path.join(d, name)
                if self.args.sabotage == "lose":
                    os.unlink(path)
                else:
                    with open(path, "r+b") as f:
                        f.seek(-1, os.SEEK_END)
                        last = f.read(1)
                        f.seek(-1, os.SEEK_END)
                        f.write(b"?" if last != b"?" else b"!")
                return
        sys.exit("torture: --sabotage: %s is not ready in batch" % mid)

    def main(self):
        self.setup()
        try:
            self.workload()
            if self.args.sabotage:
                self.sabotage()
            self.drain()
            problems, figures = self.check()
        finally:
            if not self.args.keep:
                shutil.rmtree(self.root, ignore_errors=True)
        print("torture: " + " ".join("%s=%s" % (k, v) for k, v in
                                     figures.items() if k != "kills_by_role"))
        print("torture: kills by role: " + ", ".join(
            "%s %d" % kv for kv in sorted(figures["kills_by_role"].items())))
        if self.args.json:
            with open(self.args.json, "w") as f:
                json.dump(figures, f, indent=1)
        if self.args.keep:
            print("torture: kept " + self.root)
        for p in problems:
            print("torture: FAIL " + p)
        if problems:
            return 1
        if figures["kills"] < self.args.min_kills:
            print("torture: FAIL only %d kills (--min-kills %d)" %
                  (figures["kills"], self.args.min_kills))
            return 1
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--pause", type=float, default=40,
                    help="longest pause between kills, ms (40)")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--bin", default=os.path.join(
        os.path.dirname(__file__), "..", "..", "build"))
    ap.add_argument("--min-kills", type=int, default=1,
                    help="fail when fewer processes were killed")
    ap.add_argument("--keep", action="store_true",
                    help="keep the spool and the logs")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--sabotage", choices=("lose", "tear"),
                    help="harm one message before the drain (a test of "
                    "the checker)")
    return Torture(ap.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Multi-host workload and lost/duplicate checker for a shared spool.

    mh.py setup --spool D [--visibility V] [--clock-skew S] [--sync MODE]
    mh.py run   --spool D --log DIR --seconds N [--kill] [--seed N]
    mh.py check --spool D [--summary FILE] [--sabotage dup|lose|tear] LOGDIR...
    mh.py mark  --log DIR      (a host was killed: its claims ended by now)

`run` is started once per host (host.sh a|b, a qemu guest's mount, ...) on
the same spool, each with its own LOCAL log directory: nothing the checker
relies on lives on the shared file system.  It runs, for --seconds, stream
producers (wq-send -l), one-shot producers (wq-send BODY...), pop consumers
(wq-recv -n K), lease consumers (wq-recv -L, hold, then wq-ack one receipt
at a time, sometimes wq-ack --release, sometimes holding past the lease)
and an exec worker (wq-recv -f -j 2 -- sh -c ...).  With --kill a killer
thread SIGKILLs a random live workload process every 0-300 ms (claims,
sends and acks die half-way) and its role starts it again.

`check`, once every host is done (or dead), drains the queue after the
leases end and proves, over the logs of all hosts merged:

  lost       every id a producer reported (a complete line wq-send printed)
             was delivered, or is still queued;
  torn       every body delivered is the one sent with its id (bodies are a
             function of a number, so a body from a producer whose output
             was lost is checked for being well formed);
  after-ack  no delivery whose claim began after another delivery's claim
             had returned, when that other holder's ack then succeeded;
  leased     no id delivered twice while its lease held: a delivery that
             follows another of the same id is legitimate only if it ended
             at least `visibility` seconds after the earlier claim STARTED,
             or after the earlier holder began to release it;
  lease      a holder's wq-ack (or --release) is never refused as stale when
             it ended less than `visibility` seconds after its claim began,
             and the exec worker's acks are never refused (wq-recv extends
             that lease while the command runs): nobody took a lease away
             early -- which, when the clocks differ more than the queue's
             clock-skew allows, shows here sooner than as a duplicate;
  fsck       wq-fsck -n is clean and nothing is in corrupt/.

Time stamps are CLOCK_MONOTONIC (time.monotonic(), and /proc/uptime in the
exec worker's shell, which is CLOCK_BOOTTIME: the same clock without
suspend): libfaketime (host.sh -s) shifts only CLOCK_REALTIME, so hosts on
one machine, or two mounts in one qemu guest, share it.  A claim's start is
logged before the process that claims is started and its end after it
exited, so the checker's window always contains the real claim.  The
exception is the exec worker, whose command sees the message only after the
claim: its stamp is the command's start, later than the claim by a few ms,
which the queue's clock-skew margin (deadline + skew) more than covers.

Exit status of check: 0 all invariants hold, 1 a violation (printed as
"mh: FAIL ..."), 2 a usage or setup error.
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

QUEUE = "mh"
ALPHABET = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            "0123456789-_") * 40
MAX_BACKLOG = 3000      # producers pause while the queue holds more


def body(tag, n):
    """The body number n of producer run tag: length and padding are
    functions of (tag, n), so any body can be checked where it shows up."""
    length = (n * 7919 + len(tag) * 31 + 13) % 2048 + 1
    off = n % 64
    return "%s/%d:%d:%s" % (tag, n, length, ALPHABET[off:off + length])


def parse_body(b):
    """(tag, n) of a well-formed body, else None."""
    try:
        head = b.split(":", 1)[0]
        tag, n = head.rsplit("/", 1)
        if body(tag, int(n)) == b:
            return tag, int(n)
    except (ValueError, AttributeError):
        pass
    return None


def complete_lines(path):
    """The lines of a file that its (possibly killed) writer finished."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    return [x.decode("utf-8", "replace") for x in data.split(b"\n")[:-1]]


def sleep(secs):
    """time.sleep() fails with EINVAL under libfaketime (host.sh -s): its
    clock_nanosleep(TIMER_ABSTIME) wrapper; a condition wait does not."""
    threading.Event().wait(secs)


BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                     "build")


def tool(bindir, name):
    """A wq command from --bin, else from build/: --bin build/dyn has only
    the dynamically linked commands that libfaketime can skew (host.sh -s
    does nothing to the static ones)."""
    path = os.path.join(bindir, name)
    return path if os.path.exists(path) else os.path.join(BUILD, name)


def uptime():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


# ---------------------------------------------------------------- run

class Run:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.bindir = os.path.abspath(a.bin)
        self.log = os.path.abspath(a.log)
        self.out = os.path.join(self.log, "out")
        self.exec_dir = os.path.join(self.log, "exec")
        os.makedirs(self.out, exist_ok=True)
        os.makedirs(self.exec_dir, exist_ok=True)
        self.host = a.host or socket.gethostname()
        # The tag makes body numbers unique across hosts and reruns.
        self.tag = "%s-%d-%06x" % (self.host, os.getpid(),
                                   self.rng.getrandbits(24))
        self.fd = os.open(os.path.join(self.log, "events.jsonl"),
                          os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.lock = threading.Lock()
        self.seq = 0
        self.next_n = 0
        self.procs = set()      # live workload processes, for the killer
        self.stop = False
        self.kills = 0
        self.backlog = False
        self.visibility = a.visibility
        self.local = threading.local()  # per role thread: its last claim

    def event(self, **kw):
        """One JSON line, written with one write(2): a killed harness
        leaves at most a torn last line, which readers skip."""
        line = (json.dumps(kw, separators=(",", ":")) + "\n").encode()
        with self.lock:
            os.write(self.fd, line)

    def name(self, what):
        with self.lock:
            self.seq += 1
            return os.path.join(self.out, "%s%06d" % (what, self.seq))

    def numbers(self, k):
        with self.lock:
            first = self.next_n
            self.next_n += k
            return first

    def wq(self, name, *args):
        return [tool(self.bindir, name), "-d", self.a.spool] + list(args)

    def spawn(self, argv, stdin=None, stdout=None, stderr=None):
        """Run a workload process to its end (or its SIGKILL): the return
        code.  stdout goes straight to a file: what it printed before a kill
        is kept."""
        with open(os.devnull, "rb") as dn:
            p = subprocess.Popen(argv, stdin=stdin or dn,
                                 stdout=stdout or subprocess.DEVNULL,
                                 stderr=stderr or subprocess.PIPE)
        with self.lock:
            self.procs.add(p)
        err = p.communicate()[1] or b""
        with self.lock:
            self.procs.discard(p)
        if p.returncode not in (0, 1, -9) and not self.stop:
            self.event(ev="error", argv=argv[:1] + argv[3:6],
                       rc=p.returncode, err=err.decode()[-300:])
        return p.returncode

    def pause(self, secs):
        sleep(self.rng.uniform(0, secs))

    # roles: each is a thread looping until the end of the run

    def producer_stream(self):
        while not self.stop:
            if self.backlog:
                sleep(0.2)
                continue
            k = self.rng.randint(1, 10)
            first = self.numbers(k)
            inp = self.name("in")
            with open(inp, "w") as f:
                f.write("".join(body(self.tag, n) + "\n"
                                for n in range(first, first + k)))
            out = self.name("send")
            self.event(ev="send", file=os.path.basename(out), tag=self.tag,
                       first=first, count=k)
            with open(inp, "rb") as i, open(out, "wb") as o:
                rc = self.spawn(self.wq("wq-send", "-l", QUEUE), i, o)
            os.unlink(inp)
            self.event(ev="sent", file=os.path.basename(out), rc=rc)
            self.pause(1)       # leave the consumers a chance

    def producer_oneshot(self):
        while not self.stop:
            if self.backlog:
                sleep(0.2)
                continue
            k = self.rng.randint(1, 4)
            first = self.numbers(k)
            out = self.name("send")
            self.event(ev="send", file=os.path.basename(out), tag=self.tag,
                       first=first, count=k)
            with open(out, "wb") as o:
                rc = self.spawn(self.wq("wq-send", QUEUE, *[
                    body(self.tag, n) for n in range(first, first + k)]),
                    stdout=o)
            self.event(ev="sent", file=os.path.basename(out), rc=rc)
            self.pause(1)

    def claim(self, kind, *args):
        """wq-recv --json ARGS, logged: the start stamp before the process
        exists, the end stamp after it is gone.  The deliveries."""
        out = self.name(kind)
        f = os.path.basename(out)
        t0 = time.monotonic()
        self.event(ev="claim", kind=kind, file=f, t0=t0)
        with open(out, "wb") as o:
            rc = self.spawn(self.wq("wq-recv", "--json", "-v",
                                    str(self.visibility), *args), stdout=o)
        self.event(ev="claimed", file=f, t1=time.monotonic(), rc=rc)
        self.local.t0 = t0
        self.local.file = f
        return [json.loads(x) for x in complete_lines(out)]

    def popper(self):
        while not self.stop:
            # No -w: a claim's window [t0, t1] stays short, which is
            # what makes the lease check sharp.
            got = self.claim("pop", "-n", str(self.rng.randint(1, 3)),
                             QUEUE)
            if not got:
                self.pause(0.2)

    def leaser(self):
        v = self.visibility
        while not self.stop:
            got = self.claim("lease", "-L", "-n",
                             str(self.rng.randint(1, 2)), QUEUE)
            t0, f = self.local.t0, self.local.file
            if not got:
                self.pause(0.2)
                continue
            # Hold the batch: mostly within the lease, often past half of
            # it, once in a while past its end (a legitimate redelivery and
            # a stale ack).
            r = self.rng.random()
            if self.stop:
                hold = 0        # the run is over: ack at once
            elif self.a.long_holds:
                hold = self.rng.uniform(0.65 * v, 0.95 * v)
            elif r < 0.05:
                hold = v + self.a.clock_skew + 0.5
            elif r < 0.5:
                hold = self.rng.uniform(0.5 * v, 0.8 * v)
            else:
                hold = self.rng.uniform(0, 0.1)
            # from the start of the claim: the lease began after it
            sleep(max(0, t0 + hold - time.monotonic()))
            for m in got:
                release = self.rng.random() < 0.1
                ev = "release" if release else "ack"
                # The claim's file names which delivery of the id this
                # ack is for: after a hold past the lease, a later claim
                # of the same id may be logged before this ack ends.
                self.event(ev=ev, id=m["id"], file=f, t0=time.monotonic())
                argv = ["--release"] if release else []
                rc = self.spawn(self.wq("wq-ack", *argv, QUEUE,
                                        m["receipt"]))
                self.event(ev=ev + "-end", id=m["id"], file=f, rc=rc,
                           t1=time.monotonic())

    def worker(self):
        # Each command keeps its body in exec/ID.PID.UPTIME (a rename
        # when complete), UPTIME its start on the monotonic clock.
        script = ('read -r up _ </proc/uptime; b=$(cat; echo .); b=${b%.}; '
                  'printf %s "$b" >"$0/.$WQ_ID.$$" && '
                  'mv "$0/.$WQ_ID.$$" "$0/$WQ_ID.$$.$up"')
        while not self.stop:
            err = self.name("worker") + ".err"
            self.event(ev="worker", t0=time.monotonic(),
                       file=os.path.basename(err))
            with open(err, "wb") as e:
                self.spawn(self.wq("wq-recv", "-f", "-j", "2", "-v",
                                   str(self.visibility), QUEUE, "--", "sh",
                                   "-c", script, self.exec_dir), stderr=e)

    def killer(self):
        while not self.stop:
            self.pause(self.a.kill_pause)
            with self.lock:
                live = [p for p in self.procs if p.poll() is None]
            if live:
                try:
                    self.rng.choice(live).send_signal(signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass

    def watch_backlog(self):
        while not self.stop:
            try:
                row = json.loads(subprocess.run(
                    self.wq("wq-stat", "--json", QUEUE), check=True,
                    stdout=subprocess.PIPE).stdout)[0]
                self.backlog = row["total"] > MAX_BACKLOG
            except (subprocess.CalledProcessError, ValueError, KeyError):
                pass
            sleep(1)

    def main(self):
        self.event(ev="start", host=self.host, tag=self.tag,
                   t=time.monotonic(), uptime_offset=time.monotonic() -
                   uptime(), visibility=self.visibility, kill=self.a.kill)
        roles = [self.producer_stream, self.producer_stream,
                 self.producer_oneshot, self.popper, self.leaser,
                 self.leaser, self.worker, self.watch_backlog]
        if self.a.kill:
            roles.append(self.killer)
        threads = [threading.Thread(target=r, daemon=True) for r in roles]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        sleep(self.a.seconds)
        self.stop = True
        # Stop the workers (their deliveries so far are logged); the
        # others finish their current step.
        with self.lock:
            for p in self.procs:
                if p.poll() is None and "-f" in p.args:
                    p.send_signal(signal.SIGKILL)
        for t in threads:
            t.join(60)
        # A killed worker's commands run on: wait (bounded) for them.
        deadline = time.monotonic() + 20
        while (any(n.startswith(".") for n in os.listdir(self.exec_dir))
               and time.monotonic() < deadline):
            sleep(0.05)
        self.event(ev="end", t=time.monotonic(), kills=self.kills)
        print("mh: run %s: %.1f s, %d kills" % (
            self.host, time.monotonic() - t0, self.kills))
        return 0


# ---------------------------------------------------------------- check

class Delivery:
    __slots__ = ("id", "body", "t0", "t1", "acked", "release", "refused",
                 "src")

    def __init__(self, mid, text, t0, t1, src):
        self.id, self.body, self.t0, self.t1, self.src = mid, text, t0, t1, src
        self.acked = None       # when a successful ack returned
        self.release = None     # when a release began
        self.refused = None     # when an ack or release was refused


class Check:
    def __init__(self, a):
        self.a = a
        self.bindir = os.path.abspath(a.bin)
        self.sent = {}          # id -> (tag, n)
        self.dup_ids = []       # ids reported by two sends
        self.deliveries = {}    # id -> [Delivery]
        self.hosts = []         # per-host figures
        self.problems = []
        self.exec_refused = []  # wq-recv -f: "done but not acked"
        self.visibility = None

    def wq(self, name, *args):
        return [tool(self.bindir, name), "-d", self.a.spool] + list(args)

    def deliver(self, d):
        self.deliveries.setdefault(d.id, []).append(d)

    def read_log(self, logdir):
        """Merge one host's log; its figures go to self.hosts."""
        evs = []
        for line in complete_lines(os.path.join(logdir, "events.jsonl")):
            try:
                evs.append(json.loads(line))
            except ValueError:
                pass            # a torn line of a killed harness
        if not evs or evs[0].get("ev") != "start":
            sys.exit("mh: %s: no events.jsonl from mh.py run" % logdir)
        st = evs[0]
        self.visibility = max(self.visibility or 0, st["visibility"])
        fig = {"host": st["host"], "log": logdir, "sent": 0, "delivered": 0,
               "acked": 0, "kills": 0, "errors": 0, "end": None}
        out = os.path.join(logdir, "out")
        sends, claims = {}, {}
        by_id = {}              # (claim file, id) -> its delivery
        killed = float("inf")   # when the host died, if it was killed
        last = st["t"]
        for e in evs:
            ev = e["ev"]
            last = max(last, e.get("t", 0), e.get("t0", 0), e.get("t1", 0))
            if ev == "send":
                sends[e["file"]] = e
            elif ev == "sent":
                s = sends.pop(e["file"])
                lines = complete_lines(os.path.join(out, e["file"]))
                if len(lines) > s["count"]:
                    self.problems.append("%s printed %d ids for %d bodies" %
                                         (e["file"], len(lines), s["count"]))
                for i, mid in enumerate(lines[:s["count"]]):
                    self.add_sent(mid, s["tag"], s["first"] + i)
                fig["sent"] += len(lines)
            elif ev == "claim":
                claims[e["file"]] = e
            elif ev == "claimed":
                c = claims.pop(e["file"])
                fig["delivered"] += self.read_claim(logdir, c, e, by_id)
            elif ev in ("ack-end", "release-end") and \
                    (e["file"], e["id"]) in by_id:
                d = by_id[(e["file"], e["id"])]
                if ev == "ack-end" and e["rc"] == 0:
                    d.acked = e["t1"]
                    fig["acked"] += 1
                elif e["rc"] == 1:      # the receipt was stale
                    d.refused = e["t1"]
            elif ev == "release" and (e["file"], e["id"]) in by_id:
                by_id[(e["file"], e["id"])].release = e["t0"]
            elif ev == "worker" and "file" in e:
                for line in complete_lines(os.path.join(out, e["file"])):
                    if "not acked" in line:
                        self.exec_refused.append(line)
            elif ev == "killed":
                killed = e["t"]
            elif ev == "end":
                fig["end"] = e["t"]
                fig["kills"] = e["kills"]
            elif ev == "error":
                fig["errors"] += 1
                if len(self.problems) < 40:
                    self.problems.append("%s: %s exit %s: %s" % (
                        st["host"], " ".join(e["argv"]), e["rc"],
                        e["err"].strip()))
        # The harness was killed (a host went down): what it started is
        # still in the files; the sends of unfinished wq-send count, the
        # deliveries of unfinished claims end when the host died, if
        # `mh.py mark` logged it, else at an unknown time (infinity).
        for f, s in sends.items():
            lines = complete_lines(os.path.join(out, f))
            for i, mid in enumerate(lines[:s["count"]]):
                self.add_sent(mid, s["tag"], s["first"] + i)
            fig["sent"] += len(lines)
        for f, c in claims.items():
            fig["delivered"] += self.read_claim(logdir, c, {"t1": killed,
                                                            "rc": -9}, by_id)
        fig["delivered"] += self.read_exec(logdir, st["uptime_offset"])
        fig["seconds"] = (fig["end"] or min(last, killed)) - st["t"]
        self.hosts.append(fig)

    def add_sent(self, mid, tag, n):
        if mid in self.sent and self.sent[mid] != (tag, n):
            self.dup_ids.append(mid)
        self.sent[mid] = (tag, n)

    def read_claim(self, logdir, c, e, by_id):
        t1 = e["t1"]
        path = os.path.join(logdir, "out", c["file"])
        n = 0
        for line in complete_lines(path):
            m = json.loads(line)
            d = Delivery(m["id"], m["body"], c["t0"], t1,
                         "%s:%s" % (os.path.basename(logdir), c["file"]))
            # A pop that exited 0 acked every message it printed.
            if c["kind"] == "pop" and e["rc"] == 0:
                d.acked = t1
            self.deliver(d)
            by_id[(c["file"], d.id)] = d
            n += 1
        return n

    def read_exec(self, logdir, offset):
        d = os.path.join(logdir, "exec")
        n = 0
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.startswith("."):
                continue        # a command killed half-way
            # ID.PID.SECS.CENTISECS: ids hold dots, uptime one
            mid, _pid, sec, frac = name.rsplit(".", 3)
            up = sec + "." + frac
            with open(os.path.join(d, name)) as f:
                text = f.read()
            t = float(up) + offset
            # /proc/uptime is cut to 10 ms: widen the window by that.
            self.deliver(Delivery(mid, text, t - 0.01, t + 0.02,
                                  "%s:exec" % os.path.basename(logdir)))
            n += 1
        return n

    def left(self):
        row = json.loads(subprocess.run(
            self.wq("wq-stat", "--json", QUEUE), check=True,
            stdout=subprocess.PIPE).stdout)[0]
        return row["total"]

    def drain(self, logdir):
        """Receive what is left, once leases and delays end; the
        deliveries are logged in LOGDIR/drain.jsonl too, so that a second
        check of the same logs still sees them."""
        path = os.path.join(logdir, "drain.jsonl")
        for line in complete_lines(path):
            x = json.loads(line)
            self.deliver(Delivery(x["id"], x["body"], x["t0"], x["t1"],
                                  "drain"))
        deadline = time.monotonic() + 60
        with open(path, "a") as f:
            while self.left() > 0 and time.monotonic() < deadline:
                t0 = time.monotonic()
                p = subprocess.run(self.wq("wq-recv", "--json", "-n", "5000",
                                           "-w", "1", "-v", "600", QUEUE),
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
                t1 = time.monotonic()
                if p.returncode not in (0, 1):
                    self.problems.append("drain: wq-recv exit %d: %s" % (
                        p.returncode, p.stderr.decode().strip()))
                    break
                for line in p.stdout.decode().splitlines():
                    m = json.loads(line)
                    self.deliver(Delivery(m["id"], m["body"], t0, t1,
                                          "drain"))
                    if m["body"].startswith("sabotage-"):
                        continue    # not evidence for later checks
                    f.write(json.dumps({"id": m["id"], "body": m["body"],
                                        "t0": t0, "t1": t1}) + "\n")
                    deadline = time.monotonic() + 60
        if self.left() > 0:
            self.problems.append("not drained: %d messages left after 60 s "
                                 "without one" % self.left())

    def sabotage(self):
        """Harm the evidence, to prove that the checker fails: dup adds
        a delivery inside an earlier one's lease; lose and tear harm one
        ready message sent here (after the runs, before the drain)."""
        kind = self.a.sabotage
        if kind == "dup":
            for mid, ds in sorted(self.deliveries.items()):
                if ds and ds[0].t1 != float("inf"):
                    d = ds[0]
                    self.deliver(Delivery(mid, d.body, d.t0 + 0.1,
                                          d.t0 + 0.2, "sabotage"))
                    return
            sys.exit("mh: --sabotage dup: no delivery to copy")
        tag = "sabotage-%d" % os.getpid()
        mid = subprocess.run(self.wq("wq-send", QUEUE, body(tag, 0)),
                             check=True, stdout=subprocess.PIPE
                             ).stdout.decode().strip()
        self.add_sent(mid, tag, 0)
        for d, _, files in os.walk(os.path.join(self.a.spool, QUEUE, "new")):
            for name in files:
                if mid not in name:
                    continue
                path = os.path.join(d, name)
                if kind == "lose":
                    os.unlink(path)
                else:
                    with open(path, "r+b") as f:
                        f.seek(-1, os.SEEK_END)
                        f.write(b"?")
                return
        sys.exit("mh: --sabotage %s: message %s not found ready" % (kind,
                                                                     mid))

    def verify(self):
        v = self.visibility
        inf = float("inf")
        lost = [m for m in self.sent if m not in self.deliveries]
        torn, leased, late, broken, dups = [], [], [], [], 0
        for mid, ds in self.deliveries.items():
            want = self.sent.get(mid)
            for d in ds:
                got = parse_body(d.body)
                if got is None or (want is not None and got != want):
                    torn.append((mid, d.src, d.body[:60]))
            ds.sort(key=lambda d: d.t0)
            dups += len(ds) - 1
            for i, d in enumerate(ds):
                # The holder's ack or release was refused as stale,
                # though it ended before the lease could have run out:
                # someone took the lease away early.
                if d.refused is not None and d.refused < d.t0 + v:
                    broken.append((mid, d.src, d.refused - d.t0))
                for e in ds[i + 1:]:
                    # e's claim began after d's claim returned, and d's
                    # ack succeeded: the message was gone before e began.
                    if d.acked is not None and e.t0 > d.t1:
                        late.append((mid, d.src, e.src))
                    # Both claims lie in [t0, t1]; the earlier started no
                    # sooner than d.t0, the later ended by max(t1): a
                    # lease of v seconds must fit in between, unless d's
                    # holder released it first.
                    if max(d.t1, e.t1) < d.t0 + v and not (
                            d.release is not None and
                            max(d.t1, e.t1) >= d.release):
                        leased.append((mid, d.src, e.src,
                                       max(d.t1, e.t1) - d.t0))
        for m in lost[:10]:
            self.problems.append("lost: %s (sent %s/%d)" %
                                 ((m,) + self.sent[m]))
        for m, src, text in torn[:10]:
            self.problems.append("torn or foreign body: %s from %s: %r" %
                                 (m, src, text))
        for m, a, b in late[:10]:
            self.problems.append("delivered after a successful ack: %s "
                                 "(acked %s, again %s)" % (m, a, b))
        for m, a, b, gap in leased[:10]:
            self.problems.append(
                "delivered twice while leased: %s (%s, then %s within "
                "%.3f s < visibility %d s)" % (m, a, b, gap, v))
        for m, a, gap in broken[:10]:
            self.problems.append(
                "lease taken away early: %s (%s: its ack was refused as "
                "stale %.3f s after the claim began < visibility %d s)" %
                (m, a, gap, v))
        for line in self.exec_refused[:10]:
            self.problems.append("exec worker's ack refused (its lease is "
                                 "extended while the command runs): " + line)
        for m in self.dup_ids[:10]:
            self.problems.append("one id reported for two bodies: %s" % m)
        inf_ends = sum(1 for ds in self.deliveries.values() for d in ds
                       if d.t1 == inf)
        return {"sent": len(self.sent),
                "unreported": sum(1 for m in self.deliveries
                                  if m not in self.sent),
                "delivered": len(self.deliveries),
                "deliveries": sum(len(x) for x in self.deliveries.values()),
                "duplicates": dups, "lost": len(lost), "torn": len(torn),
                "after_ack": len(late), "dup_while_leased": len(leased),
                "lease_broken": len(broken) + len(self.exec_refused),
                "unended_claims": inf_ends}

    def fsck(self):
        p = subprocess.run(self.wq("wq-fsck", "-n"), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if p.returncode != 0:
            self.problems.append("wq-fsck -n: exit %d: %s" % (
                p.returncode, p.stdout.decode()[:600]))
        cdir = os.path.join(self.a.spool, QUEUE, "corrupt")
        if os.path.isdir(cdir) and os.listdir(cdir):
            self.problems.append("quarantined in corrupt/: %s" %
                                 " ".join(os.listdir(cdir)[:5]))

    def main(self):
        for d in self.a.logdirs:
            self.read_log(d)
        t0 = time.monotonic()
        if self.a.sabotage in ("lose", "tear"):
            self.sabotage()
        self.drain(self.a.logdirs[0])
        drained = time.monotonic() - t0
        if self.a.sabotage == "dup":
            self.sabotage()
        fig = self.verify()
        self.fsck()
        lines = []
        for h in self.hosts:
            s = max(h["seconds"], 1e-9)
            lines.append(
                "mh: host %s: %.1f s, sent %d (%.1f msg/s), delivered %d "
                "(%.1f msg/s), acked by wq-ack/pop %d, kills %d, errors %d"
                % (h["host"], h["seconds"], h["sent"], h["sent"] / s,
                   h["delivered"], h["delivered"] / s, h["acked"],
                   h["kills"], h["errors"]))
        secs = max([h["seconds"] for h in self.hosts] + [1e-9])
        lines.append(
            "mh: total: sent %d (+%d unreported), distinct delivered %d, "
            "deliveries %d, "
            "duplicates %d, lost %d, torn %d, after-ack %d, "
            "dup-while-leased %d, lease-broken %d, claims without end %d; "
            "%.1f msg/s sent, "
            "drain %.1f s" % (
                fig["sent"], fig["unreported"], fig["delivered"],
                fig["deliveries"],
                fig["duplicates"], fig["lost"], fig["torn"],
                fig["after_ack"], fig["dup_while_leased"],
                fig["lease_broken"], fig["unended_claims"], fig["sent"] / secs, drained))
        lines += ["mh: FAIL " + p for p in self.problems]
        lines.append("mh: %s" % ("FAIL" if self.problems else "PASS"))
        text = "\n".join(lines) + "\n"
        sys.stdout.write(text)
        if self.a.summary:
            with open(self.a.summary, "a") as f:
                f.write(text)
        return 1 if self.problems else 0


def setup(a):
    bindir = os.path.abspath(a.bin)
    subprocess.run([tool(bindir, "wq-create"), "-p", "-d", a.spool,
                    "--visibility", str(a.visibility), "--clock-skew",
                    str(a.clock_skew), "--sync", a.sync, QUEUE], check=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("WQ_BIN", BUILD),
                    help="the wq commands (default $WQ_BIN, else build/); "
                    "those missing there are taken from build/")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--spool", required=True)
    s.add_argument("--visibility", type=int, default=2)
    s.add_argument("--clock-skew", type=int, default=1)
    s.add_argument("--sync", default="batch")
    r = sub.add_parser("run")
    r.add_argument("--spool", required=True)
    r.add_argument("--log", required=True)
    r.add_argument("--seconds", type=float, default=20)
    r.add_argument("--kill", action="store_true",
                   help="SIGKILL a random workload process every 0 to "
                   "--kill-pause s")
    r.add_argument("--kill-pause", type=float, default=0.3,
                   help="(0.3; slow machines, such as an emulated guest, "
                   "need more, or nothing ever completes)")
    r.add_argument("--seed", type=int, default=None)
    r.add_argument("--host", help="name in the logs (default: hostname)")
    r.add_argument("--long-holds", action="store_true",
                   help="lease consumers hold every message 65-95%% of "
                   "the lease (to catch leases that end early)")
    r.add_argument("--visibility", type=int, default=2,
                   help="lease of every claim (the queue's, 2)")
    r.add_argument("--clock-skew", type=int, default=1,
                   help="the queue's clock-skew (1): how long past the "
                   "lease a holder may hold")
    c = sub.add_parser("check")
    c.add_argument("--spool", required=True)
    c.add_argument("--summary", help="append the summary lines here")
    c.add_argument("--sabotage", choices=("dup", "lose", "tear"),
                   help="harm the evidence: the check must then fail")
    c.add_argument("logdirs", nargs="+")
    k = sub.add_parser("mark", help="log that this host was killed now "
                       "(once its processes are all gone)")
    k.add_argument("--log", required=True)
    a = ap.parse_args()
    if a.cmd == "mark":
        with open(os.path.join(a.log, "events.jsonl"), "ab") as f:
            f.write(b"\n" + json.dumps({"ev": "killed",
                                         "t": time.monotonic()}).encode() +
                    b"\n")     # after a torn last line, if there is one
        return 0
    if a.cmd == "setup":
        return setup(a)
    if a.cmd == "run":
        return Run(a).main()
    return Check(a).main()


if __name__ == "__main__":
    sys.exit(main())

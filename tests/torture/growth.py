#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Memory of the long-running processes: wq-recv -f and wq-serve.

    growth.py [--bin DIR] [--messages N] [--valgrind N] [--json FILE]

1. Growth: N messages (100,000 by default) pass through a running
   `wq-recv -f` and, over HTTP (send, receive, ack), through a running
   `wq-serve`.  The resident set size of each is read after the first
   tenth and at the end; it must not grow by more than --slack KiB.
2. Valgrind memcheck (when --valgrind is not 0): the same, with
   --valgrind messages, under `valgrind --leak-check=full`; any error or
   leaked block fails.  wq-recv runs as `wq-recv -n N` over N messages
   sent before it starts, the loop of -f with an exit of its own, so that
   its leaks are looked for; it must
   be linked dynamically for memcheck to see its allocations: --bin-dyn
   names such a build (make build/dyn/wq-recv).

Each message is waited for (the queue's depth is polled), so the
figures compare the same work, not a race.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

VG = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
      "--show-leak-kinds=definite,indirect,possible",
      "--errors-for-leak-kinds=definite,indirect,possible",
      "--track-fds=no"]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


class Run:
    def __init__(self, args):
        self.args = args
        self.bindir = os.path.abspath(args.bin)
        self.root = tempfile.mkdtemp(prefix="wq-growth.")
        self.env = dict(os.environ, WQ_DIR=os.path.join(self.root, "spool"))
        self.figures = {}
        self.problems = []

    def bin(self, name, dyn=False):
        d = os.path.abspath(self.args.bin_dyn) if dyn else self.bindir
        return os.path.join(d, name)

    def tool(self, *argv, stdin=None):
        return subprocess.run([self.bin(argv[0])] + list(argv[1:]),
                              env=self.env, check=True, input=stdin,
                              stdout=subprocess.PIPE).stdout

    def depth(self, q):
        row = json.loads(self.tool("wq-stat", "--json", q))[0]
        return row["ready"] + row["delayed"] + row["inflight"]

    def wait_empty(self, q, proc):
        deadline = time.monotonic() + 600
        while self.depth(q) > 0:
            if proc.poll() is not None:
                sys.exit("growth: the consumer of %s exited %d" %
                         (q, proc.returncode))
            if time.monotonic() > deadline:
                sys.exit("growth: %s not drained in 600 s" % q)
            time.sleep(0.05)

    # --- wq-recv -f ---------------------------------------------------

    def recv(self, n, valgrind):
        q = "recv-vg" if valgrind else "recv"
        self.tool("wq-create", q)
        # Under valgrind, -n N over N messages sent before: the same
        # loop as -f, but an exit of its own, so that leaks are looked
        # for (wq-recv -f ends by the default action of SIGTERM).
        argv = [self.bin("wq-recv"), "-f", "--json", q]
        if valgrind:
            argv = VG + [self.bin("wq-recv", dyn=True), "-n", str(n),
                         "--json", q]
        log = open(os.path.join(self.root, q + ".err"), "wb")
        if valgrind:
            lines = "".join("message %d\n" % i for i in range(n))
            self.tool("wq-send", "-l", q, stdin=lines.encode())
        p = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                             stderr=log)
        if valgrind:
            rc = p.wait()
            log.close()
            if self.depth(q) != 0:
                self.problems.append("wq-recv -n %d left messages" % n)
            return 0, 0, rc, os.path.join(self.root, q + ".err")
        tenth = max(n // 10, 1)
        first = None
        for sent in range(0, n, tenth):
            k = min(tenth, n - sent)
            lines = "".join("message %d\n" % i
                            for i in range(sent, sent + k))
            self.tool("wq-send", "-l", q, stdin=lines.encode())
            self.wait_empty(q, p)
            if first is None:
                first = rss_kib(p.pid)
        last = rss_kib(p.pid)
        p.send_signal(signal.SIGTERM)
        rc = p.wait()
        rc = 0 if rc == -signal.SIGTERM else rc
        log.close()
        return first, last, rc, os.path.join(self.root, q + ".err")

    # --- wq-serve -----------------------------------------------------

    def serve(self, n, valgrind):
        q = "serve-vg" if valgrind else "serve"
        self.tool("wq-create", q)
        pf = os.path.join(self.root, q + ".port")
        argv = [self.bin("wq-serve"), "-l", "127.0.0.1:0", "--port-file",
                pf, "-t", "2"]
        if valgrind:
            argv = VG + argv
        log = open(os.path.join(self.root, q + ".err"), "wb")
        p = subprocess.Popen(argv, env=self.env, stderr=log)
        deadline = time.monotonic() + 60
        while not (os.path.exists(pf) and open(pf).read().endswith("\n")):
            if p.poll() is not None or time.monotonic() > deadline:
                sys.exit("growth: wq-serve did not start")
            time.sleep(0.05)
        c = http.client.HTTPConnection("127.0.0.1", int(open(pf).read()),
                                       timeout=60)
        base = "/v1/queues/%s" % q
        tenth = max(n // 10, 1)
        first = None
        for i in range(n):
            c.request("POST", base + "/messages", b"message %d" % i)
            r = c.getresponse()
            r.read()
            if r.status != 201:
                sys.exit("growth: send answered %d" % r.status)
            if i % 10 == 9 or i == n - 1:
                self.receive_all(c, base)
            if i == tenth - 1:
                first = rss_kib(p.pid)
        last = rss_kib(p.pid)
        c.close()
        p.send_signal(signal.SIGTERM)
        rc = p.wait()
        log.close()
        return first, last, rc, os.path.join(self.root, q + ".err")

    def receive_all(self, c, base):
        while True:
            c.request("POST", base + "/receive?max=10")
            r = c.getresponse()
            msgs = json.loads(r.read())["messages"]
            if not msgs:
                return
            for m in msgs:
                c.request("DELETE", base + "/messages/" + m["receipt"])
                r = c.getresponse()
                r.read()
                if r.status != 204:
                    sys.exit("growth: ack answered %d" % r.status)

    # --- the runs -----------------------------------------------------

    def growth(self, what, fn):
        first, last, rc, _ = fn(self.args.messages, False)
        grew = last - first
        self.figures[what] = {"messages": self.args.messages,
                              "rss_kib_at_tenth": first,
                              "rss_kib_at_end": last, "grew_kib": grew}
        print("growth: %s: %d messages, RSS %d KiB after a tenth, %d KiB "
              "at the end (%+d KiB)" % (what, self.args.messages, first,
                                         last, grew))
        if rc != 0:
            self.problems.append("%s exited %d on SIGTERM" % (what, rc))
        if grew > self.args.slack:
            self.problems.append("%s grew by %d KiB (--slack %d)" %
                                 (what, grew, self.args.slack))

    def memcheck(self, what, fn):
        _, _, rc, err = fn(self.args.valgrind, True)
        with open(err, errors="replace") as f:
            text = f.read()
        vg = [line for line in text.splitlines() if re.match(r"==\d+==",
                                                              line)]
        self.figures[what + "_valgrind"] = {
            "messages": self.args.valgrind, "exit": rc,
            "report_lines": len(vg)}
        print("growth: %s under valgrind: %d messages, exit %d, %d lines "
              "of report" % (what, self.args.valgrind, rc, len(vg)))
        if rc != 0 or vg:
            self.problems.append("%s under valgrind: exit %d\n%s" %
                                 (what, rc, "\n".join(vg[:40])))

    def main(self):
        try:
            self.growth("wq-recv -f", self.recv)
            self.growth("wq-serve", self.serve)
            if self.args.valgrind:
                self.memcheck("wq-recv -f", self.recv)
                self.memcheck("wq-serve", self.serve)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
        if self.args.json:
            with open(self.args.json, "w") as f:
                json.dump(self.figures, f, indent=1)
        for p in self.problems:
            print("growth: FAIL " + p)
        return 1 if self.problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--bin", default=os.path.join(here, "..", "..", "build"))
    ap.add_argument("--bin-dyn", default=os.path.join(here, "..", "..",
                                                      "build", "dyn"))
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--valgrind", type=int, default=0,
                    help="messages to pass under valgrind (0: none)")
    ap.add_argument("--slack", type=int, default=1024,
                    help="growth allowed, KiB (1024)")
    ap.add_argument("--json", help="write the figures to this file")
    return Run(ap.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())

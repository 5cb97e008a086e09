#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/http/run.py - wq-serve beside a trivial libmicrohttpd handler.

make bench-http runs this.  The target of ../shared/BENCH.md: over HTTP
(wrk on loopback), wq-serve's send and receive+ack throughput at least
50 % of a trivial libmicrohttpd handler on the same machine.  The floor
is bench/mhd-trivial.c: libmicrohttpd run as wq-serve runs it (the same
flags, thread pool size, limits), answering a fixed small JSON body.

Each round, on each filesystem of the spool (tmpfs, the root ext4), with
both servers up and wrk at 16 and 64 connections (-t 2):
  send      POST /v1/queues/Q/messages, 100-byte bodies (bench/http/send.lua):
            wq-serve on a queue with sync none, then the trivial handler
            (the order alternates from round to round), then wq-serve on
            a queue with sync always (shown, no target).
  recv-ack  POST /v1/queues/Q/receive?max=1, then DELETE of its receipt
            (bench/http/recv.lua), on a queue pre-filled with --prefill
            messages by wq-send -l (sync none), beside the trivial
            handler; afterwards the queue is counted: messages acked by
            the server + messages left must make the pre-fill, and some
            must be left (the queue never ran dry).  Then, shown without a
            target, the same on the queue the send phase filled, one
            message per HTTP request ("httpfill"): its buckets are small.
  wake      bench/http/wake.c: a long-poll parked on an empty queue,
            woken by a wq_send, to the first byte of its response (and a
            GET /healthz on the same connection), beside wq-recv -w woken
            the same way (bench/wqbench wake).
Rows go to OUT/raw.tsv in the columns of ../shared/peers (round job system
config phase n seconds ops_per_s us_per_op; for latencies, seconds is the
latency), the pre-fill checks to OUT/checks.tsv, the CPU time each server
and wrk used in each run to OUT/cpu.tsv, the ratios to OUT/ratios.md.
"""
import argparse
import datetime
import importlib.util
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.join(TOP, "build")
TRIVIAL = os.path.join(BIN, "bench", "mhd-trivial")
WAKE = os.path.join(BIN, "bench", "http-wake")
WQBENCH = os.path.join(BIN, "bench", "wqbench")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _bench_run():
    """bench/run.py, for the raw.tsv reader both harnesses share (by its
    path: this script's own name is run.py too)."""
    spec = importlib.util.spec_from_file_location(
        "wq_bench_run", os.path.join(TOP, "bench", "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


load = _bench_run().load
BODY = 100


class Run:
    """The output files of a run and its round."""

    def __init__(self, a):
        self.a = a
        self.round = 0
        os.makedirs(os.path.join(a.out, "logs"), exist_ok=True)
        self.raw = open(os.path.join(a.out, "raw.tsv"), "w")
        self.raw.write("round\tjob\tsystem\tconfig\tphase\tn\tseconds\tops_per_s\tus_per_op\n")
        self.cmds = open(os.path.join(a.out, "commands.txt"), "w")
        self.checks = open(os.path.join(a.out, "checks.tsv"), "w")
        self.checks.write("round\tconfig\tsystem\tqueue\tbefore\tleft_ready\tleft_inflight\t"
                          "acked_by_server\tacked_by_wrk\treceived_by_wrk\tempty\tother\tok\n")
        self.cpu = open(os.path.join(a.out, "cpu.tsv"), "w")
        self.cpu.write("round\tsystem\tconfig\tphase\trequests\tserver_cpu_s\twrk_cpu_s\t"
                       "wall_s\tserver_us_per_request\tothers_cpu_s\n")
        self.notes = open(os.path.join(a.out, "notes.txt"), "w")
        self.last_root_delete = 0.0

    def row(self, job, system, config, phase, n, secs, latency=False):
        ops = (1 / secs) if latency else n / secs
        us = secs * 1e6 if latency else secs * 1e6 / n
        self.raw.write("%d\t%s\t%s\t%s\t%s\t%d\t%.6f\t%.0f\t%.3f\n"
                       % (self.round, job, system, config, phase, n, secs, ops, us))
        self.raw.flush()
        print("  %-12s %-24s %-14s %10.0f %s" % (system, config, phase,
              us if latency else ops, "us" if latency else "ops/s"), flush=True)

    def note(self, argv, extra=""):
        self.cmds.write("%d\t%s%s\n" % (self.round, " ".join(argv), extra))
        self.cmds.flush()


def sh(r, argv, stdin=None, check=True):
    r.note(argv, " < " + stdin if stdin else "")
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    p = subprocess.run(argv, stdin=fin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if stdin:
        fin.close()
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), p.returncode, p.stderr[-400:]))
    return p.stdout


def busy():
    """CPU seconds the whole machine was busy so far (all CPUs)."""
    with open("/proc/stat") as f:
        x = [int(v) for v in f.readline().split()[1:]]
    return (sum(x[:8]) - x[3] - x[4]) / CLK_TCK


def cpu_of(pid):
    """utime + stime of a process and all its threads, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        x = f.read().rsplit(")", 1)[1].split()
    return (int(x[11]) + int(x[12])) / CLK_TCK


class Server:
    """A server we started, stopped by its own process handle."""

    def __init__(self, r, name, argv, portfile):
        if os.path.exists(portfile):
            os.unlink(portfile)
        self.name = name
        r.note(argv)
        self.log = open(os.path.join(r.a.out, "logs", "%s-r%d.log" % (name, r.round)), "a")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=self.log)
        t = time.time()
        while not os.path.exists(portfile):
            if self.proc.poll() is not None or time.time() - t > 10:
                raise RuntimeError("%s did not start (see its log)" % name)
            time.sleep(0.02)
        with open(portfile) as f:
            self.port = int(f.read())

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def cpu(self):
        return cpu_of(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wrk(r, server, script, path, conns, config, phase):
    """One wrk run against server; the numbers of its WRK line."""
    a = r.a
    argv = ["wrk", "-t", str(a.wrk_threads), "-c", str(conns), "-d", "%ds" % a.duration,
            "--timeout", "5s", "-s", os.path.join(HERE, script), server.url(path),
            "--", str(BODY)]
    r.note(argv)
    c0 = server.cpu()
    b0 = busy()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, errs = p.stdout, p.stderr
    wall = time.perf_counter() - t0
    scpu = server.cpu() - c0
    others = busy() - b0 - scpu
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wcpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    with open(os.path.join(a.out, "logs", "wrk.log"), "a") as f:
        f.write("# round %d %s %s %s\n%s%s\n" % (r.round, server.name, config, phase, out, errs))
    m = re.search(r"^WRK (.*)$", out, re.M)
    if p.returncode != 0 or m is None:
        raise RuntimeError("wrk failed: %s %s" % (out[-300:], errs[-300:]))
    v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(1).split())}
    v["server_cpu"] = scpu
    v["wrk_cpu"] = wcpu
    v["others_cpu"] = others - wcpu
    v["wall"] = wall
    return v


def wrk_cpu_note(r, system, config, phase, v):
    r.cpu.write("%d\t%s\t%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.1f\t%.2f\n"
                % (r.round, system, config, phase, v["requests"], v["server_cpu"],
                   v["wrk_cpu"], v["wall"], v["server_cpu"] * 1e6 / max(v["requests"], 1),
                   v["others_cpu"]))
    r.cpu.flush()


def stat(r, spool, q):
    """(ready, inflight, total) of a queue, from wq-stat --json."""
    out = sh(r, [os.path.join(BIN, "wq-stat"), "-d", spool, "--json", q])
    j = json.loads(out)
    if isinstance(j, list):
        j = j[0]
    return j["ready"], j["inflight"], j["total"]


def body_file(a, n):
    path = os.path.join(a.shm, "input-%d" % n)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write((b"m" * BODY + b"\n") * n)
    return path


def quiet_wait(r, fs):
    """On the root ext4 (no journal), creating files soon after many were
    deleted is ~30x slower (../shared/BENCH.md): wait for quiet first."""
    if fs != "ext4nj":
        return
    wait = r.last_root_delete + r.a.quiet - time.time()
    if wait > 0:
        print("  (waiting %.0f s after the last mass delete on /)" % wait, flush=True)
        os.sync()
        time.sleep(wait)


def send_row(r, job, server, system, config, q, conns):
    v = wrk(r, server, "send.lua", "/v1/queues/%s/messages" % q, conns, config, "send")
    ok = v["requests"] - v["status_errors"]
    if v["status_errors"] or v["connect_errors"] or v["read_errors"] or v["timeouts"]:
        print("  !! %s %s: errors %s" % (system, config, v), flush=True)
    secs = v["duration_us"] / 1e6
    r.row(job, system, config, "send", ok, secs)
    r.row(job, system, config, "send-p50", v["requests"], v["p50_us"] / 1e6, latency=True)
    r.row(job, system, config, "send-p99", v["requests"], v["p99_us"] / 1e6, latency=True)
    wrk_cpu_note(r, system, config, "send", v)
    return ok


def recv_row(r, job, server, system, config, q, conns, spool=None):
    """One receive+ack run; for wq-serve, the queue counted before and
    after.  The row is written only if the queue did not run dry."""
    before = stat(r, spool, q)[2] if spool else None
    v = wrk(r, server, "recv.lua", "/v1/queues/%s" % q, conns, config, "recv-ack")
    ok = v["other"] == 0 and v["empty"] == 0 and v["status_errors"] == 0
    if spool:
        ready, inflight, total = stat(r, spool, q)
        acked = before - total
        # every ack the server made is gone from the queue; wrk saw all but
        # those whose answers were still on their way when it stopped
        ok = ok and ready > 0 and v["acked"] <= acked <= v["acked"] + conns \
            and inflight <= conns
        r.checks.write("%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n"
                       % (r.round, config, system, q, before, ready, inflight, acked,
                          v["acked"], v["received"], v["empty"], v["other"],
                          "ok" if ok else "NOT OK"))
        r.checks.flush()
    if not ok:
        print("  !! %s %s recv-ack: the queue ran dry or errors (%s); row left out"
              % (system, config, v), flush=True)
        return None
    secs = v["duration_us"] / 1e6
    r.row(job, system, config, "recv-ack", v["acked"], secs)
    r.row(job, system, config, "recv-ack-p50", v["requests"], v["p50_us"] / 1e6, latency=True)
    r.row(job, system, config, "recv-ack-p99", v["requests"], v["p99_us"] / 1e6, latency=True)
    wrk_cpu_note(r, system, config, "recv-ack", v)
    return v["acked"]


def fs_round(r, fs, base):
    a = r.a
    job = "http-" + fs
    spool = os.path.join(base, "wq-http-spool")
    shutil.rmtree(spool, ignore_errors=True)
    wq = lambda cmd, *args: [os.path.join(BIN, cmd), "-d", spool] + list(args)
    quiet_wait(r, fs)
    servers = []
    try:
        sh(r, wq("wq-create", "--sync", "none", "wake"))
        sh(r, wq("wq-create", "--sync", "none", "wake2"))
        wqs = Server(r, "wq-serve", [os.path.join(BIN, "wq-serve"), "-d", spool, "-l",
                                     "127.0.0.1:0", "-t", str(a.threads), "--port-file",
                                     os.path.join(a.shm, "wq-serve.port")],
                     os.path.join(a.shm, "wq-serve.port"))
        servers.append(wqs)
        triv = Server(r, "mhd-trivial", [TRIVIAL, "-t", str(a.threads), "-p",
                                         os.path.join(a.shm, "trivial.port")],
                      os.path.join(a.shm, "trivial.port"))
        servers.append(triv)
        wq_first = r.round % 2 == 1

        def pair(wq_fn, triv_fn):
            for fn in ((wq_fn, triv_fn) if wq_first else (triv_fn, wq_fn)):
                fn()

        # wake-up latency first, while the spool is small
        for argv in ([WAKE, "-d", spool, "-p", str(wqs.port), "-r", str(a.wake_runs),
                      "-t", fs, "wake"],
                     [WQBENCH, "wake", "-d", spool, "-b", BIN, "-r", str(a.wake_runs),
                      "-t", "%s:none" % fs, "wake2"]):
            if a.wake_runs <= 0:
                break
            r.note(argv)
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if p.stderr:
                r.notes.write("round %d, %s: %s: %s" % (r.round, fs, os.path.basename(argv[0]),
                                                       p.stderr))
                r.notes.flush()
            if p.returncode != 0:
                print("  !! %s failed: %s" % (os.path.basename(argv[0]), p.stderr[-300:]),
                      flush=True)
            for line in p.stdout.splitlines():
                x = line.split("\t")
                if x[0] == "RESULT":
                    r.row(job, x[1], x[2], x[3], int(x[4]), float(x[5]), latency=True)
        for c in a.conns:
            qn, qa = "send-none-c%d" % c, "send-always-c%d" % c
            sh(r, wq("wq-create", "--sync", "none", qn))
            sh(r, wq("wq-create", "--sync", "always", qa))
            pair(lambda: send_row(r, job, wqs, "wq-serve", "%s:none/c%d" % (fs, c), qn, c),
                 lambda: send_row(r, job, triv, "mhd-trivial", "%s/c%d" % (fs, c), qn, c))
            send_row(r, job, wqs, "wq-serve", "%s:always/c%d" % (fs, c), qa, c)
        for c in a.conns:
            q = "recv-c%d" % c
            sh(r, wq("wq-create", "--sync", "none", q))
            sh(r, wq("wq-send", "-q", "-l", q), stdin=body_file(a, a.prefill))
            pair(lambda: recv_row(r, job, wqs, "wq-serve", "%s:none/c%d" % (fs, c), q, c,
                                  spool),
                 lambda: recv_row(r, job, triv, "mhd-trivial", "%s/c%d" % (fs, c), q, c))
            recv_row(r, job, wqs, "wq-serve", "%s:httpfill/c%d" % (fs, c),
                     "send-none-c%d" % c, c, spool)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(spool, ignore_errors=True)
        if fs == "ext4nj":
            r.last_root_delete = time.time()

# ----------------------------------------------------------- the ratios


def per_round(rows, system, config, phase, latency=False):
    return {rnd: (s if latency else n / s) for rnd, sy, c, p, n, s in rows
            if (sy, c, p) == (system, config, phase)}


def fmt_range(v, f="%.2f"):
    return (f + "–" + f) % (min(v), max(v))


def report(path):
    rows = load(path)
    fss = [f for f in ("tmpfs", "ext4nj")
           if any(c.startswith(f + ":") for _, _, c, _, _, _ in rows)]
    conns = sorted({int(c.rsplit("/c", 1)[1]) for _, sy, c, _, _, _ in rows
                    if sy == "mhd-trivial"})
    lines = ["| target | ratio (median) | range | rounds | goal | met |",
             "|---|---:|---:|---:|---:|---|"]
    abs_lines = ["| filesystem, connections | what | wq-serve | trivial handler |",
                 "|---|---|---:|---:|"]
    for fs in fss:
        for c in conns:
            triv = "%s/c%d" % (fs, c)
            for what, cfg, phase, goal in (
                    ("send, sync none", "none", "send", 0.5),
                    ("send, sync always", "always", "send", None),
                    ("receive+ack (pre-filled by wq-send -l)", "none", "recv-ack", 0.5),
                    ("receive+ack (queue filled by HTTP sends)", "httpfill", "recv-ack", None)):
                num = per_round(rows, "wq-serve", "%s:%s/c%d" % (fs, cfg, c), phase)
                den = per_round(rows, "mhd-trivial", triv, phase)
                common = sorted(set(num) & set(den))
                if not common:
                    continue
                rs = [num[k] / den[k] for k in common]
                med = statistics.median(rs)
                g = met = ""
                if goal is not None:
                    g = "≥ %.2f" % goal
                    met = "yes" if med >= goal else "**no**"
                lines.append("| %s c%d: %s / trivial | %.2f | %s | %d | %s | %s |"
                             % (fs, c, what, med, fmt_range(rs), len(rs), g, met))
                unit = "req/s" if phase == "send" else "receive+ack/s"
                abs_lines.append("| %s c%d | %s | %s %s | %s %s |"
                                 % (fs, c, what, "{:,.0f}".format(statistics.median(
                                     num.values())), unit, "{:,.0f}".format(
                                     statistics.median(den.values())), unit))
    lat = ["| filesystem | what | median (ms) | p99 (ms) |", "|---|---|---:|---:|"]
    for fs in fss:
        for what, sy, cfg, ph in (
                ("long-poll woken by wq_send, to the first byte", "wq-serve", fs, "wake"),
                ("GET /healthz round trip, to the first byte", "wq-serve", fs, "healthz"),
                ("wq-recv -w woken by wq_send, to its output", "wq", fs + ":none", "wake")):
            med = per_round(rows, sy, cfg, ph + "-median", latency=True)
            p99 = per_round(rows, sy, cfg, ph + "-p99", latency=True)
            if med:
                lat.append("| %s | %s | %.3f (%s) | %.3f (%s) |" % (
                    fs, what, statistics.median(med.values()) * 1e3,
                    fmt_range([v * 1e3 for v in med.values()], "%.3f"),
                    statistics.median(p99.values()) * 1e3,
                    fmt_range([v * 1e3 for v in p99.values()], "%.3f")))
    cpu_lines = []
    cpu_path = os.path.join(os.path.dirname(path), "cpu.tsv")
    if os.path.exists(cpu_path):
        per = {}
        cost = {}   # (round, system, config, phase): server + wrk CPU s per request
        with open(cpu_path) as f:
            for line in f:
                x = line.rstrip("\n").split("\t")
                if x[0] == "round":
                    continue
                cost[(int(x[0]), x[1], x[2], x[3])] = (float(x[5]) + float(x[6])) / int(x[4])
                key = (x[1], x[2], x[3])
                per.setdefault(key, []).append((float(x[5]), float(x[7]), int(x[4]),
                                                float(x[6]), float(x[9])))
        ncpu = os.cpu_count() or 2
        cpu_lines = ["| system | config | phase | server CPU µs per request | "
                     "server's share of the CPUs | wrk's share | other processes' share |",
                     "|---|---|---|---:|---:|---:|---:|"]
        for (sy, cfg, ph), v in sorted(per.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
            cpu_lines.append("| %s | %s | %s | %.0f | %.0f %% | %.0f %% | %.0f %% |" % (
                sy, cfg, ph, statistics.median(s * 1e6 / n for s, w, n, k, o in v),
                statistics.median(s / w / ncpu * 100 for s, w, n, k, o in v),
                statistics.median(k / w / ncpu * 100 for s, w, n, k, o in v),
                statistics.median(o / w / ncpu * 100 for s, w, n, k, o in v)))
    text = ("\n".join(lines) + "\n\nMedians over rounds:\n\n" + "\n".join(abs_lines)
            + "\n\nLatency, median over rounds of each round's median and p99 "
            "(range over rounds in brackets):\n\n" + "\n".join(lat) + "\n")
    if cpu_lines:
        est = ["| what | ratio (median) | range | rounds |", "|---|---:|---:|---:|"]
        for fs in fss:
            for c in conns:
                for what, cfg, phase in (
                        ("send, sync none", "none", "send"),
                        ("send, sync always", "always", "send"),
                        ("receive+ack (pre-filled by wq-send -l)", "none", "recv-ack"),
                        ("receive+ack (queue filled by HTTP sends)", "httpfill", "recv-ack")):
                    rs = [cost[(k[0], "mhd-trivial", "%s/c%d" % (fs, c), phase)] / v
                          for k, v in cost.items()
                          if k[1:] == ("wq-serve", "%s:%s/c%d" % (fs, cfg, c), phase)
                          and (k[0], "mhd-trivial", "%s/c%d" % (fs, c), phase) in cost]
                    if rs:
                        est.append("| %s c%d: %s / trivial | %.2f | %s | %d |"
                                   % (fs, c, what, statistics.median(rs), fmt_range(rs),
                                      len(rs)))
        text += ("\nThe same ratios from CPU time instead of wall-clock time (the "
                 "trivial handler's server + wrk CPU time per request over wq-serve's, "
                 "per round): what the throughput ratio would be if the server and wrk "
                 "had the CPUs to themselves; other processes' load, which moves the "
                 "figures above, leaves these alone. An estimate, not the target's "
                 "definition:\n\n" + "\n".join(est) + "\n")
        text += ("\nCPU time during each run (utime + stime of the server and of wrk, "
                 "the rest of /proc/stat's busy time for other processes; median over "
                 "rounds; all share the same CPUs):\n\n"
                 + "\n".join(cpu_lines) + "\n")
    checks = os.path.join(os.path.dirname(path), "checks.tsv")
    if os.path.exists(checks):
        bad = [line.split("\t") for line in open(checks)
               if line.rstrip("\n").endswith("NOT OK")]
        if bad:
            text += ("\nLeft out (the queue ran dry or answered errors; see checks.tsv):\n\n"
                     + "".join("- round %s, wq-serve %s: %s received, %s empty receives\n"
                               % (x[0], x[1], x[9], x[10]) for x in bad))
    notes = os.path.join(os.path.dirname(path), "notes.txt")
    if os.path.exists(notes) and os.path.getsize(notes) > 0:
        text += "\nNotes of the run (notes.txt):\n\n" + "".join(
            "    " + line for line in open(notes))
    with open(os.path.join(os.path.dirname(path), "ratios.md"), "w") as f:
        f.write(text)
    print(text)

# ----------------------------------------------------------- main


def pin(a):
    """Run copies of the binaries, made now: others may rebuild build/
    while the benchmark runs, and every round must measure the same."""
    global BIN, TRIVIAL, WAKE, WQBENCH
    pinned = os.path.join(a.shm, "bin")
    os.makedirs(os.path.join(pinned, "bench"), exist_ok=True)
    for name in ("wq-serve", "wq-create", "wq-send", "wq-stat", "wq-recv",
                 "bench/mhd-trivial", "bench/http-wake", "bench/wqbench"):
        shutil.copy2(os.path.join(BIN, name), os.path.join(pinned, name))
    BIN = pinned
    TRIVIAL = os.path.join(BIN, "bench", "mhd-trivial")
    WAKE = os.path.join(BIN, "bench", "http-wake")
    WQBENCH = os.path.join(BIN, "bench", "wqbench")


def env_report(a):
    lines = []
    for c in ["date -u", "uname -a", "nproc", "grep -m1 'model name' /proc/cpuinfo", "free -g",
              "mount | grep -E ' / | /dev/shm '", "wrk -v 2>&1 | head -1",
              "pkg-config --modversion libmicrohttpd", BIN + "/wq-serve -V",
              "git -C %s rev-parse HEAD" % TOP,
              "git -C %s diff --stat -- serve lib include" % TOP,
              "ls -l --time-style=full-iso %s/wq-serve %s/libwq.a" % (os.path.join(TOP, "build"),
                                                                     os.path.join(TOP, "build")),
              "sha256sum %s/wq-serve %s/bench/mhd-trivial" % (BIN, BIN),
              "cat /proc/loadavg", "ps -eo pcpu,comm --sort=-pcpu | head -8"]:
        p = subprocess.run(c, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        lines.append("$ %s\n%s" % (c, p.stdout))
    lines.append("wrk: -t %d, %d s per run, connections %s; servers: -t %d threads; "
                 "pre-fill %d; rounds %d\n" % (a.wrk_threads, a.duration, a.conns, a.threads,
                                               a.prefill, a.rounds))
    with open(os.path.join(a.out, "env.txt"), "a") as f:
        f.write("\n".join(lines))


def parse():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    cpus = os.cpu_count() or 2
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    ap.add_argument("--conns", default="16,64", help="wrk connections (16,64)")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--threads", type=int, default=max(2, cpus),
                    help="threads of both servers (wq-serve's default: the CPUs, at least 2)")
    ap.add_argument("--prefill", type=int, default=100000,
                    help="messages pre-filled for receive+ack (100000)")
    ap.add_argument("--wake-runs", type=int, default=200)
    ap.add_argument("--fs", default="tmpfs,ext4nj", help="spool filesystems (tmpfs,ext4nj)")
    ap.add_argument("--quiet", type=float, default=62,
                    help="seconds after a mass delete on / before sending there (62)")
    ap.add_argument("--data", default="/tmp/http-bench", help="spool base on / (ext4nj)")
    ap.add_argument("--shm", default="/dev/shm/http-bench", help="spool base on tmpfs")
    ap.add_argument("--out", default=None, help="results (bench/results/http-<time>)")
    ap.add_argument("--report", metavar="RAW.tsv", help="only print the ratios of a run")
    a = ap.parse_args()
    a.conns = [int(x) for x in a.conns.split(",")]
    a.fs = a.fs.split(",")
    a.out = a.out or os.path.join(TOP, "bench", "results", "http-" +
                                  datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    return a


def on_term(sig, frame):
    raise KeyboardInterrupt("signal %d" % sig)


def main():
    signal.signal(signal.SIGTERM, on_term)
    a = parse()
    if a.report:
        report(a.report)
        return
    for p in (TRIVIAL, WAKE, WQBENCH, os.path.join(BIN, "wq-serve")):
        if not os.access(p, os.X_OK):
            sys.exit("bench/http/run.py: %s missing: run make bench-http" % p)
    if shutil.which("wrk") is None:
        sys.exit("bench/http/run.py: wrk not found (apt-get install wrk)")
    bases = {"tmpfs": a.shm, "ext4nj": a.data}
    for d in (a.out, a.data, a.shm):
        os.makedirs(d, exist_ok=True)
    pin(a)
    env_report(a)
    r = Run(a)
    print("results: %s   rounds: %d" % (a.out, a.rounds), flush=True)
    t0 = time.time()
    try:
        for rnd in range(1, a.rounds + 1):
            r.round = rnd
            # ext4nj first: the tmpfs part of the previous round kept /
            # quiet after its mass delete
            for fs in sorted(a.fs, key=lambda f: f != "ext4nj"):
                print("[round %d, %4.0f s] %s" % (rnd, time.time() - t0, fs), flush=True)
                try:
                    fs_round(r, fs, bases[fs])
                except RuntimeError as err:
                    print("  !! %s: %s" % (fs, err), flush=True)
    finally:
        shutil.rmtree(a.shm, ignore_errors=True)
        shutil.rmtree(a.data, ignore_errors=True)
        with open(os.path.join(a.out, "env.txt"), "a") as f:
            f.write("\n$ cat /proc/loadavg  (at the end)\n%s" % open("/proc/loadavg").read())
    r.raw.close()
    r.cpu.close()
    r.notes.close()
    report(os.path.join(a.out, "raw.tsv"))
    print("rows: %s" % os.path.join(a.out, "raw.tsv"))


if __name__ == "__main__":
    main()

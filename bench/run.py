#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/run.py - wq beside the filesystem floor and the peers, in one run.

make bench runs this.  It takes the harness of ../shared/peers (run_all.py:
the floor fsbench, python-dirq, beanstalkd, Redis, SQLite, the cost of one
exec) and adds wq's own jobs to the same rounds, on the same filesystems
(tmpfs, the root ext4 without a journal, a journaled ext4 loop image), in
the same schedule (jobs that create many files on / start only a while
after the last mass delete there; see ../shared/peers/README.md).  Every
measured phase is one row of OUT/raw.tsv; at the end the ratios that
../shared/BENCH.md sets as targets are computed per round (numerator and
denominator measured side by side) and printed, median and range, into
OUT/ratios.md as well.

wq's jobs (config FS:SYNC-SIZE, e.g. tmpfs:none-100):
  wq-FS-SYNC-SIZE  enqueue        wq-send -q -l of N messages (fresh state)
                   dequeue        wq-recv -n N -l > /dev/null
                   enqueue-lib    the same through libwq (bench/wqbench loop)
                   dequeue-lib    claim + read + ack through libwq
                   dequeue-follow wq-recv -f -l, until N lines came out
                   dequeue-exec   wq-recv -n E QUEUE -- /bin/true  (-j 1, 2)
  wq-2p2c-FS       2p2c           2 producers and 2 consumers at once
  wq-wake-FS       wake-median, wake-p99: a message sent while wq-recv -w
                   waits, until it is out of wq-recv (and a pipe to cat)
  wq-oneshot-FS    one call of each command, beside touch and /bin/true
  wq-depth-FS      claims at depth 10, 10k, 100k and 1M (bench/depth.c)
and, for the 64 KiB rows, the floor with -s 65536 (fs-FS-none-p1-64k).
"""
import argparse
import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BIN = os.path.join(TOP, "build")
FSDIRS = ("ext4nj", "ext4j", "tmpfs")
SIZES = {"100": 100, "64k": 65536}

# ----------------------------------------------------------- wq's jobs


def body_file(a, size, n):
    """A file of n lines of size bytes (plus the newline), made once, on
    tmpfs: on / its writeback would compete with the sends it feeds."""
    path = os.path.join(a.shm, "input-%d-%d" % (size, n))
    if not os.path.exists(path):
        line = (b"m" * size) + b"\n"
        with open(path, "wb") as f:
            for _ in range(n):
                f.write(line)
    return path


def result(r, job, config, phase, n, secs):
    r.raw.write("%d\t%s\twq\t%s\t%s\t%d\t%.6f\t%.0f\t%.3f\n"
                % (r.round, job, config, phase, n, secs, n / secs, secs * 1e6 / n))
    r.raw.flush()
    print("  %-12s %-34s %-18s %10.0f ops/s %10.3f us/op"
          % ("wq", config, phase, n / secs, secs * 1e6 / n), flush=True)


def timed(r, job, argv, stdin=None, stdout=subprocess.DEVNULL):
    """Run argv, noted in commands.txt; its wall-clock time."""
    r.cmds.write("%d\t%s\t%s%s\n" % (r.round, job, " ".join(argv),
                                     " < " + stdin if stdin else ""))
    r.cmds.flush()
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    t = time.perf_counter()
    p = subprocess.run(argv, stdin=fin, stdout=stdout, stderr=subprocess.PIPE)
    secs = time.perf_counter() - t
    if stdin:
        fin.close()
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                                p.stderr.decode()[-300:]))
    return secs


def follow(r, job, spool, n):
    """wq-recv -f until n lines are out; the time to the last one."""
    argv = [os.path.join(BIN, "wq-recv"), "-d", spool, "-f", "-l", "q"]
    r.cmds.write("%d\t%s\t%s  (until %d lines)\n" % (r.round, job, " ".join(argv), n))
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, bufsize=1 << 20)
    got = 0
    for _ in p.stdout:
        got += 1
        if got == n:
            break
    secs = time.perf_counter() - t
    p.terminate()
    p.wait()
    if got != n:
        raise RuntimeError("wq-recv -f gave %d lines of %d" % (got, n))
    return secs


def wq_pipe_job(a, fs, base, sync, size):
    big = size != "100"
    n = a.n_big if big else a.n
    if sync == "always":
        n = min(n, a.n_durable if not big else a.n_durable // 5)
    config = "%s:%s-%s" % (fs, sync, size)
    job = "wq-%s-%s-%s" % (fs, sync, size)

    def fn(r):
        spool = os.path.join(base, "wq-spool")
        shutil.rmtree(spool, ignore_errors=True)
        data = body_file(a, SIZES[size], n)
        wq = lambda cmd, *args: [os.path.join(BIN, cmd), "-d", spool] + list(args)
        bench = os.path.join(BIN, "bench", "wqbench")
        try:
            timed(r, job, wq("wq-create", "--sync", sync, "--max-size",
                             str(1 << 20), "q"))
            result(r, job, config, "enqueue", n,
                   timed(r, job, wq("wq-send", "-q", "-l", "q"), stdin=data))
            result(r, job, config, "dequeue", n,
                   timed(r, job, wq("wq-recv", "-n", str(n), "-l", "q")))
            r.run(job, [bench, "loop", "-d", spool, "-n", str(n), "-s",
                        str(SIZES[size]), "-t", config, "q"])
            timed(r, job, wq("wq-send", "-q", "-l", "q"), stdin=data)
            result(r, job, config, "dequeue-follow", n, follow(r, job, spool, n))
            if not big and sync == "none":
                ne = a.n_exec
                edata = body_file(a, 100, ne)
                for j in ("1", "2"):
                    timed(r, job, wq("wq-send", "-q", "-l", "q"), stdin=edata)
                    result(r, job, config, "dequeue-exec-j" + j, ne,
                           timed(r, job, wq("wq-recv", "-n", str(ne), "-j", j, "q",
                                            "--", "/bin/true")))
        except RuntimeError as err:
            print("  !! %s: %s" % (job, err), flush=True)
        finally:
            shutil.rmtree(spool, ignore_errors=True)
    root = fs == "ext4nj"
    return (job, root, root, fn)


def wq_single_jobs(a, fs, base):
    """2p2c, wake-up latency, one-shot calls and depth on one filesystem."""
    bench = os.path.join(BIN, "bench", "wqbench")
    jobs = []

    def queue_job(name, mode, argv_fn):
        def fn(r):
            spool = os.path.join(base, "wq-" + name)
            shutil.rmtree(spool, ignore_errors=True)
            subprocess.run([os.path.join(BIN, "wq-create"), "-d", spool, "--sync",
                            "none", "q"], check=True)
            r.run("wq-%s-%s" % (name, fs), [bench, mode, "-d", spool] + argv_fn() +
                  ["-t", "%s:none" % fs, "q"])
            shutil.rmtree(spool, ignore_errors=True)
        return fn
    root = fs == "ext4nj"
    jobs.append(("wq-2p2c-" + fs, root, root,
                 queue_job("2p2c", "mpmc", lambda: ["-n", str(a.n)])))
    # the send it times creates a file: on / only when that is fresh
    jobs.append(("wq-wake-" + fs, root, False,
                 queue_job("wake", "wake", lambda: ["-b", BIN, "-r", str(a.wake_runs)])))
    jobs.append(("wq-oneshot-" + fs, False, False,
                 queue_job("oneshot", "oneshot", lambda: ["-b", BIN, "-r",
                                                          str(a.oneshot_runs)])))
    if fs in a.depth_fs:
        def depth(r):
            # kept across rounds (topped up), removed at the end
            r.run("wq-depth-" + fs, [os.path.join(BIN, "bench", "depth"), "-r", "1",
                                     "-t", fs, os.path.join(base, "wq-depth"), BIN]
                  + [str(d) for d in a.depths])
        jobs.append(("wq-depth-" + fs, False, False, depth))
    return jobs


def floor_big_job(run_all, fs, base, a):
    job = "fs-%s-none-p1-64k" % fs

    def fn(r):
        d = os.path.join(base, "spool-64k")
        shutil.rmtree(d, ignore_errors=True)
        r.run(job, [os.path.join(run_all.BUILD, "fsbench"), "pipeline", d, "-f", fs,
                    "-t", "none-p1-64k", "-n", str(a.n_big), "-s", "65536", "-c", "1"])
        shutil.rmtree(d, ignore_errors=True)
    root = fs == "ext4nj"
    return (job, root, root, fn)


def wq_jobs(a, run_all):
    bases = {"ext4nj": a.data, "tmpfs": a.shm}
    if a.loop:
        bases["ext4j"] = a.loopmnt
    jobs = []
    for fs, base in bases.items():
        syncs = ("none",) if fs == "tmpfs" else ("none", "batch", "always")
        for sync in syncs:
            for size in SIZES:
                # each job creating files on / waits a minute after the
                # last mass delete: 64 KiB bodies only on the others
                if size == "100" or fs != "ext4nj":
                    jobs.append(wq_pipe_job(a, fs, base, sync, size))
        jobs += wq_single_jobs(a, fs, base)
        jobs.append(floor_big_job(run_all, fs, base, a))
    return jobs

# ----------------------------------------------------------- the ratios


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            x = line.rstrip("\n").split("\t")
            if x[0] == "round" or len(x) < 9:
                continue
            rows.append((int(x[0]), x[2], x[3], x[4], int(x[5]), float(x[6])))
    return rows


def add_derived_rows(path):
    """The floor's dequeue (claim + read + ack of the same run) and cycle
    (enqueue too) as rows of their own, once per round and config."""
    rows = load(path)
    done = {(r[0], r[2]) for r in rows if r[1] == "fsbench" and r[3] == "dequeue"}
    secs = {}
    for rnd, system, config, phase, n, s in rows:
        if system == "fsbench" and phase in ("enqueue", "claim", "read", "ack"):
            secs.setdefault((rnd, config, n), {})[phase] = s
    with open(path, "a") as f:
        for (rnd, config, n), ph in sorted(secs.items()):
            if len(ph) != 4 or (rnd, config) in done:
                continue
            deq = ph["claim"] + ph["read"] + ph["ack"]
            for phase, s in (("dequeue", deq), ("cycle", deq + ph["enqueue"])):
                f.write("%d\tderived\tfsbench\t%s\t%s\t%d\t%.6f\t%.0f\t%.3f\n"
                        % (rnd, config, phase, n, s, n / s, s * 1e6 / n))


def ops(rows, key):
    """ops/s per round of the row system|config|phase; us/op for latencies."""
    out = {}
    for rnd, system, config, phase, n, s in rows:
        if "%s|%s|%s" % (system, config, phase) == key:
            out[rnd] = n / s
    return out


def ratio(rows, num, den, cost=False):
    """Per round: ops/s of num over ops/s of den, or for a cost the time of
    num over the time of den; the median, min, max and count."""
    a, b = ops(rows, num), ops(rows, den)
    common = sorted(set(a) & set(b))
    if not common:
        return None
    rs = [(b[k] / a[k]) if cost else (a[k] / b[k]) for k in common]
    return statistics.median(rs), min(rs), max(rs), len(rs)


def targets(fs_list):
    """(what, numerator, denominator, goal, cost?) per target: the ratio
    of throughputs must be at least goal, or for a cost the ratio of times
    at most goal; None: shown, no target."""
    t = []
    for fs in fs_list:
        floor = "fsbench|%s:none-p1/c1|" % fs
        dirq = "dirq|%s:simple|" % fs
        t += [
            ("%s: wq-send -l, sync none / floor enqueue" % fs,
             "wq|%s:none-100|enqueue" % fs, floor + "enqueue", 0.7, False),
            ("%s: libwq loop enqueue / floor enqueue" % fs,
             "wq|%s:none-100|enqueue-lib" % fs, floor + "enqueue", 0.7, False),
            ("%s: wq-send -l / python-dirq enqueue" % fs,
             "wq|%s:none-100|enqueue" % fs, dirq + "enqueue", 2.0, False),
            ("%s: wq-recv -n / floor claim+read+ack" % fs,
             "wq|%s:none-100|dequeue" % fs, floor + "dequeue", 0.7, False),
            ("%s: wq-recv -f / floor claim+read+ack" % fs,
             "wq|%s:none-100|dequeue-follow" % fs, floor + "dequeue", 0.7, False),
            ("%s: libwq loop dequeue / floor claim+read+ack" % fs,
             "wq|%s:none-100|dequeue-lib" % fs, floor + "dequeue", 0.7, False),
            ("%s: wq-recv -n / python-dirq dequeue" % fs,
             "wq|%s:none-100|dequeue" % fs, dirq + "dequeue-c1", 2.0, False),
            ("%s: 64 KiB wq-send -l / floor enqueue" % fs,
             "wq|%s:none-64k|enqueue" % fs, "fsbench|%s:none-p1-64k/c1|enqueue" % fs,
             0.7, False),
            ("%s: 64 KiB wq-recv -n / floor claim+read+ack" % fs,
             "wq|%s:none-64k|dequeue" % fs, "fsbench|%s:none-p1-64k/c1|dequeue" % fs,
             0.7, False),
            ("%s: exec mode (-j 1) / floor claim+read+ack + one /bin/true" % fs,
             "wq|%s:none-100|dequeue-exec-j1" % fs, "derived|%s:exec-floor|dequeue-exec" % fs,
             0.7, False),
            ("%s: time of one wq-send call / touch" % fs,
             "wq|%s:none|wq-send" % fs, "wq|%s:none|touch" % fs, 1.5, True),
            ("%s: 2 producers + 2 consumers / floor cycle with 2 processes" % fs,
             "wq|%s:none|2p2c" % fs, "fsbench|%s:none-p2/c1|cycle" % fs, None, False),
        ]
        if fs != "tmpfs":
            t += [
                ("%s: wq-send -l, sync batch / floor enqueue (no sync)" % fs,
                 "wq|%s:batch-100|enqueue" % fs, floor + "enqueue", 0.7, False),
                ("%s: wq-send -l, sync batch / floor group commit (syncfs)" % fs,
                 "wq|%s:batch-100|enqueue" % fs, "fsbench|%s:batchsyncfs-p1/c1|enqueue" % fs,
                 None, False),
                ("%s: wq-send -l, sync batch / beanstalkd binlog" % fs,
                 "wq|%s:batch-100|enqueue" % fs, "beanstalkd|binlog-f50-w1|put", 1.0, False),
                ("%s: wq-send -l, sync batch / beanstalkd binlog, pipelined" % fs,
                 "wq|%s:batch-100|enqueue" % fs, "beanstalkd|binlog-f50-w100|put", 1.0, False),
                ("%s: wq-send -l, sync batch / beanstalkd fsync each" % fs,
                 "wq|%s:batch-100|enqueue" % fs, "beanstalkd|binlog-f0-w1|put", 10.0, False),
                ("%s: wq-send -l, sync batch / Redis AOF always" % fs,
                 "wq|%s:batch-100|enqueue" % fs, "redis|aof-always-w1|lpush", 10.0, False),
                ("%s: wq-send -l, sync always / floor fsync each" % fs,
                 "wq|%s:always-100|enqueue" % fs, "fsbench|%s:always-p1/c1|enqueue" % fs,
                 None, False),
            ]
        for d in ("1000000",):
            for ph in ("claim-stream", "claim-oneshot"):
                t.append(("%s: time of %s at depth 1M / depth 10" % (fs, ph),
                          "wq|%s:depth=%s|%s" % (fs, d, ph), "wq|%s:depth=10|%s" % (fs, ph),
                          1.5, True))
    return t


def exec_floor(rows):
    """The floor of exec mode, per round and filesystem: the floor's
    claim + read + ack plus one spawn of /bin/true (wqbench oneshot)."""
    us = {}
    for rnd, system, config, phase, n, s in rows:
        fs = config.split(":")[0]
        if system == "fsbench" and config.endswith(":none-p1/c1") and phase == "dequeue":
            us.setdefault((rnd, fs), {})["deq"] = s * 1e6 / n
        elif system == "wq" and config == fs + ":none" and phase == "bin-true":
            us.setdefault((rnd, fs), {})["exec"] = s * 1e6
    return [(rnd, "derived", fs + ":exec-floor", "dequeue-exec", 1,
             (v["deq"] + v["exec"]) / 1e6)
            for (rnd, fs), v in us.items() if len(v) == 2]


def report(path, fs_list):
    rows = load(path)
    rows += exec_floor(rows)
    lines = ["| target | ratio (median) | range | rounds | goal | met |",
             "|---|---:|---:|---:|---:|---|"]
    for what, num, den, goal, cost in targets(fs_list):
        r = ratio(rows, num, den, cost)
        if r is None:
            continue
        g = met = ""
        if goal is not None:
            g = ("≤ %.2f" if cost else "≥ %.2f") % goal
            met = "yes" if (r[0] <= goal if cost else r[0] >= goal) else "**no**"
        lines.append("| %s | %.2f | %.2f–%.2f | %d | %s | %s |"
                     % (what, r[0], r[1], r[2], r[3], g, met))
    lines += ["", "| latency | median of rounds | goal |", "|---|---:|---:|"]
    for fs in fs_list:
        for ph in ("wake-median", "wake-p99", "wake-pipe-median"):
            v = [s * 1e6 for rnd, sy, c, p, n, s in rows
                 if sy == "wq" and c == "%s:none" % fs and p == ph]
            if v:
                lines.append("| %s %s | %.0f µs | %s |" % (fs, ph, statistics.median(v),
                                                         "≤ 1000 µs" if ph == "wake-median"
                                                         else ""))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(os.path.dirname(path), "ratios.md"), "w") as f:
        f.write(text)
    print(text)

# ----------------------------------------------------------- main


def parse():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", type=int, default=100000, help="messages per phase (100000)")
    ap.add_argument("--n-durable", type=int, default=10000,
                    help="messages for fsync-per-message phases (10000)")
    ap.add_argument("--n-big", type=int, default=10000, help="64 KiB messages per phase")
    ap.add_argument("--n-exec", type=int, default=2000, help="messages for exec mode")
    ap.add_argument("--wake-runs", type=int, default=300)
    ap.add_argument("--oneshot-runs", type=int, default=300)
    ap.add_argument("--depths", default="10,10000,100000,1000000")
    ap.add_argument("--depth-fs", default="tmpfs,ext4j",
                    help="filesystems of the depth job (tmpfs,ext4j)")
    ap.add_argument("--quiet", type=float, default=62)
    ap.add_argument("--data", default="/tmp/peers-bench")
    ap.add_argument("--shm", default="/dev/shm/peers-bench")
    ap.add_argument("--out", default=None, help="results (bench/results/<time>)")
    ap.add_argument("--only", default=None, help="regex: run only matching jobs")
    ap.add_argument("--skip", default="^readdir|recycle",
                    help="regex: skip matching jobs (^readdir|recycle)")
    ap.add_argument("--no-loop", dest="loop", action="store_false")
    ap.add_argument("--peers", default=os.environ.get(
        "WQ_PEERS", os.path.join(TOP, "..", "shared", "peers")),
        help="the peers' harness ($WQ_PEERS, else ../shared/peers)")
    ap.add_argument("--report", metavar="RAW.tsv", help="only print the ratios of a run")
    a = ap.parse_args()
    a.depths = [int(x) for x in a.depths.split(",")]
    a.depth_fs = a.depth_fs.split(",")
    a.readdir_sizes = [10]
    a.windows = [1, 100]
    a.keep = False
    a.out = a.out or os.path.join(HERE, "results",
                                  datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    a.loopmnt = os.path.join(a.data, "ext4j")
    return a


def schedule(r, a, jobs):
    """run_all.py's order: quiet jobs only long enough after a mass delete."""
    t0 = time.time()
    for rnd in range(1, a.rounds + 1):
        r.round = rnd
        quiet = [j for j in jobs if (j[1]() if callable(j[1]) else j[1])]
        other = [j for j in jobs if j not in quiet]
        quiet_jobs = list(quiet)
        if rnd % 2 == 0:
            other.reverse()
        while quiet or other:
            wait = r.last_root_delete + a.quiet - time.time()
            if quiet and wait <= 0:
                job = quiet.pop(0)
            elif other:
                job = other.pop(0)
            else:
                os.sync()
                time.sleep(min(wait, 5))
                continue
            print("[round %d, %4.0f s] %s" % (rnd, time.time() - t0, job[0]), flush=True)
            job[3](r)
            if job in quiet_jobs:
                os.sync()
            if job[2]:
                r.last_root_delete = time.time()


def main():
    a = parse()
    if a.report:
        add_derived_rows(a.report)
        report(a.report, FSDIRS)
        return
    if not os.path.exists(os.path.join(a.peers, "run_all.py")):
        sys.exit("bench/run.py: no peers' harness in %s (set WQ_PEERS)" % a.peers)
    sys.path.insert(0, os.path.abspath(a.peers))
    import run_all
    for d in (a.out, a.data, a.shm):
        os.makedirs(d, exist_ok=True)
    subprocess.run(["make", "-s", "-C", a.peers], check=True)
    if a.loop:
        try:
            run_all.setup_loop(a)
        except Exception as e:  # no loop devices: go on without ext4j
            print("no journaled ext4 loop fs (%s); going on without it" % e)
            a.loop = False
    run_all.env_report(a)
    jobs = (run_all.fs_jobs(a) + run_all.dirq_jobs(a) + run_all.beanstalkd_jobs(a)
            + run_all.redis_jobs(a) + run_all.sqlite_jobs(a) + run_all.spawn_jobs(a)
            + run_all.oneshot_jobs(a) + wq_jobs(a, run_all))
    if a.only:
        jobs = [j for j in jobs if re.search(a.only, j[0])]
    if a.skip:
        jobs = [j for j in jobs if not re.search(a.skip, j[0])]
    print("results: %s   jobs: %d   rounds: %d" % (a.out, len(jobs), a.rounds), flush=True)
    r = run_all.Runner(a)
    try:
        schedule(r, a, jobs)
    finally:
        for base in (a.data, a.shm):
            shutil.rmtree(os.path.join(base, "wq-depth"), ignore_errors=True)
        if a.loop:
            run_all.teardown_loop(a)
        shutil.rmtree(a.shm, ignore_errors=True)
    raw = os.path.join(a.out, "raw.tsv")
    add_derived_rows(raw)
    report(raw, FSDIRS)
    print("rows: %s; medians: %s %s" % (raw, os.path.join(a.peers, "summarize.py"), raw))


if __name__ == "__main__":
    main()

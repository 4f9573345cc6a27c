#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark model_fetch's staging against curl and sha256sum on one loopback mirror.

    .venv/bin/python benchmarks/weights_staging.py [--size-mib 512] [--files 2] [--rounds 9]

Serves N random files through the Hub double (tests/doubles/hf_hub_double.py: Hub API + CDN
redirect, sendfile bodies) and prints:

1. staging throughput (listing + download + sha256 verification + fsync + rename, ``parallel`` =
   number of files) vs ``curl -L`` of the same URLs (one curl per file, run concurrently, no
   verification, no fsync). Goal: ratio >= 0.95. ``--rounds`` rounds run one curl and one staging
   each, in alternating order; printed: median throughputs with their range, and the median and
   range of the per-round ratios (one pair of runs sees the same host noise).
2. bytes sent again after a connection cut at ~50% of the first file and a re-run. Goal: <= 1%.
3. verification throughput of the staged files (``hash_file``, the path a re-verify takes) vs
   ``sha256sum`` of the same files, both warm in the page cache. Goal: ratio >= 0.9.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "collections"))
sys.path.insert(0, str(ROOT / "tests" / "doubles"))

from ansible_collections.onprem.llm.plugins.module_utils.weights import download as dl  # noqa: E402
from ansible_collections.onprem.llm.plugins.module_utils.weights import sources  # noqa: E402
from hf_hub_double import HubDouble  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30


def make_files(root, n, size):
    root.mkdir(parents=True)
    block = os.urandom(16 * MiB)
    for i in range(n):
        with open(root / ("model-%05d-of-%05d.safetensors" % (i + 1, n)), "wb") as f:
            left = size
            while left:
                # vary each block so files do not deduplicate
                chunk = block[: min(left, len(block))]
                f.write(bytes([i, left & 0xFF]) + chunk[2:])
                left -= len(chunk)


def stage(hub, dest, parallel, retries=5):
    commit, specs = sources.hf_listing("bench/model", endpoint=hub.url, token=False)
    transport = dl.HttpTransport(dl.build_opener(), timeout=30)
    stager = dl.Stager(str(dest), transport, parallel=parallel, retries=retries, revision=commit,
                       status_file=str(dest / dl.STATUS_FILE), sleep=lambda s: None)
    return stager.run(specs), specs


def cpu_seconds():
    """User + system CPU of this process (the double's threads and the stager) and its children (curl)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, cpu=None):
    os.sync()  # start each run without the previous run's dirty pages being written back
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - t0
    if cpu is not None:
        cpu.append(cpu_seconds() - c0)
    return elapsed


def best_of(n, fn):
    return min(timed(fn) for _run in range(n))


def median(values):
    return statistics.median(values)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each verify contender (best of)")
    ap.add_argument("--rounds", type=int, default=9, help="interleaved staging / curl rounds")
    ap.add_argument("--only-throughput", action="store_true", help="stop after the staging vs curl part")
    ap.add_argument("--workdir", default=None,
                    help="where to put files (default: $TMPDIR); /dev/shm takes the disk out of the comparison")
    args = ap.parse_args()
    size = args.size_mib * MiB
    total = size * args.files
    tmp = Path(tempfile.mkdtemp(prefix="weights-bench-", dir=args.workdir))
    hub = None
    try:
        src = tmp / "src"
        make_files(src, args.files, size)
        hub = HubDouble()
        hub.add_repo("bench/model", str(src))
        hub.start()
        _commit, specs = sources.hf_listing("bench/model", endpoint=hub.url, token=False)
        urls = [s["url"] for s in specs]

        # 1. throughput vs curl ------------------------------------------------------------
        def run_curl():
            out = tmp / "curl"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            procs = [subprocess.Popen(["curl", "-sSfL", "--noproxy", "*", "-o", str(out / ("f%d" % i)), u])
                     for i, u in enumerate(urls)]
            for p in procs:
                if p.wait() != 0:
                    raise SystemExit("curl failed")

        def run_stage():
            dest = tmp / "dest"
            shutil.rmtree(dest, ignore_errors=True)
            stage(hub, dest, parallel=args.files)

        run_curl()  # warm-up: page cache of the sources, the double's code paths
        run_stage()
        load_before = loadavg()
        t_curl, t_stage, c_curl, c_stage = [], [], [], []
        for rnd in range(args.rounds):
            # interleaved, and in alternating order, so host noise and writeback left over from the
            # previous run hit both alike; the ratio is taken per round, then the median of rounds
            order = [(t_curl, c_curl, run_curl), (t_stage, c_stage, run_stage)]
            for times, cpu, fn in (order if rnd % 2 == 0 else order[::-1]):
                times.append(timed(fn, cpu))
        shutil.rmtree(tmp / "curl", ignore_errors=True)
        shutil.rmtree(tmp / "dest", ignore_errors=True)
        ratios = sorted(c / s for c, s in zip(t_curl, t_stage))
        print("files: %d x %d MiB on loopback (Hub double, CDN redirect, sendfile), in %s; %d interleaved rounds;"
              " load average %s before, %s after" % (args.files, args.size_mib, tmp, args.rounds, load_before, loadavg()))
        print("1. staging  %7.1f MiB/s median, %.1f..%.1f (listing + download + sha256 + fsync + rename, parallel=%d)"
              % (total / MiB / median(t_stage), total / MiB / max(t_stage), total / MiB / min(t_stage), args.files))
        print("   curl     %7.1f MiB/s median, %.1f..%.1f (download only, %d concurrent curls)"
              % (total / MiB / median(t_curl), total / MiB / max(t_curl), total / MiB / min(t_curl), args.files))
        print("   ratio    %7.3f  median of per-round ratios, spread %.3f..%.3f (goal >= 0.95)"
              % (median(ratios), ratios[0], ratios[-1]))
        print("   cpu      staging %.2f s, curl %.2f s per GiB (median; user + system of the benchmark process, which"
              " also serves, and of the curls; kernel write-back threads not included)"
              % (median(c_stage) * GiB / total, median(c_curl) * GiB / total))
        if args.only_throughput:
            return

        # 2. resume after a cut at ~50% ------------------------------------------------------
        dest = tmp / "resume"
        first = specs[0]["path"]
        hub.reset_counters()
        hub.cut_after[first] = size // 2
        try:
            stage(hub, dest, parallel=args.files, retries=0)
        except dl.FetchError:
            pass
        (results, _warnings), _specs = stage(hub, dest, parallel=args.files)
        sent = hub.body_bytes[first]
        resent = sent - size
        r = {x["path"]: x for x in results}[first]
        print("2. cut at 50%% of %s, re-run: action=%s resumed_from=%d; bytes sent for it %d, re-sent %d (%.3f%%, goal <= 1%%)"
              % (first, r["action"], r["resumed_from"], sent, resent, 100.0 * resent / size))

        # 3. verify vs sha256sum ----------------------------------------------------------------
        paths = [str(dest / s["path"]) for s in specs]
        for p in paths:  # warm the page cache for both contenders
            dl.hash_file(p, size)

        def run_verify():
            with ThreadPoolExecutor(len(paths)) as pool:
                digests = list(pool.map(lambda p: dl.hash_file(p, size)[0], paths))
            assert digests == [s["sha256"] for s in specs]

        def run_sha256sum():
            procs = [subprocess.Popen(["sha256sum", p], stdout=subprocess.DEVNULL) for p in paths]
            for p in procs:
                p.wait()

        def run_verify_1():
            for p in paths:
                dl.hash_file(p, size)

        def run_sha256sum_1():
            subprocess.run(["sha256sum"] + paths, stdout=subprocess.DEVNULL, check=True)

        t_v = best_of(args.repeat, run_verify)
        t_s = best_of(args.repeat, run_sha256sum)
        t_v1 = best_of(args.repeat, run_verify_1)
        t_s1 = best_of(args.repeat, run_sha256sum_1)
        print("3. verify   %7.1f MiB/s (%d threads)   sha256sum %7.1f MiB/s (%d processes)   ratio %.3f (goal >= 0.9)"
              % (total / MiB / t_v, len(paths), total / MiB / t_s, len(paths), t_s / t_v))
        print("   verify   %7.1f MiB/s (1 thread)     sha256sum %7.1f MiB/s (1 process)     ratio %.3f"
              % (total / MiB / t_v1, total / MiB / t_s1, t_s1 / t_v1))
    finally:
        if hub is not None:
            hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

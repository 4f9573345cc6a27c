#!/usr/bin/env python
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ``ansible-playbook`` and SIGKILL it, with every process it started, just before a given task.

  kill_playbook_at.py --task REGEX --log FILE -- ansible-playbook ARGS...

The playbook runs with ``--step``: before each task ansible-playbook asks "Perform task: TASK: <name>
(N)o/(y)es/(c)ontinue:" and waits. This answers "y" until the name matches REGEX, then kills the
process group instead of answering, so the task never starts, whatever the timing (a kill on a
timer or on an output line would race the task). What a user's Ctrl-C twice, a lost controller or
an OOM kill leaves behind, at a chosen point. The output goes to FILE; the last line of stdout is
JSON: {"killed_at": <task name>, "tasks_before": <tasks answered>}. Exit 0 when it killed the run
there, 1 when the run ended without reaching the task (its exit status is in the JSON).
"""

import argparse
import json
import os
import re
import select
import signal
import subprocess
import sys

# After the answer ansible-playbook prints the same words as a banner ("... continue: *****", one
# write): only text that ends the output, with nothing after it for QUIET seconds, is a prompt
# waiting for an answer. Each task waits QUIET once.
PROMPT = re.compile(rb"Perform task: (?:TASK|HANDLER): (.*?) \(N\)o/\(y\)es/\(c\)ontinue: $")
QUIET = 0.05


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", required=True, help="regular expression searched in the task's name")
    parser.add_argument("--log", required=True)
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    target = re.compile(args.task)
    # A session of its own: the kill reaches the forks and connection processes it started too.
    proc = subprocess.Popen(argv + ["--step"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    out = proc.stdout.fileno()
    seen, answered, killed_at = b"", 0, None
    with open(args.log, "wb") as log:
        while True:
            ready, _w, _x = select.select([out], [], [], QUIET)
            if ready:
                chunk = os.read(out, 65536)
                if not chunk:
                    break
                log.write(chunk)
                log.flush()
                # The last line is all a prompt can be in.
                seen = (seen + chunk)[-4096:]
                continue
            match = PROMPT.search(seen.rsplit(b"\n", 1)[-1])
            if not match:
                continue
            name = match.group(1).decode("utf-8", "replace")
            seen = b""
            if target.search(name):
                os.killpg(proc.pid, signal.SIGKILL)
                killed_at = name
                break
            proc.stdin.write(b"y\n")
            proc.stdin.flush()
            answered += 1
    status = proc.wait()
    print(json.dumps({"killed_at": killed_at, "tasks_before": answered, "status": status}))
    return 0 if killed_at else 1


if __name__ == "__main__":
    sys.exit(main())

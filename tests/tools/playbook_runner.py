#!/usr/bin/env python
"""Run a playbook with ansible-runner and read its structured events, not its screen output.

Tests that drive playbooks use this: ``run()`` returns the exit code, ansible-runner's per-host stats
(``ok``, ``changed``, ``failures``, ``dark``...), the job events and the text output (for messages a
person reads, and to prove a secret is never shown).
"""

from __future__ import annotations

import json
import shlex
import sys
import os
from dataclasses import dataclass, field
from pathlib import Path

import ansible_runner


@dataclass
class PlaybookRun:
    rc: int
    status: str
    stats: dict
    events: list = field(repr=False)
    stdout: str = field(repr=False)

    def hosts(self):
        """Every host the run processed (the PLAY RECAP's hosts)."""
        return set(self.stats.get("processed", {}))

    def count(self, host, key):
        return self.stats.get(key, {}).get(host, 0)

    def task_hosts(self, task, event="runner_on_ok"):
        """Hosts on which the task of that name ended with the event (runner_on_ok, runner_on_failed...)."""
        return {e["event_data"]["host"] for e in self.events
                if e.get("event") == event and e.get("event_data", {}).get("task") == task}

    def failure_messages(self):
        """The ``msg`` of every failed task result, in order (the text the run stopped with)."""
        messages = []
        for e in self.events:
            if e.get("event") == "runner_on_failed":
                res = e.get("event_data", {}).get("res", {})
                msg = res.get("msg", "")
                messages.append(msg if isinstance(msg, str) else json.dumps(msg))
        return messages

    def everything(self):
        """The text output and every event's data: a secret must be in neither."""
        return self.stdout + "\n" + "\n".join(json.dumps(e, default=str) for e in self.events)


def run(private_dir, playbook, inventory, cmdline=(), project_dir=None, env=None, timeout=600):
    """Run ``playbook`` against ``inventory`` (paths); ``private_dir`` keeps ansible-runner's artifacts."""
    private_dir = Path(private_dir)
    private_dir.mkdir(parents=True, exist_ok=True)
    envvars = {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "PY_COLORS": "0"}
    envvars.update(env or {})
    runner = ansible_runner.run(
        private_data_dir=str(private_dir), playbook=str(playbook), inventory=str(inventory),
        cmdline=shlex.join(cmdline), project_dir=str(project_dir or os.getcwd()), envvars=envvars,
        quiet=True, timeout=timeout)
    return PlaybookRun(rc=runner.rc, status=runner.status, stats=runner.stats or {},
                       events=list(runner.events), stdout=runner.stdout.read())


def main(argv=None):
    """Command line for shell scripts: run a playbook, print the stats; on failure the output's end too."""
    import argparse

    parser = argparse.ArgumentParser(description="Run a playbook through ansible-runner.")
    parser.add_argument("-i", "--inventory", required=True)
    parser.add_argument("--project-dir", default=os.getcwd())
    parser.add_argument("--private-dir", required=True, help="where ansible-runner keeps its artifacts")
    parser.add_argument("playbook")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="more ansible-playbook arguments")
    options = parser.parse_args(argv)
    # ansible-playbook from this Python's venv, as when the script is run as .venv/bin/python ...
    path = "%s:%s" % (Path(sys.executable).parent, os.environ.get("PATH", ""))
    result = run(options.private_dir, Path(options.playbook).resolve(), Path(options.inventory).resolve(),
                 cmdline=options.args, project_dir=options.project_dir, env={"PATH": path})
    for host in sorted(result.hosts()):
        print("%s: %s" % (host, " ".join("%s=%d" % (key, result.count(host, key))
                                         for key in ("ok", "changed", "failures", "dark"))))
    if result.rc != 0:
        print(result.stdout[-6000:])
    return result.rc


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python
"""CPU the controller spends while a task runs, for each ``internal_poll_interval``.

While a task runs, Ansible's playbook process checks for finished results every
``internal_poll_interval`` seconds (ansible.cfg ``[defaults]``; there is no environment variable).
For each interval this runs a playbook of one ``sleep`` task of SHORT and of LONG seconds on
localhost, with an ansible.cfg that sets only that interval, and prints the CPU seconds
(user + system of ansible-playbook and everything it started) per second of waiting: the
difference between the two runs divided by the difference of their sleeps, so start-up and the
module run cancel out. ansible.cfg and molecule/default/config.yml set 0.01.

    .venv/bin/python benchmarks/controller_wait_cpu.py [--short 2] [--long 22] [INTERVAL ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Wait
      ansible.builtin.command: sleep {{ seconds }}
      changed_when: false
"""


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(workdir, interval, seconds):
    """CPU seconds of one ansible-playbook run (it and its children) with that interval."""
    cfg = Path(workdir) / ("ansible-%s.cfg" % interval)
    cfg.write_text("[defaults]\ninternal_poll_interval = %s\n" % interval)
    playbook = Path(workdir) / "wait.yml"
    playbook.write_text(PLAYBOOK)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["ANSIBLE_CONFIG"] = str(cfg)
    before = children_cpu()
    subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                    "-e", "seconds=%d" % seconds,
                    "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook)], cwd=HERE, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return children_cpu() - before


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--short", type=int, default=2)
    parser.add_argument("--long", type=int, default=22)
    parser.add_argument("intervals", nargs="*", default=["0.001", "0.01", "0.05"])
    args = parser.parse_args()
    print("internal_poll_interval  CPU-s (%d s task)  CPU-s (%d s task)  CPU-s per second of waiting"
          % (args.short, args.long))
    with tempfile.TemporaryDirectory() as workdir:
        for interval in args.intervals:
            short = run(workdir, interval, args.short)
            long_ = run(workdir, interval, args.long)
            print("%-22s  %16.2f  %17.2f  %27.4f" % (interval, short, long_, (long_ - short) / (args.long - args.short)))


if __name__ == "__main__":
    main()

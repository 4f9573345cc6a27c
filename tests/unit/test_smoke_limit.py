"""The smoke stage under --limit: redoing one node that serves nothing must not fail the run (issue:
`site.yml --limit <a GPU node>` ended in "No endpoints"), while a whole inventory serving nothing
still fails. Runs the real stage playbook with ansible-playbook; no host is contacted (the only
play with hosts is the controller's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "playbooks" / "stages" / "smoke.yml"


def _run(tmp_path, *args):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  children:\n    gpu_nodes:\n      hosts:\n        gpu-a:\n        gpu-b:\n"
                         "    vllm_servers:\n      hosts: {}\n")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"))
    playbook = Path(sys.executable).parent / "ansible-playbook"
    return subprocess.run([str(playbook), "-i", str(inventory), str(STAGE), *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path, check=False)


def test_a_limit_that_serves_nothing_ends_the_stage_with_a_message(tmp_path):
    result = _run(tmp_path, "--limit", "gpu-a,localhost")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Smoke: no endpoint among the hosts of --limit gpu-a,localhost; nothing to" in result.stdout
    assert "No endpoints" not in result.stdout + result.stderr


def test_an_inventory_that_serves_nothing_still_fails(tmp_path):
    result = _run(tmp_path)
    assert result.returncode != 0
    assert "No endpoints: the inventory's vllm_servers / ollama_servers serve no vllm_instances" in (
        result.stdout + result.stderr)

"""The smoke stage under --limit: redoing one node that serves nothing must not fail the run (issue:
`site.yml --limit <a GPU node>` ended in "No endpoints"), while a whole inventory serving nothing
still fails. Runs the real stage playbook through ansible-runner (tests/tools/playbook_runner.py);
no host is contacted (the only play with hosts is the controller's)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "playbooks" / "stages" / "smoke.yml"
sys.path.insert(0, str(ROOT / "tests" / "tools"))
import playbook_runner  # noqa: E402  (tests/tools is not a package)


def _run(tmp_path, *args):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  children:\n    gpu_nodes:\n      hosts:\n        gpu-a:\n        gpu-b:\n"
                         "    vllm_servers:\n      hosts: {}\n")
    env = {"ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
           "PATH": "%s:%s" % (Path(sys.executable).parent, os.environ.get("PATH", ""))}
    return playbook_runner.run(tmp_path / "runner", STAGE, inventory, cmdline=args, project_dir=tmp_path, env=env)


def _messages(result, event):
    return [e["event_data"].get("res", {}).get("msg", "") for e in result.events
            if e.get("event") == event and e.get("event_data", {}).get("host") == "localhost"]


def test_a_limit_that_serves_nothing_ends_the_stage_with_a_message(tmp_path):
    result = _run(tmp_path, "--limit", "gpu-a,localhost")
    assert result.rc == 0 and result.status == "successful", result.stdout
    assert any("Smoke: no endpoint among the hosts of --limit gpu-a,localhost; nothing to" in str(msg)
               for msg in _messages(result, "runner_on_ok")), result.stdout
    assert result.failure_messages() == [], result.stdout
    assert "No endpoints" not in result.everything()


def test_an_inventory_that_serves_nothing_still_fails(tmp_path):
    result = _run(tmp_path)
    assert result.rc != 0 and result.status == "failed"
    assert any(msg.startswith("No endpoints: no host of vllm_servers / ollama_servers publishes an instance")
               for msg in result.failure_messages()), result.stdout


def test_check_mode_before_the_first_run_ends_the_stage(tmp_path):
    result = _run(tmp_path, "--check")
    assert result.rc == 0 and result.status == "successful", result.stdout
    assert result.failure_messages() == [], result.stdout
    assert "No endpoints" not in result.everything()

"""lookup('onprem.llm.role_defaults'), run by ansible-playbook as the roles run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Ask
      ansible.builtin.debug:
        msg: "{{ lookup('onprem.llm.role_defaults', *roles, entry_point=entry, wantlist=true) }}"
"""


def _run(tmp_path, roles, entry="main", extra=None):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    variables = dict({"roles": roles, "entry": entry}, **(extra or {}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), str(tmp_path / "play.yml"),
                           "-e", json.dumps(variables)], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return proc.returncode, result


def test_templated_defaults_follow_the_asking_tasks_variables(tmp_path):
    rc, result = _run(tmp_path, ["ollama", "nvidia_driver"],
                      extra={"onprem_closed_network": True, "onprem_bundle_url": "http://bundle.example/b/"})
    assert rc == 0, result
    ollama, driver = result["msg"]
    assert ollama["ollama_download_base_url"] == "http://bundle.example/b/ollama"
    assert driver["nvidia_driver_debian_components"] is False
    rc, result = _run(tmp_path, ["ollama"])
    assert result["msg"][0]["ollama_download_base_url"] == "https://github.com/ollama/ollama/releases/download"


def test_another_entry_point(tmp_path):
    rc, result = _run(tmp_path, ["gateway"], entry="drain")
    assert rc == 0, result
    assert result["msg"] == [{"gateway_drain_hosts": [], "gateway_drain_timeout": 300, "gateway_group": "gateway"}]


@pytest.mark.parametrize("role,message", [
    ("nope", "role_defaults: onprem.llm has no role nope (No such file: "),
    ("_common", "role_defaults: '_common' is not a public role of onprem.llm"),
    ("../vllm", "role_defaults: '../vllm' is not a public role of onprem.llm"),
])
def test_refusals_name_the_role(tmp_path, role, message):
    rc, result = _run(tmp_path, [role])
    assert rc == 2
    assert message in result["msg"]

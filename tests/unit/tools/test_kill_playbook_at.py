"""tests/tools/kill_playbook_at.py against a real ansible-playbook: the named task never runs, the
ones before it did, and a name that never comes lets the run finish and says so."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TOOL = ROOT / "tests" / "tools" / "kill_playbook_at.py"
PLAYBOOK = """
- name: Three steps
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Step one
      ansible.builtin.file: {path: "{{ dir }}/one", state: touch, mode: "0644"}
    - name: Step two
      ansible.builtin.file: {path: "{{ dir }}/two", state: touch, mode: "0644"}
    - name: Step three
      ansible.builtin.file: {path: "{{ dir }}/three", state: touch, mode: "0644"}
"""


def _run(tmp_path, task):
    playbook = tmp_path / "steps.yml"
    playbook.write_text(PLAYBOOK)
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    proc = subprocess.run([sys.executable, str(TOOL), "--task", task, "--log", str(tmp_path / "run.log"), "--",
                           ansible_playbook, str(playbook), "-e", "dir=%s" % tmp_path],
                          capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_run_dies_at_the_prompt_of_the_named_task(tmp_path):
    code, out = _run(tmp_path, "^Step two$")
    assert code == 0
    assert out == {"killed_at": "Step two", "tasks_before": 1, "status": -9}
    assert (tmp_path / "one").exists()
    assert not (tmp_path / "two").exists() and not (tmp_path / "three").exists()
    assert "Perform task: TASK: Step two" in (tmp_path / "run.log").read_text()


def test_a_task_that_never_comes_lets_the_run_finish(tmp_path):
    code, out = _run(tmp_path, "^Step four$")
    assert code == 1
    assert out == {"killed_at": None, "tasks_before": 3, "status": 0}
    assert all((tmp_path / name).exists() for name in ("one", "two", "three"))

"""tests/tools/playbook_runner.py against a real ansible-playbook run through ansible-runner: the stats,
the hosts of a task's results and the failed tasks' messages come from the job events."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "tools"))
import playbook_runner  # noqa: E402  (tests/tools is not a package)

PLAYBOOK = """
- name: Three steps
  hosts: all
  gather_facts: false
  tasks:
    - name: Step one
      ansible.builtin.debug: {msg: "first"}
    - name: Step two
      ansible.builtin.file: {path: "{{ dir }}/two", state: touch, mode: "0644"}
    - name: Step three
      ansible.builtin.fail: {msg: "stopped at step three"}
      when: fail | bool
"""


def _files(tmp_path):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts.ini").write_text("local-a ansible_connection=local ansible_python_interpreter=%s\n"
                                        % sys.executable)
    return tmp_path / "play.yml", tmp_path / "hosts.ini"


def _env():
    return {"PATH": "%s:/usr/bin:/bin" % Path(sys.executable).parent}


def test_a_failed_run_reports_its_stats_and_the_failed_task_message(tmp_path):
    playbook, inventory = _files(tmp_path)
    result = playbook_runner.run(tmp_path / "runner", playbook, inventory, project_dir=tmp_path, env=_env(),
                                 cmdline=["-e", "dir=%s" % tmp_path, "-e", "fail=true"])
    assert (result.rc, result.status) == (2, "failed")
    assert result.hosts() == {"local-a"}
    assert [result.count("local-a", key) for key in ("ok", "changed", "failures", "dark")] == [2, 1, 1, 0]
    assert result.task_hosts("Step one") == {"local-a"}
    assert result.task_hosts("Step three", event="runner_on_failed") == {"local-a"}
    assert result.failure_messages() == ["stopped at step three"]
    assert "stopped at step three" in result.stdout and "PLAY RECAP" in result.stdout


def test_a_passing_run_has_no_failure_and_a_skipped_task_no_result(tmp_path):
    playbook, inventory = _files(tmp_path)
    result = playbook_runner.run(tmp_path / "runner", playbook, inventory, project_dir=tmp_path, env=_env(),
                                 cmdline=["-e", "dir=%s" % tmp_path, "-e", "fail=false"])
    assert (result.rc, result.status) == (0, "successful")
    assert result.count("local-a", "changed") == 1   # file state=touch always reports a change
    assert result.failure_messages() == []
    assert result.task_hosts("Step three") == set()   # skipped: no runner_on_ok


def test_the_command_line_prints_the_stats_and_returns_the_playbook_exit_code(tmp_path):
    playbook, inventory = _files(tmp_path)
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "tools" / "playbook_runner.py"),
                           "--private-dir", str(tmp_path / "runner"), "-i", str(inventory), "--project-dir",
                           str(tmp_path), str(playbook), "-e", "dir=%s" % tmp_path, "-e", "fail=true"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.startswith("local-a: ok=2 changed=1 failures=1 dark=0\n"), proc.stdout
    assert "stopped at step three" in proc.stdout

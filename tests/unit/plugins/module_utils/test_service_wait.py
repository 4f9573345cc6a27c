"""The wait stops at the first crash of the unit, not after the start timeout."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils import service_wait as wait

RUNNING = {"ActiveState": "active", "SubState": "running", "Result": "success", "NRestarts": "0",
           "ExecMainCode": "0", "ExecMainStatus": "0"}


def test_parse_show_reads_key_value_lines():
    text = "ActiveState=activating\nSubState=auto-restart\nResult=exit-code\nNRestarts=2\nExecMainStatus=1\n\n"
    assert wait.parse_show(text) == {"ActiveState": "activating", "SubState": "auto-restart",
                                     "Result": "exit-code", "NRestarts": "2", "ExecMainStatus": "1"}


def test_a_server_that_answers_is_up_whatever_the_unit_says():
    assert wait.verdict(RUNNING, dict(RUNNING, NRestarts="3"), True, 10, 300) == ("up", "")


def test_a_running_unit_is_waited_for_until_the_timeout():
    assert wait.verdict(RUNNING, RUNNING, False, 10, 300) == ("waiting", "")
    assert wait.verdict(RUNNING, RUNNING, False, 300, 300) == ("timeout", "no answer within 300 s")


# `systemctl show -p ActiveState -p SubState -p Result -p NRestarts -p ExecMainCode -p ExecMainStatus`
# as systemd 252 (Debian 12) printed it, in a lab node: a Restart=on-failure unit whose process
# exited with status 3, waiting its RestartSec; later, after three restarts; a unit whose process
# was killed with SIGKILL.
AUTO_RESTART = "Result=exit-code\nNRestarts=0\nExecMainCode=1\nExecMainStatus=3\nActiveState=activating\nSubState=auto-restart\n"
RESTARTED = "Result=exit-code\nNRestarts=3\nExecMainCode=1\nExecMainStatus=3\nActiveState=activating\nSubState=auto-restart\n"
KILLED = "Result=signal\nNRestarts=0\nExecMainCode=2\nExecMainStatus=9\nActiveState=failed\nSubState=failed\n"


def test_waiting_to_be_restarted_is_a_crash():
    status, reason = wait.verdict(RUNNING, wait.parse_show(AUTO_RESTART), False, 3, 300)
    assert status == "crashed"
    assert reason == "its main process exited with status 3 and systemd will restart it"


def test_a_restart_by_systemd_is_a_crash():
    status, reason = wait.verdict(RUNNING, wait.parse_show(RESTARTED), False, 12, 300)
    assert status == "crashed"
    assert reason == "its main process exited with status 3 and systemd restarted it (3 time(s) since the wait began)"


def test_a_killed_process_is_named_with_its_signal():
    status, reason = wait.verdict(RUNNING, wait.parse_show(KILLED), False, 2, 300)
    assert status == "crashed"
    assert reason == "the unit failed (result signal): its main process was killed (signal 9)"


def test_restarts_before_the_wait_do_not_count():
    before = dict(RUNNING, NRestarts="4")
    assert wait.verdict(before, dict(RUNNING, NRestarts="4"), False, 5, 300) == ("waiting", "")


@pytest.mark.parametrize("code, status, said", [
    ("1", "1", "its main process exited with status 1"),
    ("2", "9", "its main process was killed (signal 9)"),
    ("3", "6", "its main process dumped core (signal 6)"),
])
def test_a_failed_unit_says_how_its_process_ended(code, status, said):
    now = dict(RUNNING, ActiveState="failed", SubState="failed", Result="exit-code", NRestarts="5",
               ExecMainCode=code, ExecMainStatus=status)
    status_, reason = wait.verdict(RUNNING, now, False, 40, 300)
    assert status_ == "crashed"
    assert reason == "the unit failed (result exit-code): %s, after 5 automatic restart(s)" % said


def test_a_stopped_unit_will_not_answer():
    now = dict(RUNNING, ActiveState="inactive", SubState="dead")
    assert wait.verdict(RUNNING, now, False, 3, 300) == ("crashed", "the unit is not running (stopped, result success)")


def test_an_answer_counts_with_200_and_the_expected_text():
    assert wait.answered(200, "", "")
    assert wait.answered(200, "Ollama is running", "Ollama is running")
    assert not wait.answered(200, "<html>proxy</html>", "Ollama is running")
    assert not wait.answered(503, "Ollama is running", "Ollama is running")

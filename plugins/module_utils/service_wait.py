# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for a service's HTTP endpoint to answer, and seeing when its unit crashed instead.

A server that fails at start-up (a vLLM whose driver is too old or whose model does not fit, an
Ollama with a bad setting) exits, and systemd restarts it (``Restart=on-failure``/``always``) until
its start limit: polling the URL alone would wait the whole start timeout for a server that will
never answer. The module onprem.llm.service_wait polls both and stops at the first crash, so the
role can say so at once (the vllm role then names the cause from the journal). Pure logic here;
the module does the I/O.
"""

from __future__ import absolute_import, division, print_function

# What ``systemctl show`` is asked for (``-p`` each).
PROPERTIES = ("ActiveState", "SubState", "Result", "NRestarts", "ExecMainCode", "ExecMainStatus")

# ExecMainCode values (systemd's CLD_* codes of waitid(2)): how the last main process ended.
_EXIT_CODES = {"1": "exited", "2": "was killed", "3": "dumped core"}


def parse_show(text):
    """``systemctl show -p A -p B unit`` output ("A=x" lines) -> {"A": "x", ...}."""
    state = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            state[key.strip()] = value.strip()
    return state


def _restarts(state):
    try:
        return int(state.get("NRestarts") or 0)
    except ValueError:
        return 0


def _how_it_ended(state):
    code = _EXIT_CODES.get(state.get("ExecMainCode", ""))
    status = state.get("ExecMainStatus", "")
    if code == "exited":
        return "its main process exited with status %s" % status
    if code:
        return "its main process %s (signal %s)" % (code, status)
    return "its main process ended"


def crash_reason(before, now):
    """Why the unit will not answer, comparing its state at the start of the wait with ``now``;
    "" while it may still come up (starting, or running and loading the model)."""
    active = now.get("ActiveState", "")
    restarted = _restarts(now) - _restarts(before)
    if active == "failed":
        return "the unit failed (result %s): %s%s" % (
            now.get("Result", "?"), _how_it_ended(now),
            ", after %d automatic restart(s)" % restarted if restarted > 0 else "")
    if restarted > 0:
        return "%s and systemd restarted it (%d time(s) since the wait began)" % (_how_it_ended(now), restarted)
    if now.get("SubState") == "auto-restart":
        # NRestarts counts a restart once it has happened; until then the unit waits RestartSec.
        return "%s and systemd will restart it" % _how_it_ended(now)
    if active == "inactive":
        return "the unit is not running (stopped, result %s)" % now.get("Result", "?")
    return ""


def answered(status, body, expect=""):
    """The endpoint is up: HTTP 200, and ``expect`` in the body when one is asked for."""
    return status == 200 and (not expect or expect in (body or ""))


def verdict(before, now, healthy, elapsed, timeout):
    """-> (status, reason): ("up", ""), ("crashed", why), ("timeout", why) or ("waiting", "")."""
    if healthy:
        return "up", ""
    reason = crash_reason(before, now)
    if reason:
        return "crashed", reason
    if elapsed >= timeout:
        return "timeout", "no answer within %s s" % timeout
    return "waiting", ""

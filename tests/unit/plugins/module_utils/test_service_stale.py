"""A unit running since before its config changed is stale; a stopped or restarting one never is."""

from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils import service_stale as stale
from ansible_collections.onprem.llm.plugins.module_utils.service_wait import parse_show

# The host's clocks read together: wall 1796290000.0 s since the epoch, monotonic 5000.0 s since boot.
WALL, MONO = 1796290000.0, 5000.0


def _running(since_boot_s):
    return {"ActiveState": "active", "ExecMainStartTimestampMonotonic": str(int(since_boot_s * 1e6)),
            "ExecMainPID": "412"}


def test_the_start_is_put_on_the_wall_clock():
    # Started 4000 s after boot, read 1000 s later.
    assert stale.started_at(_running(4000.0), WALL, MONO) == WALL - 1000.0


def test_a_unit_not_running_has_no_start():
    for state in ({"ActiveState": "inactive", "ExecMainStartTimestampMonotonic": "0"},
                  {"ActiveState": "activating", "ExecMainStartTimestampMonotonic": "4000000000"},
                  {"ActiveState": "failed", "ExecMainStartTimestampMonotonic": "4000000000"},
                  {"ActiveState": "active", "ExecMainStartTimestampMonotonic": "0"},
                  {"ActiveState": "active", "ExecMainStartTimestampMonotonic": "n/a"},
                  {}):
        assert stale.started_at(state, WALL, MONO) is None


def test_only_files_changed_after_the_start_count():
    started = WALL - 1000.0
    mtimes = {"/etc/a.yaml": started + 0.5, "/etc/b.env": started - 0.5, "/opt/current": started + 10,
              "/etc/missing": None}
    assert stale.newer_than(started, mtimes) == ["/etc/a.yaml", "/opt/current"]
    assert stale.newer_than(None, mtimes) == []


def test_verdicts_name_the_stale_units_in_order_with_their_files():
    units = [{"unit": "vllm@b.service", "paths": ["/etc/b.yaml"]},
             {"unit": "vllm@a.service", "paths": ["/etc/a.yaml", "/etc/a.env"]},
             {"unit": "vllm@stopped.service", "paths": ["/etc/s.yaml"]},
             {"unit": "ollama.service", "paths": []}]
    states = {"vllm@b.service": _running(4000.0), "vllm@a.service": _running(4990.0),
              "vllm@stopped.service": {"ActiveState": "inactive", "ExecMainStartTimestampMonotonic": "0"},
              "ollama.service": _running(100.0)}
    # b started at WALL-1000 and its config changed at WALL-500: stale. a started at WALL-10, after
    # both its files. The stopped unit's file is new, but it reads it when it starts.
    mtimes = {"/etc/b.yaml": WALL - 500, "/etc/a.yaml": WALL - 20, "/etc/a.env": WALL - 11, "/etc/s.yaml": WALL}
    report, names = stale.verdicts(units, states, mtimes, WALL, MONO)
    assert names == ["vllm@b.service"]
    assert report["vllm@b.service"] == {"running": True, "started": WALL - 1000.0, "newer": ["/etc/b.yaml"]}
    assert report["vllm@a.service"]["newer"] == [] and report["vllm@a.service"]["running"] is True
    assert report["vllm@stopped.service"] == {"running": False, "started": None, "newer": []}
    assert report["ollama.service"]["newer"] == []


def test_systemctl_show_output_is_read():
    # `systemctl show -p ActiveState -p ExecMainStartTimestampMonotonic -p ExecMainPID` in a lab
    # node (systemd 252, Debian 12), for a running vllm@tiny.service.
    text = "ExecMainStartTimestampMonotonic=40562720935\nExecMainPID=374\nActiveState=active\n"
    state = parse_show(text)
    assert stale.started_at(state, WALL, MONO) == WALL - (MONO - 40562.720935)


# /proc/<pid>/stat of nginx's master (2642) and its two workers in a lab node (Debian 12), after a
# reload; SC_CLK_TCK 100 and /proc/uptime 40752.57 read with them.
NGINX_STAT = [
    "2642 (nginx) S 1 2619 2619 0 -1 4194560 2300 1591 0 0 0 1 0 0 20 0 1 0 4037852 25133056 2592 "
    "18446744073709551615 94762135449600 94762136233073 140730708685376 0 0 0 0 1073745920 402745863 1 0 0 17 1 0 0 "
    "0 0 0 94762136467536 94762136568608 94762206470144 140730708688511 140730708688560 140730708688560 "
    "140730708688872 0",
    "2997 (nginx) S 2642 2619 2619 0 -1 4194624 175 0 0 0 0 0 0 0 20 0 1 0 4065712 25542656 1030 "
    "18446744073709551615 94762135449600 94762136233073 140730708685376 0 0 0 0 1073745920 402745863 1 0 0 17 0 0 0 "
    "0 0 0 94762136467536 94762136568608 94762206470144 140730708688511 140730708688560 140730708688560 "
    "140730708688872 0",
    "2998 (nginx) S 2642 2619 2619 0 -1 4194624 175 0 0 0 0 0 0 0 20 0 1 0 4065712 25542656 1030 "
    "18446744073709551615 94762135449600 94762136233073 140730708685376 0 0 0 0 1073745920 402745863 1 0 0 17 1 0 0 "
    "0 0 0 94762136467536 94762136568608 94762206470144 140730708688511 140730708688560 140730708688560 "
    "140730708688872 0",
]


def test_the_newest_child_of_the_main_process_is_found():
    # The workers started 40657.12 s after boot, 95.45 s before the read; the master earlier.
    started = stale.child_started_at(NGINX_STAT, 2642, 100, 40752.57, WALL)
    assert abs(started - (WALL - 95.45)) < 1e-6
    assert stale.child_started_at(NGINX_STAT, 2997, 100, 40752.57, WALL) is None
    # A command name with spaces and parentheses does not shift the fields.
    odd = "77 (a (b) c) S 2642 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4070000 0 0"
    assert abs(stale.child_started_at(NGINX_STAT + [odd], 2642, 100, 40752.57, WALL) - (WALL - 52.57)) < 1e-6
    assert stale.child_started_at(["garbage", "1 (x) S"], 2642, 100, 40752.57, WALL) is None


def test_a_reloaded_service_is_compared_with_its_newest_worker():
    units = [{"unit": "nginx.service", "paths": ["/etc/gw/upstreams.conf"], "process": "children"}]
    # The master started long ago; the workers 95 s ago, after the file (100 s ago): not stale.
    states = {"nginx.service": _running(100.0)}
    report, names = stale.verdicts(units, states, {"/etc/gw/upstreams.conf": WALL - 100}, WALL, MONO,
                                   {"nginx.service": WALL - 95})
    assert names == [] and report["nginx.service"]["started"] == WALL - 95
    # The file changed after the workers started (the reload never came): stale.
    report, names = stale.verdicts(units, states, {"/etc/gw/upstreams.conf": WALL - 10}, WALL, MONO,
                                   {"nginx.service": WALL - 95})
    assert names == ["nginx.service"]
    # No workers seen, or nginx not running: nothing to say.
    assert stale.verdicts(units, states, {"/etc/gw/upstreams.conf": WALL}, WALL, MONO, {})[1] == []
    stopped = {"nginx.service": {"ActiveState": "inactive"}}
    assert stale.verdicts(units, stopped, {"/etc/gw/upstreams.conf": WALL}, WALL, MONO,
                          {"nginx.service": WALL - 95})[1] == []

"""Verify molecule/gpu_reboot: the GPU stage rebooted k-gpu1 into the installed driver twice (converge,
side effect) and, the second time, only after taking it out of the gateway's rotation."""

import json
import sys
from datetime import datetime
from pathlib import Path

import pytest
import testinfra

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "collections"))
from ansible_collections.onprem.llm.plugins.module_utils.gateway import routes  # noqa: E402

testinfra_hosts = ["k-gw1"]

DRIVER = "580.178.04"
ACCESS_LOG = "/var/log/nginx/onprem-llm-gateway.access.log"
BOOT_LOG = "/var/log/onprem-nvidia-boot-double.log"


@pytest.fixture(scope="module")
def gpu():
    return testinfra.get_host("podman://k-gpu1")


def _boot_log(gpu):
    """[(epoch, 'boot'|'shutdown', rest)] from the boot double's log on k-gpu1."""
    entries = []
    for line in gpu.file(BOOT_LOG).content_string.splitlines():
        when, what, *rest = line.split(" ", 2)
        entries.append((float(when), what, rest[0] if rest else ""))
    return entries


def _state(text, name):
    """down / up / None (not routed) for backend host ``name`` in one version of upstreams.conf."""
    if name in routes.drained_hosts(text):
        return "down"
    return "up" if name in routes.upstream_hosts(text) else None


@pytest.fixture(scope="module")
def window(host):
    """(down, up): when the gateway's upstreams marked k-gpu1 down and back up (the watcher's record)."""
    versions = [json.loads(line) for line in host.file("/root/upstream-watch.jsonl").content_string.splitlines()]
    changes = []
    for version in versions:
        state = _state(version["text"], "k-gpu1")
        if not changes or changes[-1][1] != state:
            changes.append((version["time"], state))
    assert [state for _when, state in changes] == ["up", "down", "up"], changes
    return changes[1][0], changes[2][0]


def _requests(host):
    """[(epoch second the request ended in, upstream, upstream_status, status)] of the load loop's requests."""
    found = []
    for line in host.file(ACCESS_LOG).content_string.splitlines():
        if "client=loadloop " not in line:
            continue
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part and not part.startswith('"'))
        status = line.split('" ', 1)[1].split(" ", 1)[0]
        ended = datetime.fromisoformat(line.split(" ", 1)[0]).timestamp()
        found.append((ended, fields["upstream"], fields["upstream_status"], status))
    return found


def _address(host, name):
    return host.check_output("getent hosts %s" % name).split()[0] + ":11434"


def test_k_gpu1_booted_twice_into_the_installed_driver(gpu):
    log = _boot_log(gpu)
    # converge: a boot (the role rebooted it itself); side effect: a shutdown and a boot
    assert [what for _when, what, _rest in log] == ["boot", "shutdown", "boot"], log
    for _when, what, rest in log:
        if what == "boot":
            assert rest.endswith(": nvidia %s loaded (Dual MIT/GPL)" % DRIVER), rest


def test_the_driver_runs_at_the_installed_version_after_the_reboot(gpu):
    assert gpu.file("/usr/share/onprem-llm-double/sys/module/nvidia/version").content_string.strip() == DRIVER
    assert gpu.check_output("nvidia-smi --query-gpu=driver_version --format=csv,noheader") == DRIVER
    assert gpu.package("nvidia-utils-580-server").version.startswith(DRIVER)


def test_ollama_came_back_with_the_node(gpu):
    assert gpu.service("ollama.service").is_running
    assert gpu.service("ollama.service").is_enabled


def test_the_gateway_took_k_gpu1_out_for_the_whole_reboot(host, gpu, window):
    down, up = window
    (_boot1, _what, _rest), (shutdown, _w2, _r2), (boot2, _w3, _r3) = _boot_log(gpu)
    assert down < shutdown < boot2 < up


def test_no_request_went_to_k_gpu1_while_it_was_out(host, window):
    down, up = window
    gpu_address = _address(host, "k-gpu1")
    # The watcher sees the file before nginx reloads it: requests sent just before count as before.
    # The log's times are whole seconds: a request logged at s ended within [s, s + 1).
    during = [r for r in _requests(host) if down + 2 < r[0] and r[0] + 1 < up and gpu_address in r[1]]
    assert during == []


def test_no_request_was_passed_on_or_failed(host):
    requests = _requests(host)
    assert len(requests) >= 20
    bad = [r for r in requests if "," in r[1] or r[2] != "200" or r[3] != "200"]
    assert bad == []


def test_k_gpu1_served_before_and_after_the_reboot(host, window):
    down, up = window
    gpu_address = _address(host, "k-gpu1")
    served = [r[0] for r in _requests(host) if r[1] == gpu_address]
    assert any(t + 1 < down for t in served)
    assert any(t > up for t in served)


def test_both_backends_are_in_rotation_at_the_end(host):
    upstreams = host.file("/etc/onprem-llm/gateway/upstreams.conf").content_string
    assert "# k-gpu1/ollama" in upstreams and "# k-gw1/ollama" in upstreams
    assert " down;" not in upstreams


def test_the_load_loop_saw_no_failure(host):
    summary = json.loads(host.file("/root/load-reboot.json").content_string)
    assert summary["failed"] == 0 and summary["ok"] >= 20, summary

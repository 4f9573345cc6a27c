"""Verify the harness: each node booted systemd, carries its profile's GPU double, and converged
(the first play of converge.yml).

Expectations come from the double's own profile.json on the node (written by
tests/doubles/make_gpu_profile.py from gpu_profiles.yml), so new profiles need no edits here.
"""

import json

import pytest

DOUBLE = "/usr/share/onprem-llm-double"


@pytest.fixture(scope="module")
def profile(host):
    return json.loads(host.file(f"{DOUBLE}/profile.json").content_string)


def test_systemd_is_pid1_and_running(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    assert host.run("systemctl is-system-running").stdout.strip() == "running"


def test_release_matches_the_image(host):
    # Platform names start with the codename of their image (noble-gpu0, trixie-gpu8).
    assert host.backend.get_hostname().split("-")[0] == host.system_info.codename


def test_profile_is_the_inventory_one(host_vars, profile):
    assert profile["profile"] == host_vars["onprem_lab_gpu_profile"]


def test_nvidia_smi_double(host, profile):
    smi = host.file("/usr/bin/nvidia-smi")
    if not profile["install_nvidia_smi"]:
        assert not smi.exists
        return
    assert smi.is_file and smi.mode == 0o755
    # -L also lists MIG devices, indented under their GPU.
    gpus = [line for line in host.check_output("nvidia-smi -L").splitlines() if line.startswith("GPU ")]
    assert len(gpus) == profile["expect"]["count"]
    names = host.check_output("nvidia-smi --query-gpu=name --format=csv,noheader").splitlines()
    assert len(names) == len(gpus)


def test_gpu_facts_saw_the_profile(host, profile):
    # Written by converge from onprem.llm.gpu_facts run against the double's sysfs/procfs.
    seen = dict(kv.split("=") for kv in host.file("/etc/onprem-lab-gpu-facts").content_string.split())
    assert int(seen["count"]) == profile["expect"]["count"]
    assert seen["state"] == profile["expect"]["state"]


def test_heartbeat_unit(host):
    unit = host.service("onprem-lab-heartbeat")
    assert unit.is_running
    assert unit.is_enabled

"""The T4 host's details, read from the driver (nvidia-smi double)."""

import json

import pytest

testinfra_hosts = ["bookworm-gpu1"]


@pytest.fixture(scope="module")
def facts(host):
    return json.loads(host.file("/etc/onprem-preflight-facts.json").content_string)


def test_t4_details(facts):
    (gpu,) = facts["gpus"]
    assert gpu["name"] == "Tesla T4"
    assert gpu["memory_mib"] == 15360
    assert gpu["compute_capability"] == "7.5"
    assert gpu["architecture"] == "turing"
    assert facts["driver_loaded"] is True
    assert facts["recommended_kernel_module"] == "open"
    assert gpu["uuid"].startswith("GPU-")

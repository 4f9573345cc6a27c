"""The eight-GPU host (a real 8x V100S capture replayed by the nvidia-smi double)."""

import json

import pytest

testinfra_hosts = ["trixie-gpu8"]


@pytest.fixture(scope="module")
def facts(host):
    return json.loads(host.file("/etc/onprem-preflight-facts.json").content_string)


def test_eight_volta_gpus_behind_nvswitch(facts):
    assert facts["count"] == 8
    assert facts["nvswitch"] is True
    assert {gpu["memory_mib"] for gpu in facts["gpus"]} == {32510}
    assert {gpu["architecture"] for gpu in facts["gpus"]} == {"volta"}
    assert len({gpu["uuid"] for gpu in facts["gpus"]}) == 8
    # Volta cannot use NVIDIA's open kernel modules.
    assert facts["recommended_kernel_module"] == "proprietary"
    assert facts["driver_version"] == "460.73.01"
    assert facts["cuda_version"] == "11.2"

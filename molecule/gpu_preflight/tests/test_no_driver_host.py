"""The H100 seen on the PCI bus before any driver is installed."""

import json

import pytest

testinfra_hosts = ["jammy-nodrv"]


@pytest.fixture(scope="module")
def facts(host):
    return json.loads(host.file("/etc/onprem-preflight-facts.json").content_string)


def test_pci_only_host_reports_the_missing_driver(facts):
    (gpu,) = facts["gpus"]
    assert facts["driver_loaded"] is False
    assert facts["driver_version"] is None
    assert "H100" in gpu["name"]
    assert gpu["architecture"] == "hopper"
    assert facts["recommended_kernel_module"] == "open"

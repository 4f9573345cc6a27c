"""NVML collection through a fake pynvml module (no GPU here)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from gpu_test_helpers import FakeNvml

from ansible_collections.onprem.llm.plugins.module_utils.gpu import nvml


def test_collect_two_gpus():
    fake = FakeNvml()
    result = nvml.collect(fake)
    assert fake.shutdown_called
    assert (result["driver_version"], result["cuda_version"], result["attached_gpus"]) == ("550.127.05", "12.4", 2)
    first, second = result["gpus"]
    assert first == {
        "index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-0", "pci_bus_id": "0000:1b:00.0",
        "pci_device_id": "0x2330", "memory_mib": 81559, "compute_capability": "9.0", "architecture": "hopper",
        "mig": {"mode": "enabled", "pending_mode": "enabled", "devices": [
            {"index": 0, "gpu_instance_id": 2, "compute_instance_id": 0, "memory_mib": 40192,
             "multiprocessor_count": 60}]},
    }
    assert (second["name"], second["pci_bus_id"], second["compute_capability"]) == (None, None, None)
    assert second["architecture"] == "pascal"
    assert second["mig"] == {"mode": "unsupported", "pending_mode": "unsupported", "devices": []}


@pytest.mark.parametrize("code, state", [(9, "driver_not_loaded"), (18, "driver_mismatch"), (12, "nvml_failed")])
def test_init_failures_map_to_states(code, state):
    with pytest.raises(nvml.NvmlError) as caught:
        nvml.collect(FakeNvml(init_error=code))
    assert caught.value.state == state
    assert "NVML could not start" in caught.value.message


def test_failure_while_reading_still_shuts_down():
    fake = FakeNvml(count_error=999)
    with pytest.raises(nvml.NvmlError, match="while reading"):
        nvml.collect(fake)
    assert fake.shutdown_called


def test_mig_disabled_lists_no_devices():
    fake = FakeNvml()
    fake.nvmlDeviceGetMigMode = lambda handle: (0, 1)
    assert nvml._mig(fake, ("gpu", 0)) == {"mode": "disabled", "pending_mode": "enabled", "devices": []}


def test_cuda_version_format():
    assert nvml.cuda_version(12020) == "12.2"
    assert nvml.cuda_version(11080) == "11.8"
    assert nvml.cuda_version(None) is None


def test_import_pynvml(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # None in sys.modules makes import fail
    assert nvml.import_pynvml() is None
    fake = SimpleNamespace()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert nvml.import_pynvml() is fake

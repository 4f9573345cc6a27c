"""Helpers for the GPU detection tests: captured nvidia-smi outputs and fake sysfs trees.

A plain module, not conftest.py, so test files can import it by a name no other test directory uses.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace


ROOT = Path(__file__).resolve().parents[5]
SMI_FIXTURES = ROOT / "tests" / "fixtures" / "nvidia-smi"
DOUBLES = ROOT / "tests" / "doubles"


def read_smi(name):
    return (SMI_FIXTURES / name).read_text()


def add_pci(sysfs, bus_id, device, class_code="0x030200", vendor="0x10de"):
    base = sysfs / "bus" / "pci" / "devices" / bus_id
    base.mkdir(parents=True)
    for key, value in (("vendor", vendor), ("device", device), ("class", class_code),
                       ("subsystem_vendor", "0x10de"), ("subsystem_device", "0x1234")):
        (base / key).write_text(value + "\n")
    return base


class FakeNVMLError(Exception):
    def __init__(self, value):
        super().__init__("NVML error %d" % value)
        self.value = value


MIB = 1024 * 1024


class FakeNvml:
    """Two GPUs: an H100 with MIG on (one 3g.40gb device) and an old card where most calls fail."""

    NVML_DEVICE_MIG_ENABLE = 1

    def __init__(self, init_error=None, count_error=None):
        self.init_error = init_error
        self.count_error = count_error
        self.shutdown_called = False

    def nvmlInit(self):
        if self.init_error is not None:
            raise FakeNVMLError(self.init_error)

    def nvmlShutdown(self):
        self.shutdown_called = True

    def nvmlSystemGetDriverVersion(self):
        return b"550.127.05"  # older pynvml returns bytes

    def nvmlSystemGetCudaDriverVersion(self):
        return 12040

    def nvmlDeviceGetCount(self):
        if self.count_error:
            raise FakeNVMLError(self.count_error)
        return 2

    def nvmlDeviceGetHandleByIndex(self, index):
        return ("gpu", index)

    def nvmlDeviceGetName(self, handle):
        if handle[1] == 1:
            raise FakeNVMLError(3)
        return "NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetUUID(self, handle):
        return "GPU-%d" % handle[1]

    def nvmlDeviceGetPciInfo(self, handle):
        if handle[1] == 1:
            raise FakeNVMLError(3)
        return SimpleNamespace(busId=b"00000000:1B:00.0", pciDeviceId=0x233010DE)

    def nvmlDeviceGetMemoryInfo(self, handle):
        if handle == ("mig", 0):
            return SimpleNamespace(total=40192 * MIB)
        return SimpleNamespace(total=81559 * MIB)

    def nvmlDeviceGetCudaComputeCapability(self, handle):
        if handle[1] == 1:
            raise FakeNVMLError(3)
        return (9, 0)

    def nvmlDeviceGetArchitecture(self, handle):
        return 9 if handle[1] == 0 else 4

    def nvmlDeviceGetMigMode(self, handle):
        if handle[1] == 1:
            raise FakeNVMLError(3)  # NotSupported
        return (1, 1)

    def nvmlDeviceGetMaxMigDeviceCount(self, handle):
        return 2

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle, slot):
        if slot == 1:
            raise FakeNVMLError(13)  # NotFound: an empty slot
        return ("mig", slot)

    def nvmlDeviceGetGpuInstanceId(self, handle):
        return 2

    def nvmlDeviceGetComputeInstanceId(self, handle):
        return 0

    def nvmlDeviceGetAttributes(self, handle):
        return SimpleNamespace(multiprocessorCount=60)

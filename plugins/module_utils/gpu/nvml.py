# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The facts nvidia-smi gives, read through NVML (the ``pynvml`` module of nvidia-ml-py).

``collect(nvml)`` takes the imported module so tests can hand in a fake one; it returns the
same mapping as ``smi.parse_xml`` or raises ``NvmlError`` with a gpu_facts state.
"""

from __future__ import absolute_import, division, print_function

from ansible_collections.onprem.llm.plugins.module_utils.gpu.catalog import (
    architecture_from_cc, format_device_id,
)
from ansible_collections.onprem.llm.plugins.module_utils.gpu.pci import normalize_bus_id

__metaclass__ = type

# NVML_DEVICE_ARCH_* values (nvml.h); nvidia-smi's exit codes are these same NVML error numbers.
_ARCH_NAMES = {2: "kepler", 3: "maxwell", 4: "pascal", 5: "volta", 6: "turing", 7: "ampere",
               8: "ada", 9: "hopper", 10: "blackwell"}
_ERROR_STATES = {9: "driver_not_loaded", 18: "driver_mismatch", 6: "no_devices"}


class NvmlError(Exception):
    def __init__(self, state, message):
        super(NvmlError, self).__init__(message)
        self.state = state
        self.message = message


def import_pynvml():
    """The pynvml module, or None when nvidia-ml-py is not installed on the host."""
    try:
        import pynvml  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return pynvml


def _str(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _optional(call, *args):
    """Fields some GPUs or drivers do not support come back as None instead of raising."""
    try:
        return call(*args)
    except Exception:  # pylint: disable=broad-except  # NVMLError_NotSupported and friends
        return None


def cuda_version(number):
    """NVML's 12020 -> '12.2'."""
    if not number:
        return None
    return "%d.%d" % (number // 1000, (number % 1000) // 10)


def _mig(nvml, handle):
    modes = _optional(nvml.nvmlDeviceGetMigMode, handle)
    if not modes:
        return {"mode": "unsupported", "pending_mode": "unsupported", "devices": []}
    enabled = getattr(nvml, "NVML_DEVICE_MIG_ENABLE", 1)
    current, pending = modes
    devices = []
    if current == enabled:
        for slot in range(_optional(nvml.nvmlDeviceGetMaxMigDeviceCount, handle) or 0):
            mig = _optional(nvml.nvmlDeviceGetMigDeviceHandleByIndex, handle, slot)
            if mig is None:
                continue
            memory = _optional(nvml.nvmlDeviceGetMemoryInfo, mig)
            attributes = _optional(nvml.nvmlDeviceGetAttributes, mig)
            devices.append({
                "index": len(devices),
                "gpu_instance_id": _optional(nvml.nvmlDeviceGetGpuInstanceId, mig),
                "compute_instance_id": _optional(nvml.nvmlDeviceGetComputeInstanceId, mig),
                "memory_mib": memory.total // (1024 * 1024) if memory else None,
                "multiprocessor_count": getattr(attributes, "multiprocessorCount", None),
            })
    return {"mode": "enabled" if current == enabled else "disabled",
            "pending_mode": "enabled" if pending == enabled else "disabled",
            "devices": devices}


def _gpu(nvml, index):
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    pci = _optional(nvml.nvmlDeviceGetPciInfo, handle)
    memory = _optional(nvml.nvmlDeviceGetMemoryInfo, handle)
    cc = _optional(nvml.nvmlDeviceGetCudaComputeCapability, handle)
    cc_text = "%d.%d" % tuple(cc) if cc else None
    arch = _ARCH_NAMES.get(_optional(nvml.nvmlDeviceGetArchitecture, handle)) or architecture_from_cc(cc_text)
    return {
        "index": index,
        "name": _str(_optional(nvml.nvmlDeviceGetName, handle)),
        "uuid": _str(_optional(nvml.nvmlDeviceGetUUID, handle)),
        "pci_bus_id": normalize_bus_id(_str(pci.busId)) if pci else None,
        # pciDeviceId packs device << 16 | vendor, as nvidia-smi's '20B210DE'
        "pci_device_id": format_device_id(pci.pciDeviceId >> 16) if pci else None,
        "memory_mib": memory.total // (1024 * 1024) if memory else None,
        "compute_capability": cc_text,
        "architecture": arch,
        "mig": _mig(nvml, handle),
    }


def collect(nvml):
    """Read every GPU through NVML; always shuts NVML down again."""
    try:
        nvml.nvmlInit()
    except Exception as exc:  # pylint: disable=broad-except  # NVMLError subclasses per code
        code = getattr(exc, "value", None)
        raise NvmlError(_ERROR_STATES.get(code, "nvml_failed"), "NVML could not start: %s" % (exc,))
    try:
        result = {
            "driver_version": _str(_optional(nvml.nvmlSystemGetDriverVersion)),
            "cuda_version": cuda_version(_optional(nvml.nvmlSystemGetCudaDriverVersion)),
            "gpus": [],
        }
        count = nvml.nvmlDeviceGetCount()
        result["attached_gpus"] = count
        result["gpus"] = [_gpu(nvml, index) for index in range(count)]
        return result
    except Exception as exc:  # pylint: disable=broad-except
        raise NvmlError("nvml_failed", "NVML failed while reading the GPUs: %s" % (exc,))
    finally:
        _optional(nvml.nvmlShutdown)

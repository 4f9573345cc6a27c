# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build ``ansible_facts.onprem_gpu`` from the PCI bus, the kernel module, NVML and nvidia-smi.

The PCI view always exists; the driver's view (NVML first, then one ``nvidia-smi -q -x``)
replaces it when it works. Every failure becomes a ``state`` and a ``message``, never an exception.
"""

from __future__ import absolute_import, division, print_function

from ansible_collections.onprem.llm.plugins.module_utils.gpu import catalog, host, pci, smi
from ansible_collections.onprem.llm.plugins.module_utils.gpu.nvml import NvmlError
from ansible_collections.onprem.llm.plugins.module_utils.gpu.nvml import collect as collect_nvml

__metaclass__ = type

# States other than ok/no_gpu; each comes with a message saying what to do.
STATES = ("ok", "no_gpu", "no_driver", "driver_not_loaded", "driver_mismatch", "no_devices",
          "nvidia_smi_missing", "nvidia_smi_failed")
# NVML failures that are worth reporting when nvidia-smi is absent; others (no libnvidia-ml,
# as on every host without a driver) say nothing the PCI view does not.
_NVML_STATES_KEPT = ("driver_not_loaded", "driver_mismatch", "no_devices")


def _unknown_mig():
    return {"mode": "unknown", "pending_mode": "unknown", "devices": []}


def gpu_from_pci(index, device, pci_names):
    """A GPU seen only on the PCI bus: names and capabilities from pci.ids and our table."""
    table_name, cc, arch = catalog.lookup(device["device"])
    name = pci.marketing_name(pci_names.get(device["device"])) or table_name
    return {
        "index": index,
        "name": name or "NVIDIA device %s" % catalog.format_device_id(device["device"]),
        "uuid": None,
        "pci_bus_id": device["bus_id"],
        "pci_device_id": catalog.format_device_id(device["device"]),
        "memory_mib": None,
        "compute_capability": cc,
        "architecture": arch,
        "mig": _unknown_mig(),
    }


def enrich(gpu, pci_by_bus):
    """Fill what the driver did not say (device id, compute capability, architecture)."""
    gpu = dict(gpu)
    if gpu.get("pci_device_id") is None and gpu.get("pci_bus_id") in pci_by_bus:
        gpu["pci_device_id"] = catalog.format_device_id(pci_by_bus[gpu["pci_bus_id"]]["device"])
    _name, cc, arch = catalog.lookup(catalog.parse_device_id(gpu.get("pci_device_id")), gpu.get("name"))
    gpu["compute_capability"] = gpu.get("compute_capability") or cc
    gpu["architecture"] = (gpu.get("architecture") or catalog.architecture_from_cc(gpu["compute_capability"])
                           or arch)
    return gpu


def _driver_view(run_smi, nvml):
    """(result or None, source, failure state or None, failure message or None)."""
    nvml_state = nvml_message = None
    if nvml is not None:
        try:
            return collect_nvml(nvml), "nvml", None, None
        except NvmlError as exc:
            nvml_state, nvml_message = exc.state, exc.message
    if run_smi is not None:
        rc, out, err = run_smi()
        if rc == 0:
            try:
                return smi.parse_xml(out), "nvidia-smi", None, None
            except smi.SmiParseError as exc:
                return None, "pci", "nvidia_smi_failed", str(exc)
        state, message = smi.classify_failure(rc, out, err)
        return None, "pci", state, message
    if nvml_state in _NVML_STATES_KEPT:
        return None, "pci", nvml_state, nvml_message
    return None, "pci", None, None


def _pci_only_state(pci_gpus, module, failure_state, failure_message, sysfs_path):
    if not pci_gpus:
        extra = (" (%s)" % failure_message) if failure_message else ""
        return "no_gpu", "No NVIDIA GPU on the PCI bus under %s%s." % (sysfs_path, extra)
    if failure_state:
        return failure_state, failure_message
    if module["loaded"]:
        return ("nvidia_smi_missing",
                "The nvidia kernel module %s is loaded but nvidia-smi is not installed and NVML is not "
                "available; GPU details come from the PCI bus only." % (module["version"] or ""))
    return ("no_driver",
            "%d NVIDIA GPU(s) on the PCI bus but no NVIDIA driver: the nvidia kernel module is not "
            "loaded and nvidia-smi is not installed." % len(pci_gpus))


def collect(sysfs_path="/sys", procfs_path="/proc", run_smi=None, nvml=None, pci_names=None,
            container_markers=host.CONTAINER_MARKERS):
    """The whole fact. ``run_smi`` is a callable returning (rc, stdout, stderr) for one
    ``nvidia-smi -q -x`` run, or None when nvidia-smi is not installed; ``nvml`` is the imported
    pynvml module or None; ``pci_names`` defaults to the host's pci.ids."""
    devices = pci.scan_pci(sysfs_path)
    pci_gpus = pci.nvidia_gpus(devices)
    pci_by_bus = dict((d["bus_id"], d) for d in pci_gpus)
    names = pci.load_pci_ids() if pci_names is None else pci_names
    module = host.driver_module(sysfs_path, procfs_path)

    result, source, failure_state, failure_message = _driver_view(run_smi, nvml)
    if result is not None and result["gpus"]:
        gpus = [enrich(gpu, pci_by_bus) for gpu in result["gpus"]]
        state = "ok"
        message = "%d NVIDIA GPU(s) read through %s, driver %s." % (
            len(gpus), source, result["driver_version"] or "unknown")
    else:
        if result is not None:
            failure_state, failure_message = "no_devices", "The NVIDIA driver answered but listed no GPU."
        gpus = [gpu_from_pci(index, device, names) for index, device in enumerate(pci_gpus)]
        source = "pci"
        state, message = _pci_only_state(pci_gpus, module, failure_state, failure_message, sysfs_path)

    return {
        "present": bool(gpus),
        "count": len(gpus),
        "pci_count": len(pci_gpus),
        "driver_loaded": bool(module["loaded"] or result is not None),
        "driver_version": (result or {}).get("driver_version") or module["version"],
        "cuda_version": (result or {}).get("cuda_version"),
        "kernel_module": module["flavour"],
        "source": source,
        "state": state,
        "message": message,
        "nvswitch": bool(pci.nvswitches(devices)) or host.nvswitch_from_procfs(procfs_path),
        "gpus": gpus,
        "recommended_kernel_module": catalog.recommended_kernel_module(gpus),
        "in_container": host.in_container(container_markers),
    }

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``nvidia-smi -q -x``: the one call gpu_facts makes, its XML, and what its failures mean."""

from __future__ import absolute_import, division, print_function

import re
import xml.etree.ElementTree as ET

from ansible_collections.onprem.llm.plugins.module_utils.gpu.catalog import (
    format_device_id, normalize_architecture, parse_device_id,
)
from ansible_collections.onprem.llm.plugins.module_utils.gpu.pci import normalize_bus_id

__metaclass__ = type

ARGV = ("-q", "-x")
# nvidia-smi translates nothing, but its NVML messages follow the locale on some builds.
ENVIRONMENT = {"LANGUAGE": "C", "LC_ALL": "C"}

# (pattern, state, message); first match wins. Texts are the real tool's, exit codes noted.
FAILURES = (
    (r"couldn't communicate with the NVIDIA driver", "driver_not_loaded",
     "nvidia-smi is installed but cannot talk to the NVIDIA driver (exit 9): the kernel module is "
     "not loaded, was never built for this kernel, or was rejected (Secure Boot)."),
    (r"Driver/library version mismatch", "driver_mismatch",
     "The loaded kernel module and the user-space NVIDIA libraries are different versions (exit 18): "
     "usually a driver upgrade without a reboot."),
    (r"No devices were found", "no_devices",
     "The NVIDIA driver is running but sees no GPU (exit 6): the GPU may have fallen off the bus, "
     "be bound to vfio-pci, or not be supported by this driver branch."),
    (r"Insufficient Permissions", "nvidia_smi_failed",
     "nvidia-smi lacks permission to open the NVIDIA device files (/dev/nvidia*)."),
)


def classify_failure(rc, stdout, stderr):
    """(state, message) for a failed nvidia-smi run; unknown failures keep the tool's own words."""
    text = "%s\n%s" % (stdout or "", stderr or "")
    for pattern, state, message in FAILURES:
        if re.search(pattern, text, re.IGNORECASE):
            return state, message
    said = " ".join(text.split())[:300] or "no output"
    return "nvidia_smi_failed", "nvidia-smi -q -x exited %s: %s" % (rc, said)


# What nvidia-smi prints for a value it does not have. "Not Found": <cuda_version> of driver
# 530.30.02 on a GeForce GTX 1070 (a capture published as test data; NVML had no CUDA version).
ABSENT = ("", "N/A", "None", "[N/A]", "Not Found")


def _text(element, path):
    """Stripped text at ``path``; None when missing, empty, or one of nvidia-smi's placeholders."""
    found = element.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return None if value in ABSENT else value


def _mib(text):
    """'81920 MiB' -> 81920; anything else -> None."""
    if not text:
        return None
    match = re.match(r"^(\d+)\s*MiB$", text)
    return int(match.group(1)) if match else None


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def mig_mode(current):
    """nvidia-smi's current_mig ('Enabled', 'Disabled', 'N/A', missing) -> our enum."""
    if current is None:
        return "unsupported"
    return "enabled" if current.lower() == "enabled" else "disabled"


def _mig_devices(gpu):
    devices = []
    for dev in gpu.findall("mig_devices/mig_device"):
        devices.append({
            "index": _int(_text(dev, "index")),
            "gpu_instance_id": _int(_text(dev, "gpu_instance_id")),
            "compute_instance_id": _int(_text(dev, "compute_instance_id")),
            "memory_mib": _mib(_text(dev, "fb_memory_usage/total")),
            "multiprocessor_count": _int(_text(dev, "device_attributes/shared/multiprocessor_count")),
        })
    return devices


def _gpu(position, gpu):
    bus_id = _text(gpu, "pci/pci_bus_id") or (gpu.get("id") or "").strip() or None
    current = _text(gpu, "mig_mode/current_mig")
    return {
        # nvidia-smi lists GPUs in its own index order (PCI bus order); minor_number is the
        # /dev/nvidiaN number, which can differ and is N/A on Windows.
        "index": position,
        "name": _text(gpu, "product_name"),
        "uuid": _text(gpu, "uuid"),
        "pci_bus_id": normalize_bus_id(bus_id),
        "pci_device_id": format_device_id(parse_device_id(_text(gpu, "pci/pci_device_id"))),
        "memory_mib": _mib(_text(gpu, "fb_memory_usage/total")),
        "compute_capability": _text(gpu, "compute_cap"),
        "architecture": normalize_architecture(_text(gpu, "product_architecture")),
        "mig": {
            "mode": mig_mode(current),
            "pending_mode": mig_mode(_text(gpu, "mig_mode/pending_mig")) if current else "unsupported",
            "devices": _mig_devices(gpu),
        },
    }


class SmiParseError(ValueError):
    pass


def parse_xml(text):
    """Parse ``nvidia-smi -q -x`` -> {'driver_version', 'cuda_version', 'attached_gpus', 'gpus'}.

    ``cuda_version`` is None on drivers older than 410, which did not print it. Values are
    strings/ints/None exactly as described in gpu_facts' RETURN; compute capability and
    architecture are None when the XML does not say (catalog fills them later).
    """
    try:
        root = ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)
    except ET.ParseError as exc:
        raise SmiParseError("nvidia-smi -q -x printed something that is not XML (%s)" % exc)
    if root.tag != "nvidia_smi_log":
        raise SmiParseError("nvidia-smi -q -x printed <%s>, expected <nvidia_smi_log>" % root.tag)
    return {
        "driver_version": _text(root, "driver_version"),
        "cuda_version": _text(root, "cuda_version"),
        "attached_gpus": _int(_text(root, "attached_gpus")),
        "gpus": [_gpu(position, gpu) for position, gpu in enumerate(root.findall("gpu"))],
    }

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PCI bus as ``<sysfs>/bus/pci/devices`` shows it: works before any NVIDIA driver exists."""

from __future__ import absolute_import, division, print_function

import os
import re

from ansible_collections.onprem.llm.plugins.module_utils.gpu.catalog import parse_device_id

__metaclass__ = type

NVIDIA_VENDOR = 0x10DE
# PCI base class + subclass (the top 16 bits of the 24-bit class code)
DISPLAY_VGA = 0x0300
DISPLAY_3D = 0x0302
BRIDGE_OTHER = 0x0680  # how NVSwitch chips present themselves

PCI_IDS_PATHS = ("/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids")


def _read_hex(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip(), 16)
    except (IOError, OSError, ValueError):
        return None


def scan_pci(sysfs_path):
    """Every PCI function under ``<sysfs>/bus/pci/devices``, sorted by address.

    Each is a dict: bus_id ('0000:17:00.0'), vendor, device, class_code (24-bit), subsystem_vendor,
    subsystem_device (ints or None). A missing or unreadable tree is an empty bus, not an error.
    """
    root = os.path.join(sysfs_path, "bus", "pci", "devices")
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    devices = []
    for name in names:
        path = os.path.join(root, name)
        devices.append({
            "bus_id": name.lower(),
            "vendor": _read_hex(os.path.join(path, "vendor")),
            "device": _read_hex(os.path.join(path, "device")),
            "class_code": _read_hex(os.path.join(path, "class")),
            "subsystem_vendor": _read_hex(os.path.join(path, "subsystem_vendor")),
            "subsystem_device": _read_hex(os.path.join(path, "subsystem_device")),
        })
    return devices


def _is_nvidia_class(device, classes):
    return (device["vendor"] == NVIDIA_VENDOR and device["class_code"] is not None
            and (device["class_code"] >> 8) in classes)


def nvidia_gpus(devices):
    """NVIDIA display / 3D controllers; HDMI audio and USB functions of the same card are left out."""
    return [d for d in devices if _is_nvidia_class(d, (DISPLAY_VGA, DISPLAY_3D))]


def nvswitches(devices):
    return [d for d in devices if _is_nvidia_class(d, (BRIDGE_OTHER,))]


def normalize_bus_id(bus_id):
    """'00000000:01:00.0' (nvidia-smi, NVML) or '0000:01:00.0' -> sysfs form '0000:01:00.0'."""
    if not bus_id:
        return None
    match = re.match(r"^([0-9a-fA-F]+):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$", bus_id.strip())
    if not match:
        return bus_id.strip().lower()
    domain, bus, slot, func = match.groups()
    return "%04x:%s:%s.%s" % (int(domain, 16), bus.lower(), slot.lower(), func)


def parse_pci_ids(text, vendor=NVIDIA_VENDOR):
    """Device names of one vendor from pci.ids text: {0x20b2: 'GA100 [A100 SXM4 80GB]', ...}."""
    names = {}
    wanted = "%04x" % vendor
    inside = False
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith("\t"):
            inside = line[:4].lower() == wanted
            continue
        if inside and not line.startswith("\t\t"):
            code, _sep, name = line.strip().partition(" ")
            device_id = parse_device_id(code)
            if device_id is not None:
                names[device_id] = name.strip()
    return names


def load_pci_ids(paths=PCI_IDS_PATHS):
    """NVIDIA names from the first readable pci.ids; empty when the host has none."""
    for path in paths:
        try:
            with open(path, "rb") as handle:
                return parse_pci_ids(handle.read().decode("utf-8", "replace"))
        except (IOError, OSError):
            continue
    return {}


def marketing_name(pci_ids_name):
    """'GA100 [A100 SXM4 80GB]' -> 'A100 SXM4 80GB'; names without brackets are kept."""
    if not pci_ids_name:
        return None
    match = re.search(r"\[(.+)\]", pci_ids_name)
    return match.group(1) if match else pci_ids_name

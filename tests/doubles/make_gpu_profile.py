#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the fake GPU tree of one profile from gpu_profiles.yml into a directory.

    make_gpu_profile.py --profile a100x8_nvswitch --out /tmp/tree
    make_gpu_profile.py --list

The lab copies the directory to /usr/share/onprem-llm-double/ on a node, installs
nvidia_smi_double.py as /usr/bin/nvidia-smi when the ``install_nvidia_smi`` file says ``true``,
and runs gpu_facts with sysfs_path/procfs_path pointing at its sys/ and proc/. The layout is
described in tests/doubles/README.md. Standard library only.
"""

from __future__ import print_function

import argparse
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
PROFILES = os.path.join(HERE, "gpu_profiles.yml")
FIXTURES = os.path.join(HERE, "..", "fixtures", "nvidia-smi")

NVIDIA = "0x10de"
# Device ids for captures that carry no <pci_device_id> (trimmed outputs); by product name.
DEVICE_BY_NAME = {"NVIDIA A100-PCIE-40GB": "0x20f1", "GeForce GTX 1070 Ti": "0x1b82"}
NVSWITCH_DEVICE = "0x1af1"  # A100 NVSwitch
NVSWITCH_COUNT = 6  # an HGX A100 8-GPU baseboard carries six


def load_profiles(path=PROFILES):
    """gpu_profiles.yml is JSON below its '---' document start and '#' comment lines."""
    with open(path) as handle:
        body = "".join(line for line in handle if not line.startswith("#") and line.rstrip() != "---")
    return json.loads(body)


def _text(element, path):
    found = element.find(path)
    return found.text.strip() if found is not None and found.text and found.text.strip() != "N/A" else None


def sysfs_bus_id(bus_id):
    """'00000000:01:00.0' -> '0000:01:00.0'."""
    domain, rest = bus_id.split(":", 1)
    return ("%04x:%s" % (int(domain, 16), rest)).lower()


def pci_from_xml(text):
    """PCI functions of the GPUs in an nvidia-smi capture (ids split from '20B210DE' forms)."""
    devices = []
    for gpu in ET.fromstring(text.encode("utf-8")).findall("gpu"):
        name = _text(gpu, "product_name") or ""
        device_and_vendor = _text(gpu, "pci/pci_device_id")
        subsystem = _text(gpu, "pci/pci_sub_system_id") or "000010DE"
        device = "0x" + device_and_vendor[:4].lower() if device_and_vendor else DEVICE_BY_NAME.get(name)
        if device is None:
            raise SystemExit("no PCI device id for %r: add it to DEVICE_BY_NAME" % name)
        # GeForce/Quadro boards have display outputs (VGA class); data-center boards are 3D controllers.
        display = any(word in name for word in ("GeForce", "Quadro", "TITAN", "RTX"))
        devices.append({
            "bus_id": sysfs_bus_id(_text(gpu, "pci/pci_bus_id") or gpu.get("id")),
            "device": device,
            "class": "0x030000" if display else "0x030200",
            "subsystem_vendor": "0x" + subsystem[4:].lower(),
            "subsystem_device": "0x" + subsystem[:4].lower(),
        })
    return devices


def _write(path, text):
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    with open(path, "w") as handle:
        handle.write(text)


def write_pci_device(out, device, vendor=NVIDIA):
    base = os.path.join(out, "sys", "bus", "pci", "devices", device["bus_id"])
    _write(os.path.join(base, "vendor"), vendor + "\n")
    for key in ("device", "class", "subsystem_vendor", "subsystem_device"):
        _write(os.path.join(base, key), device[key] + "\n")


def driver_version(text):
    return _text(ET.fromstring(text.encode("utf-8")), "driver_version") if text else None


def build(name, profile, out, fixtures=FIXTURES):
    """Write profile ``name`` into ``out`` (emptied first); return the summary printed as JSON."""
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    text = None
    if profile.get("xml"):
        with open(os.path.join(fixtures, profile["xml"])) as handle:
            text = handle.read()
    devices = list(profile.get("pci") or []) + (pci_from_xml(text) if text else [])
    for device in devices:
        write_pci_device(out, device)
    # An empty bus still needs the directory, or gpu_facts cannot tell "no GPU" from "wrong path".
    if not os.path.isdir(os.path.join(out, "sys", "bus", "pci", "devices")):
        os.makedirs(os.path.join(out, "sys", "bus", "pci", "devices"))
    os.makedirs(os.path.join(out, "proc", "driver"))

    driver = profile["driver"]
    version = driver_version(text) or "550.127.05"
    if driver in ("loaded", "mismatch"):
        _write(os.path.join(out, "sys", "module", "nvidia", "version"), version + "\n")
        _write(os.path.join(out, "proc", "driver", "nvidia", "version"),
               "NVRM version: NVIDIA UNIX x86_64 Kernel Module  %s  Release Build  (onprem-llm double)\n"
               "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n" % version)
    if profile.get("nvswitch"):
        for number in range(NVSWITCH_COUNT):
            bus_id = "0000:%02x:00.0" % (0xc0 + number)
            write_pci_device(out, {"bus_id": bus_id, "device": NVSWITCH_DEVICE, "class": "0x068000",
                                   "subsystem_vendor": NVIDIA, "subsystem_device": "0x1622"})
            _write(os.path.join(out, "proc", "driver", "nvidia-nvswitch", "devices", bus_id),
                   "Model: NVSwitch\n")
    install_smi = driver != "absent"
    mode = {"loaded": "ok", "no_driver": "no_driver", "mismatch": "mismatch"}.get(driver, "ok")
    if install_smi and text:
        _write(os.path.join(out, "nvidia-smi.xml"), text)
    _write(os.path.join(out, "mode"), mode + "\n")
    _write(os.path.join(out, "install_nvidia_smi"), ("true" if install_smi else "false") + "\n")
    summary = {"profile": name, "install_nvidia_smi": install_smi, "mode": mode,
               "pci_gpus": len(devices), "expect": profile.get("expect", {})}
    _write(os.path.join(out, "profile.json"), json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", help="profile name from gpu_profiles.yml")
    parser.add_argument("--out", help="directory to (re)create")
    parser.add_argument("--list", action="store_true", help="print the profile names and exit")
    parser.add_argument("--profiles", default=PROFILES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    profiles = load_profiles(args.profiles)
    if args.list:
        print("\n".join(sorted(profiles)))
        return 0
    if not args.profile or not args.out:
        parser.error("--profile and --out are required")
    if args.profile not in profiles:
        parser.error("unknown profile %r; known: %s" % (args.profile, ", ".join(sorted(profiles))))
    print(json.dumps(build(args.profile, profiles[args.profile], args.out), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

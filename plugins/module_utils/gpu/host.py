# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel-side facts: is the nvidia module loaded, which flavour, NVSwitch, are we in a container."""

from __future__ import absolute_import, division, print_function

import os
import re

__metaclass__ = type

# Absolute on purpose: these describe the host running the module, not a fake tree.
CONTAINER_MARKERS = ("/run/.containerenv", "/.dockerenv", "/run/systemd/container")

_PROC_VERSION = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)")


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError, UnicodeDecodeError):
        return None


def parse_proc_version(text):
    """``/proc/driver/nvidia/version`` -> (version, 'open'|'proprietary') or (None, None).

    Proprietary: 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.54.03  Tue Jun ...'
    Open:        'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  535.54.03  Release Build ...'
    """
    if not text:
        return None, None
    first = text.splitlines()[0]
    match = _PROC_VERSION.search(first)
    if not match:
        return None, None
    return match.group(1), "open" if "Open Kernel Module" in first else "proprietary"


def driver_module(sysfs_path, procfs_path):
    """{'loaded', 'version', 'flavour'} of the nvidia kernel module.

    Loaded means ``<sysfs>/module/nvidia`` exists; the version comes from its ``version`` file,
    else from ``<procfs>/driver/nvidia/version`` (which alone tells open from proprietary).
    """
    module_dir = os.path.join(sysfs_path, "module", "nvidia")
    loaded = os.path.isdir(module_dir)
    version = None
    if loaded:
        version = (_read(os.path.join(module_dir, "version")) or "").strip() or None
    proc_version, flavour = parse_proc_version(_read(os.path.join(procfs_path, "driver", "nvidia", "version")))
    if loaded and not version:
        version = proc_version
    return {"loaded": loaded, "version": version, "flavour": flavour if loaded else None}


def nvswitch_from_procfs(procfs_path):
    """True when ``<procfs>/driver/nvidia-nvswitch/devices`` lists at least one switch."""
    try:
        return bool(os.listdir(os.path.join(procfs_path, "driver", "nvidia-nvswitch", "devices")))
    except OSError:
        return False


def in_container(markers=CONTAINER_MARKERS):
    return any(os.path.exists(path) for path in markers)

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What we know about NVIDIA GPUs without asking a driver.

Device ids come from pci.ids (2023.04) and NVIDIA's driver README "supported products" list;
compute capabilities from NVIDIA's CUDA GPUs page. The table only has to be right for the GPUs
an LLM host plausibly carries; anything else falls back to the product name, then to the
device-id range (every Turing and newer chip has a device id >= 0x1e00).
"""

from __future__ import absolute_import, division, print_function

import re

__metaclass__ = type

# compute capability -> architecture; ordered so the first matching prefix wins.
_ARCH_BY_CC = (
    ("3.", "kepler"), ("5.", "maxwell"), ("6.", "pascal"), ("7.0", "volta"), ("7.2", "volta"),
    ("7.5", "turing"), ("8.9", "ada"), ("8.", "ampere"), ("9.", "hopper"), ("10.", "blackwell"),
    ("11.", "blackwell"), ("12.", "blackwell"),
)

# Architectures whose GPUs the open kernel modules drive (Turing and newer).
OPEN_MODULE_ARCHITECTURES = ("turing", "ampere", "ada", "hopper", "blackwell")
LEGACY_ARCHITECTURES = ("kepler", "maxwell", "pascal", "volta")
FIRST_TURING_DEVICE_ID = 0x1E00

# device id -> (name, compute capability)
DEVICES = {
    0x102D: ("Tesla K80", "3.7"),
    0x15F7: ("Tesla P100 PCIe 12GB", "6.0"),
    0x15F8: ("Tesla P100 PCIe 16GB", "6.0"),
    0x15F9: ("Tesla P100 SXM2 16GB", "6.0"),
    0x1B06: ("GeForce GTX 1080 Ti", "6.1"),
    0x1B38: ("Tesla P40", "6.1"),
    0x1B80: ("GeForce GTX 1080", "6.1"),
    0x1B81: ("GeForce GTX 1070", "6.1"),
    0x1B82: ("GeForce GTX 1070 Ti", "6.1"),
    0x1BB3: ("Tesla P4", "6.1"),
    0x1CB3: ("Quadro P400", "6.1"),
    0x1D01: ("GeForce GT 1030", "6.1"),
    0x1DB1: ("Tesla V100 SXM2 16GB", "7.0"),
    0x1DB4: ("Tesla V100 PCIe 16GB", "7.0"),
    0x1DB5: ("Tesla V100 SXM2 32GB", "7.0"),
    0x1DB6: ("Tesla V100 PCIe 32GB", "7.0"),
    0x1DB8: ("Tesla V100 SXM3 32GB", "7.0"),
    0x1DF6: ("Tesla V100S PCIe 32GB", "7.0"),
    0x1E04: ("GeForce RTX 2080 Ti", "7.5"),
    0x1E07: ("GeForce RTX 2080 Ti Rev. A", "7.5"),
    0x1E82: ("GeForce RTX 2080", "7.5"),
    0x1EB8: ("Tesla T4", "7.5"),
    0x1F02: ("GeForce RTX 2070", "7.5"),
    0x1F07: ("GeForce RTX 2070 Rev. A", "7.5"),
    0x2182: ("GeForce GTX 1660 Ti", "7.5"),
    0x20B0: ("A100 SXM4 40GB", "8.0"),
    0x20B2: ("A100 SXM4 80GB", "8.0"),
    0x20B5: ("A100 PCIe 80GB", "8.0"),
    0x20B7: ("A30 PCIe", "8.0"),
    0x20F1: ("A100 PCIe 40GB", "8.0"),
    0x2204: ("GeForce RTX 3090", "8.6"),
    0x2206: ("GeForce RTX 3080", "8.6"),
    0x2230: ("RTX A6000", "8.6"),
    0x2235: ("A40", "8.6"),
    0x2236: ("A10", "8.6"),
    0x2237: ("A10G", "8.6"),
    0x2503: ("GeForce RTX 3060", "8.6"),
    0x25B6: ("A2 / A16", "8.6"),
    0x2684: ("GeForce RTX 4090", "8.9"),
    0x26B1: ("RTX 6000 Ada Generation", "8.9"),
    0x26B5: ("L40", "8.9"),
    0x26B9: ("L40S", "8.9"),
    0x27B8: ("L4", "8.9"),
    0x2321: ("H100 NVL", "9.0"),
    0x2330: ("H100 SXM5 80GB", "9.0"),
    0x2331: ("H100 PCIe", "9.0"),
    0x2335: ("H200 SXM 141GB", "9.0"),
    0x2342: ("GH200 480GB", "9.0"),
    0x2901: ("B200", "10.0"),
    0x2941: ("GB200", "10.0"),
    0x2B85: ("GeForce RTX 5090", "12.0"),
    0x2BB1: ("RTX PRO 6000 Blackwell", "12.0"),
}

# NVSwitch chips (PCI class 0x0680); the id only names them, detection goes by class.
NVSWITCH_DEVICES = {0x1AC0: "NVSwitch (Volta)", 0x1AC1: "NVSwitch (Volta)", 0x1AC2: "NVSwitch (Volta)",
                    0x1AF1: "A100 NVSwitch", 0x22A3: "H100 NVSwitch"}

# Product-name patterns for when the device id is unknown or absent (nvidia-smi on old drivers,
# trimmed outputs). Most specific first.
_NAME_PATTERNS = (
    (r"\bGB200\b", "10.0"), (r"\bB200\b", "10.0"), (r"\bGH200\b", "9.0"), (r"\bH200\b", "9.0"),
    (r"\bH100\b", "9.0"), (r"\bH800\b", "9.0"), (r"\bL40S?\b", "8.9"), (r"\bL4\b", "8.9"),
    (r"RTX \d+ (?:SFF )?Ada", "8.9"), (r"RTX 50\d\d", "12.0"), (r"RTX PRO \d+ Blackwell", "12.0"),
    (r"RTX 40\d\d", "8.9"), (r"\bA100\b", "8.0"), (r"\bA800\b", "8.0"), (r"\bA30\b", "8.0"),
    (r"\bA10G?\b", "8.6"), (r"\bA16\b", "8.6"), (r"\bA2\b", "8.6"), (r"\bA40\b", "8.6"),
    (r"RTX A\d000", "8.6"), (r"RTX 30\d\d", "8.6"), (r"\bT4\b", "7.5"), (r"RTX 20\d\d", "7.5"),
    (r"GTX 16\d\d", "7.5"), (r"Quadro RTX", "7.5"), (r"TITAN RTX", "7.5"), (r"\bV100S?\b", "7.0"),
    (r"TITAN V\b", "7.0"), (r"\bP100\b", "6.0"), (r"\bP40\b", "6.1"), (r"\bP4\b", "6.1"),
    (r"GTX 10\d\d", "6.1"), (r"GT 10\d\d", "6.1"), (r"Quadro P\d+", "6.1"), (r"\bK80\b", "3.7"),
    (r"\bM60\b", "5.2"), (r"\bM40\b", "5.2"), (r"\bM10\b", "5.0"),
)


def parse_device_id(value):
    """0x20b2, '0x20b2', '20b2' or nvidia-smi's '20B210DE' (device then vendor) -> int, else None."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    if len(text) == 8:
        text = text[:4]
    if not text or len(text) > 4 or not re.match(r"^[0-9a-f]+$", text):
        return None
    return int(text, 16)


def format_device_id(device_id):
    return None if device_id is None else "0x%04x" % device_id


def architecture_from_cc(cc):
    if not cc:
        return None
    for prefix, arch in _ARCH_BY_CC:
        if cc.startswith(prefix):
            return arch
    return None


def normalize_architecture(text):
    """nvidia-smi's product_architecture ('Ada Lovelace', 'Hopper', 'N/A') -> 'ada', 'hopper', None."""
    if not text:
        return None
    word = text.strip().split()[0].lower()
    known = LEGACY_ARCHITECTURES + OPEN_MODULE_ARCHITECTURES
    return word if word in known else None


def cc_from_name(name):
    if not name:
        return None
    for pattern, cc in _NAME_PATTERNS:
        if re.search(pattern, name, re.IGNORECASE):
            return cc
    return None


def lookup(device_id=None, name=None):
    """(table name or None, compute capability or None, architecture or None) for a GPU."""
    entry = DEVICES.get(device_id) if device_id is not None else None
    if entry:
        return entry[0], entry[1], architecture_from_cc(entry[1])
    cc = cc_from_name(name)
    return None, cc, architecture_from_cc(cc)


def open_module_capable(gpu):
    """True (Turing+), False (Maxwell/Pascal/Volta and older) or None (cannot tell) for one GPU."""
    cc = gpu.get("compute_capability")
    if cc:
        major, _dot, minor = cc.partition(".")
        try:
            return (int(major), int(minor or 0)) >= (7, 5)
        except ValueError:
            pass
    arch = gpu.get("architecture")
    if arch in OPEN_MODULE_ARCHITECTURES:
        return True
    if arch in LEGACY_ARCHITECTURES:
        return False
    device_id = parse_device_id(gpu.get("pci_device_id"))
    if device_id is not None:
        return device_id >= FIRST_TURING_DEVICE_ID
    return None


def recommended_kernel_module(gpus):
    """'open' when every GPU is Turing or newer, 'proprietary' when any is older, None without GPUs.

    GPUs we cannot place are left out of the vote; if none can be placed the answer is None.
    """
    votes = [open_module_capable(gpu) for gpu in gpus]
    if False in votes:
        return "proprietary"
    if True in votes:
        return "open"
    return None


# Data-center or not: NVIDIA's forward compatibility (cuda-compat) and the CUDA plans depend on it.
_DATACENTER_RE = re.compile(
    r"\b(tesla|[abhl]\d{1,3}[a-z]?|g[bh]\d{3}|b\d{3}|t4|v100|p100|p40|p4|server edition|dgx|hgx)\b",
    re.IGNORECASE,
)
_CONSUMER_RE = re.compile(r"geforce|titan|quadro|\brtx\b", re.IGNORECASE)


def is_datacenter_gpu(name):
    """Heuristic on the product name: A100, H100, L40S, T4, Tesla V100 ... yes; GeForce/RTX/Quadro no.

    NVIDIA's forward compatibility (cuda-compat) works only on data-center GPUs and a few
    "NGC Server Ready" RTX SKUs; an RTX name counts only with "Server Edition" in it.
    """
    text = str(name or "")
    if _CONSUMER_RE.search(text) and "server edition" not in text.lower():
        return False
    return bool(_DATACENTER_RE.search(text))

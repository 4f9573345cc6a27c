"""Compute capability / architecture table and the open-vs-proprietary kernel module decision."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.gpu import catalog


@pytest.mark.parametrize("device_id, cc, arch", [
    (0x102D, "3.7", "kepler"),      # K80
    (0x15F8, "6.0", "pascal"),      # P100
    (0x1B38, "6.1", "pascal"),      # P40
    (0x1B80, "6.1", "pascal"),      # GTX 1080
    (0x1DB6, "7.0", "volta"),       # V100 PCIe 32GB
    (0x1EB8, "7.5", "turing"),      # T4
    (0x1E82, "7.5", "turing"),      # RTX 2080
    (0x20B0, "8.0", "ampere"),      # A100 SXM4 40GB
    (0x20B2, "8.0", "ampere"),      # A100 SXM4 80GB
    (0x20F1, "8.0", "ampere"),      # A100 PCIe 40GB
    (0x20B5, "8.0", "ampere"),      # A100 PCIe 80GB
    (0x20B7, "8.0", "ampere"),      # A30
    (0x2236, "8.6", "ampere"),      # A10
    (0x2235, "8.6", "ampere"),      # A40
    (0x25B6, "8.6", "ampere"),      # A16
    (0x2204, "8.6", "ampere"),      # RTX 3090
    (0x2230, "8.6", "ampere"),      # RTX A6000
    (0x27B8, "8.9", "ada"),         # L4
    (0x26B5, "8.9", "ada"),         # L40
    (0x26B9, "8.9", "ada"),         # L40S
    (0x2684, "8.9", "ada"),         # RTX 4090
    (0x26B1, "8.9", "ada"),         # RTX 6000 Ada
    (0x2331, "9.0", "hopper"),      # H100 PCIe
    (0x2330, "9.0", "hopper"),      # H100 SXM5
    (0x2321, "9.0", "hopper"),      # H100 NVL
    (0x2335, "9.0", "hopper"),      # H200
    (0x2342, "9.0", "hopper"),      # GH200
    (0x2901, "10.0", "blackwell"),  # B200
    (0x2941, "10.0", "blackwell"),  # GB200
    (0x2B85, "12.0", "blackwell"),  # RTX 5090
])
def test_device_table(device_id, cc, arch):
    name, found_cc, found_arch = catalog.lookup(device_id)
    assert name and (found_cc, found_arch) == (cc, arch)


@pytest.mark.parametrize("name, cc", [
    ("NVIDIA H100 80GB HBM3", "9.0"), ("NVIDIA H100 NVL", "9.0"), ("NVIDIA H200", "9.0"),
    ("NVIDIA GH200 480GB", "9.0"), ("NVIDIA B200", "10.0"), ("NVIDIA GB200", "10.0"),
    ("NVIDIA L40S", "8.9"), ("NVIDIA L40", "8.9"), ("NVIDIA L4", "8.9"),
    ("NVIDIA RTX 6000 Ada Generation", "8.9"), ("NVIDIA RTX 4000 SFF Ada Generation", "8.9"),
    ("NVIDIA RTX 2000 Ada Generation", "8.9"), ("NVIDIA GeForce RTX 5090", "12.0"),
    ("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", "12.0"),
    ("NVIDIA GeForce RTX 4090", "8.9"), ("NVIDIA A100-PCIE-40GB", "8.0"), ("NVIDIA A100-SXM4-80GB", "8.0"),
    ("NVIDIA A30", "8.0"), ("NVIDIA A10G", "8.6"), ("NVIDIA A10", "8.6"), ("NVIDIA A16", "8.6"),
    ("NVIDIA A40", "8.6"), ("NVIDIA RTX A6000", "8.6"), ("NVIDIA GeForce RTX 3090", "8.6"),
    ("Tesla T4", "7.5"), ("NVIDIA GeForce RTX 2080", "7.5"), ("NVIDIA GeForce GTX 1660 Ti", "7.5"),
    ("Tesla V100-SXM2-32GB", "7.0"), ("Tesla V100S-PCIE-32GB", "7.0"), ("Tesla P100-PCIE-12GB_2", "6.0"),
    ("Tesla P40", "6.1"), ("GRID P4-1Q", "6.1"), ("GeForce GTX 1080", "6.1"), ("Quadro P400", "6.1"),
    ("NVIDIA GeForce GT 1030", "6.1"), ("Tesla K80", "3.7"), ("Tesla M60", "5.2"),
])
def test_product_names(name, cc):
    assert catalog.cc_from_name(name) == cc


def test_unknown_names_and_ids():
    assert catalog.lookup(0xFFFF, "Some Future GPU") == (None, None, None)
    assert catalog.lookup(None, None) == (None, None, None)
    assert catalog.cc_from_name("") is None
    # a name match still gives an architecture
    assert catalog.lookup(None, "NVIDIA H100 PCIe") == (None, "9.0", "hopper")


@pytest.mark.parametrize("value, expected", [
    (0x20B2, 0x20B2), ("0x20b2", 0x20B2), ("20B2", 0x20B2), ("20B210DE", 0x20B2), (" 0x1EB8\n", 0x1EB8),
    (None, None), ("", None), ("N/A", None), ("0x12345", None), ("zz", None),
])
def test_parse_device_id(value, expected):
    assert catalog.parse_device_id(value) == expected


def test_format_device_id():
    assert catalog.format_device_id(0x20B2) == "0x20b2"
    assert catalog.format_device_id(None) is None


@pytest.mark.parametrize("cc, arch", [
    ("3.5", "kepler"), ("5.2", "maxwell"), ("6.1", "pascal"), ("7.0", "volta"), ("7.2", "volta"),
    ("7.5", "turing"), ("8.0", "ampere"), ("8.6", "ampere"), ("8.7", "ampere"), ("8.9", "ada"),
    ("9.0", "hopper"), ("10.0", "blackwell"), ("12.0", "blackwell"), ("2.0", None), (None, None),
])
def test_architecture_from_cc(cc, arch):
    assert catalog.architecture_from_cc(cc) == arch


@pytest.mark.parametrize("text, arch", [
    ("Ada Lovelace", "ada"), ("Hopper", "hopper"), ("Turing", "turing"), ("Blackwell", "blackwell"),
    ("N/A", None), (None, None), ("Rubin", None),
])
def test_normalize_architecture(text, arch):
    assert catalog.normalize_architecture(text) == arch


def _gpu(cc=None, arch=None, device=None):
    return {"compute_capability": cc, "architecture": arch, "pci_device_id": device}


@pytest.mark.parametrize("gpus, expected", [
    ([], None),
    ([_gpu("8.0")], "open"),
    ([_gpu("7.5"), _gpu("9.0")], "open"),
    ([_gpu("7.0")], "proprietary"),
    ([_gpu("9.0"), _gpu("6.1")], "proprietary"),  # mixed old/new stays proprietary
    ([_gpu(arch="turing")], "open"),
    ([_gpu(arch="pascal")], "proprietary"),
    ([_gpu(device="0x2b85")], "open"),  # unknown chip past 0x1e00: Turing or newer
    ([_gpu(device="0x1d81")], "proprietary"),  # TITAN V, not in the table
    ([_gpu()], None),
    ([_gpu(), _gpu("8.9")], "open"),  # an unplaceable GPU does not block the vote
    ([_gpu(cc="x.y", arch="volta")], "proprietary"),  # a garbled cc falls through to the architecture
])
def test_recommended_kernel_module(gpus, expected):
    assert catalog.recommended_kernel_module(gpus) == expected


@pytest.mark.parametrize("name,expected", [
    ("Tesla T4", True),
    ("Tesla V100-SXM2-32GB", True),
    ("NVIDIA A100-SXM4-80GB", True),
    ("NVIDIA A10G", True),
    ("NVIDIA H100 80GB HBM3", True),
    ("NVIDIA H200", True),
    ("NVIDIA L4", True),
    ("NVIDIA L40S", True),
    ("NVIDIA B200", True),
    ("NVIDIA GH200 480GB", True),
    ("NVIDIA RTX PRO 6000 Blackwell Server Edition", True),
    ("NVIDIA GeForce RTX 4090", False),
    ("NVIDIA GeForce GTX 1080", False),
    ("NVIDIA RTX A6000", False),
    ("NVIDIA RTX 6000 Ada Generation", False),
    ("Quadro RTX 5000", False),
    ("NVIDIA TITAN V", False),
    ("", False),
])
def test_datacenter_heuristic(name, expected):
    assert catalog.is_datacenter_gpu(name) is expected

"""PCI scan, pci.ids names, kernel module, NVSwitch and container detection on hand-made trees."""

from __future__ import annotations


import pytest
from gpu_test_helpers import add_pci

from ansible_collections.onprem.llm.plugins.module_utils.gpu import host, pci

PCI_IDS = """# comment
#\tVersion: test
10de  NVIDIA Corporation
\t1eb8  TU104GL [Tesla T4]
\t\t10de 12a2  Tesla T4
\t2330  GH100[H100 SXM5 80GB]
\t2321  GH100
\tzzzz  broken line
8086  Intel Corporation
\t1eb8  not nvidia
"""


def test_scan_reads_ids_and_skips_unreadable_files(sysfs):
    add_pci(sysfs, "0000:17:00.0", "0x2330")
    add_pci(sysfs, "0000:00:1f.0", "0x7a04", class_code="0x060100", vendor="0x8086")
    broken = add_pci(sysfs, "0000:65:00.1", "0x22e8", class_code="0x040300")
    (broken / "device").write_text("garbage\n")
    devices = pci.scan_pci(str(sysfs))
    assert [d["bus_id"] for d in devices] == ["0000:00:1f.0", "0000:17:00.0", "0000:65:00.1"]
    assert devices[1] == {"bus_id": "0000:17:00.0", "vendor": 0x10DE, "device": 0x2330, "class_code": 0x030200,
                          "subsystem_vendor": 0x10DE, "subsystem_device": 0x1234}
    assert devices[2]["device"] is None


def test_missing_tree_is_an_empty_bus(tmp_path):
    assert pci.scan_pci(str(tmp_path / "nowhere")) == []


def test_gpus_and_nvswitches_by_vendor_and_class(sysfs):
    add_pci(sysfs, "0000:01:00.0", "0x2684", class_code="0x030000")  # VGA GeForce
    add_pci(sysfs, "0000:01:00.1", "0x22ba", class_code="0x040300")  # its HDMI audio
    add_pci(sysfs, "0000:02:00.0", "0x20b2", class_code="0x030200")  # 3D controller
    add_pci(sysfs, "0000:c0:00.0", "0x1af1", class_code="0x068000")  # NVSwitch
    add_pci(sysfs, "0000:03:00.0", "0x56a0", class_code="0x030000", vendor="0x8086")  # Intel Arc
    devices = pci.scan_pci(str(sysfs))
    assert [d["bus_id"] for d in pci.nvidia_gpus(devices)] == ["0000:01:00.0", "0000:02:00.0"]
    assert [d["bus_id"] for d in pci.nvswitches(devices)] == ["0000:c0:00.0"]


@pytest.mark.parametrize("raw, expected", [
    ("00000000:3B:00.0", "0000:3b:00.0"), ("0000:04:00.0", "0000:04:00.0"), ("00000001:01:00.1", "0001:01:00.1"),
    ("weird", "weird"), (None, None), ("", None),
])
def test_normalize_bus_id(raw, expected):
    assert pci.normalize_bus_id(raw) == expected


def test_parse_pci_ids_keeps_only_nvidia_devices():
    names = pci.parse_pci_ids(PCI_IDS)
    assert names == {0x1EB8: "TU104GL [Tesla T4]", 0x2330: "GH100[H100 SXM5 80GB]", 0x2321: "GH100"}
    assert pci.marketing_name(names[0x2330]) == "H100 SXM5 80GB"
    assert pci.marketing_name(names[0x2321]) == "GH100"
    assert pci.marketing_name(None) is None


def test_load_pci_ids_takes_the_first_readable_file(tmp_path):
    path = tmp_path / "pci.ids"
    path.write_text(PCI_IDS)
    assert pci.load_pci_ids((str(tmp_path / "missing"), str(path)))[0x1EB8] == "TU104GL [Tesla T4]"
    assert pci.load_pci_ids((str(tmp_path / "missing"),)) == {}


# Debian's pci.ids package is a host dependency of `make test` (Makefile HOST_PACKAGES).
def test_host_pci_ids_names_data_center_gpus():
    names = pci.load_pci_ids()
    assert pci.marketing_name(names[0x20B2]) == "A100 SXM4 80GB"
    assert pci.marketing_name(names[0x1EB8]) == "Tesla T4"


PROC_PROPRIETARY = ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.54.03  Tue Jun  6 22:20:39 UTC 2023\n"
                    "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n")
PROC_OPEN = ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.133.20  Release Build  "
             "(dvs-builder@U16-I3-B03-4-3)  Fri Mar 14 17:19:49 UTC 2025\n")


def test_parse_proc_version_both_flavours():
    assert host.parse_proc_version(PROC_PROPRIETARY) == ("535.54.03", "proprietary")
    assert host.parse_proc_version(PROC_OPEN) == ("570.133.20", "open")
    assert host.parse_proc_version("something else\n") == (None, None)
    assert host.parse_proc_version(None) == (None, None)


def test_driver_module_not_loaded(sysfs, procfs):
    assert host.driver_module(str(sysfs), str(procfs)) == {"loaded": False, "version": None, "flavour": None}


def test_driver_module_version_from_sysfs(sysfs, procfs):
    (sysfs / "module" / "nvidia").mkdir(parents=True)
    (sysfs / "module" / "nvidia" / "version").write_text("550.127.05\n")
    (procfs / "driver" / "nvidia").mkdir(parents=True)
    (procfs / "driver" / "nvidia" / "version").write_text(PROC_OPEN)
    assert host.driver_module(str(sysfs), str(procfs)) == {"loaded": True, "version": "550.127.05",
                                                           "flavour": "open"}


def test_driver_module_version_from_procfs_when_sysfs_has_none(sysfs, procfs):
    (sysfs / "module" / "nvidia").mkdir(parents=True)
    (procfs / "driver" / "nvidia").mkdir(parents=True)
    (procfs / "driver" / "nvidia" / "version").write_text(PROC_PROPRIETARY)
    assert host.driver_module(str(sysfs), str(procfs)) == {"loaded": True, "version": "535.54.03",
                                                           "flavour": "proprietary"}


def test_nvswitch_from_procfs(procfs):
    devices = procfs / "driver" / "nvidia-nvswitch" / "devices"
    assert host.nvswitch_from_procfs(str(procfs)) is False
    devices.mkdir(parents=True)
    assert host.nvswitch_from_procfs(str(procfs)) is False  # present but empty: no switch
    (devices / "0000:c0:00.0").write_text("")
    assert host.nvswitch_from_procfs(str(procfs)) is True


def test_in_container_by_marker(tmp_path):
    marker = tmp_path / ".dockerenv"
    assert host.in_container((str(marker),)) is False
    marker.write_text("")
    assert host.in_container((str(tmp_path / "no"), str(marker))) is True
    assert host.CONTAINER_MARKERS == ("/run/.containerenv", "/.dockerenv", "/run/systemd/container")

"""A raw 8-GPU nvidia-smi -q -x capture (8x Tesla V100S, driver 460) through the parser, the fact
builder and the v100sx8_nvswitch profile. Values are read from the file, which
tests/fixtures/nvidia-smi/README.md traces to GuanceCloud/datakit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from gpu_test_helpers import DOUBLES, read_smi

from ansible_collections.onprem.llm.plugins.module_utils.gpu import catalog, facts, smi

CAPTURE = "tesla-v100s-pcie-32gbx8_driver460_vm_passthrough.xml"
PROFILE = "v100sx8_nvswitch"
MAKE_PROFILE = str(DOUBLES / "make_gpu_profile.py")
DOUBLE = str(DOUBLES / "nvidia_smi_double.py")

# nvidia-smi order (PCI bus order) = minor_number order in this capture.
UUIDS = [
    "GPU-76098dc1-d3bc-9a1b-7ea6-f7b48837829e",
    "GPU-bbf7a241-bf9a-eb90-b2fb-d213294faf48",
    "GPU-8f75e71c-23dd-a060-d997-4caf592954db",
    "GPU-3181eb56-505c-8214-ba05-c132f68f89b8",
    "GPU-2aa87d54-d4ff-2900-812b-1a4b7e119583",
    "GPU-39c3a168-9034-0b5a-223a-1042f30a9242",
    "GPU-d2446f91-171e-1b54-515d-9d9b03484ddf",
    "GPU-1d955959-c95b-4f40-2cac-100d3006ffe2",
]
# The capture prints 00000000:00:0D.0 and so on; parse_xml normalizes to sysfs' form.
BUS_IDS = ["0000:00:0d.0", "0000:00:0e.0", "0000:00:0f.0", "0000:00:10.0",
           "0000:00:11.0", "0000:00:12.0", "0000:00:13.0", "0000:00:14.0"]
MEMORY_MIB = [32510] * 8  # <fb_memory_usage><total>32510 MiB</total> on every GPU


@pytest.fixture(scope="module")
def parsed():
    return smi.parse_xml(read_smi(CAPTURE))


def test_capture_header(parsed):
    assert (parsed["driver_version"], parsed["cuda_version"], parsed["attached_gpus"]) == ("460.73.01", "11.2", 8)
    assert len(parsed["gpus"]) == 8


def test_every_gpu_as_parsed(parsed):
    gpus = parsed["gpus"]
    assert [g["index"] for g in gpus] == list(range(8))
    assert [g["uuid"] for g in gpus] == UUIDS
    assert [g["pci_bus_id"] for g in gpus] == BUS_IDS
    assert [g["memory_mib"] for g in gpus] == MEMORY_MIB
    assert {g["name"] for g in gpus} == {"Tesla V100S-PCIE-32GB"}
    assert {g["pci_device_id"] for g in gpus} == {"0x1df6"}  # <pci_device_id>1DF610DE</pci_device_id>
    # driver 460 prints neither <product_architecture> nor <compute_cap>; MIG is N/A on Volta
    assert all(g["compute_capability"] is None and g["architecture"] is None for g in gpus)
    assert all(g["mig"] == {"mode": "unsupported", "pending_mode": "unsupported", "devices": []} for g in gpus)


def test_first_gpu_in_full(parsed):
    assert parsed["gpus"][0] == {
        "index": 0,
        "name": "Tesla V100S-PCIE-32GB",
        "uuid": "GPU-76098dc1-d3bc-9a1b-7ea6-f7b48837829e",
        "pci_bus_id": "0000:00:0d.0",
        "pci_device_id": "0x1df6",
        "memory_mib": 32510,
        "compute_capability": None,
        "architecture": None,
        "mig": {"mode": "unsupported", "pending_mode": "unsupported", "devices": []},
    }


def test_catalog_fills_volta_and_proprietary_module(parsed):
    gpus = [facts.enrich(g, {}) for g in parsed["gpus"]]
    assert [(g["compute_capability"], g["architecture"]) for g in gpus] == [("7.0", "volta")] * 8
    assert catalog.lookup(0x1DF6) == ("Tesla V100S PCIe 32GB", "7.0", "volta")
    assert catalog.recommended_kernel_module(gpus) == "proprietary"
    # the parser's own output (no cc, no architecture) still votes through the device id
    assert catalog.recommended_kernel_module(parsed["gpus"]) == "proprietary"


def make_profile_module():
    sys.path.insert(0, str(DOUBLES))
    try:
        import make_gpu_profile  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.pop(0)
    return make_gpu_profile


def test_generator_derives_eight_pci_functions_from_the_capture():
    make_gpu_profile = make_profile_module()
    devices = make_gpu_profile.pci_from_xml(read_smi(CAPTURE))
    assert [d["bus_id"] for d in devices] == BUS_IDS
    assert {(d["device"], d["class"], d["subsystem_vendor"], d["subsystem_device"]) for d in devices} == {
        ("0x1df6", "0x030200", "0x10de", "0x13d6")}  # <pci_sub_system_id>13D610DE</pci_sub_system_id>
    assert make_gpu_profile.driver_version(read_smi(CAPTURE)) == "460.73.01"
    profile = make_gpu_profile.load_profiles()[PROFILE]
    assert (profile["xml"], profile["driver"], profile["nvswitch"]) == (CAPTURE, "loaded", True)
    assert "synthetic" in profile["description"]


def run_double(directory, *args):
    env = dict(os.environ, ONPREM_LLM_DOUBLE_DIR=str(directory), LANGUAGE="C", LC_ALL="C")
    done = subprocess.run([sys.executable, DOUBLE] + list(args), env=env, capture_output=True, text=True,
                          check=False)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def profile_tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("v100s") / "double"
    done = subprocess.run([sys.executable, MAKE_PROFILE, "--profile", PROFILE, "--out", str(out)],
                          capture_output=True, text=True, check=True)
    return out, json.loads(done.stdout)


def test_profile_tree_has_eight_gpus_and_synthetic_nvswitches(profile_tree):
    out, summary = profile_tree
    assert summary["pci_gpus"] == 8 and summary["mode"] == "ok" and summary["install_nvidia_smi"] is True
    devices = out / "sys" / "bus" / "pci" / "devices"
    gpu_dirs = sorted(p.name for p in devices.iterdir() if (p / "device").read_text() == "0x1df6\n")
    assert gpu_dirs == BUS_IDS
    assert len(list((out / "proc" / "driver" / "nvidia-nvswitch" / "devices").iterdir())) == 6
    assert (out / "sys" / "module" / "nvidia" / "version").read_text() == "460.73.01\n"
    assert (out / "nvidia-smi.xml").read_text() == read_smi(CAPTURE)


def test_gpu_facts_on_the_profile(profile_tree):
    out, _summary = profile_tree
    result = facts.collect(str(out / "sys"), str(out / "proc"), run_smi=lambda: run_double(out, *smi.ARGV),
                           pci_names={}, container_markers=())
    assert (result["state"], result["source"], result["count"], result["pci_count"]) == ("ok", "nvidia-smi", 8, 8)
    assert result["nvswitch"] is True
    assert (result["driver_version"], result["cuda_version"]) == ("460.73.01", "11.2")
    assert result["kernel_module"] == "proprietary"  # the profile's /proc/driver/nvidia/version
    assert result["message"] == "8 NVIDIA GPU(s) read through nvidia-smi, driver 460.73.01."
    assert [g["uuid"] for g in result["gpus"]] == UUIDS
    assert [g["pci_bus_id"] for g in result["gpus"]] == BUS_IDS
    assert [g["memory_mib"] for g in result["gpus"]] == MEMORY_MIB
    assert {(g["compute_capability"], g["architecture"]) for g in result["gpus"]} == {("7.0", "volta")}
    assert result["recommended_kernel_module"] == "proprietary"

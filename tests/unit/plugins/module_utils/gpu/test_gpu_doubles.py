"""The nvidia-smi double and the GPU profiles, run as the lab runs them, fed through gpu_facts' code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from gpu_test_helpers import DOUBLES, SMI_FIXTURES, read_smi

from ansible_collections.onprem.llm.plugins.module_utils.gpu import facts, smi

DOUBLE = str(DOUBLES / "nvidia_smi_double.py")
MAKE_PROFILE = str(DOUBLES / "make_gpu_profile.py")
CAPTURES = sorted(p.name for p in SMI_FIXTURES.glob("*.xml"))


def run_double(directory, *args):
    env = dict(os.environ, ONPREM_LLM_DOUBLE_DIR=str(directory), LANGUAGE="C", LC_ALL="C")
    done = subprocess.run([sys.executable, DOUBLE] + list(args), env=env, capture_output=True, text=True,
                          check=False)
    return done.returncode, done.stdout, done.stderr


def double_dir(tmp_path, capture=None, mode=None):
    if capture:
        (tmp_path / "nvidia-smi.xml").write_text(read_smi(capture))
    if mode:
        (tmp_path / "mode").write_text(mode + "\n")
    return tmp_path


@pytest.mark.parametrize("capture", CAPTURES)
def test_double_replays_every_capture_byte_for_byte(tmp_path, capture):
    rc, out, _err = run_double(double_dir(tmp_path, capture), "-q", "-x")
    assert rc == 0 and out == read_smi(capture)
    assert smi.parse_xml(out)["gpus"] == smi.parse_xml(read_smi(capture))["gpus"]


@pytest.mark.parametrize("args", [("-x", "-q"), ("--query", "--xml-format")])
def test_double_accepts_flag_spellings(tmp_path, args):
    rc, out, _err = run_double(double_dir(tmp_path, "tesla-t4_driver515_1gpu.xml"), *args)
    assert rc == 0 and smi.parse_xml(out)["driver_version"] == "515.105.01"


@pytest.mark.parametrize("mode, rc, state", [
    ("no_driver", 9, "driver_not_loaded"), ("mismatch", 18, "driver_mismatch"), ("no_devices", 6, "no_devices"),
])
def test_double_failure_modes_match_the_real_tool(tmp_path, mode, rc, state):
    code, out, err = run_double(double_dir(tmp_path, "tesla-t4_driver515_1gpu.xml", mode), "-q", "-x")
    assert code == rc
    assert smi.classify_failure(code, out, err)[0] == state


def test_double_without_capture_finds_no_devices(tmp_path):
    assert run_double(tmp_path, "-q", "-x")[:2] == (6, "No devices were found\n")
    (tmp_path / "nvidia-smi.xml").write_text("<nvidia_smi_log></nvidia_smi_log>")
    assert run_double(tmp_path, "-L")[0] == 6


def test_double_list_gpus_with_mig(tmp_path):
    rc, out, _err = run_double(double_dir(tmp_path, "a100-sxm4-80gb_driver535_mig4.xml"), "-L")
    lines = out.splitlines()
    assert rc == 0
    assert lines[0] == "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-513536b6-7d19-9063-b049-1e69664bb298)"
    assert len(lines) == 5 and lines[1].startswith("  MIG GI 3 CI 0")


def test_double_summary(tmp_path):
    rc, out, _err = run_double(double_dir(tmp_path, "tesla-p100x2_driver375_no_cuda_version.xml"))
    assert rc == 0
    assert "Driver Version: 375.66" in out and "CUDA Version: N/A" in out
    assert "11400MiB / 11567MiB" in out and "Tesla P100-PCIE-12GB_2" in out


def test_double_query_gpu_csv(tmp_path):
    directory = double_dir(tmp_path, "tesla-p100x2_driver375_no_cuda_version.xml")
    rc, out, _err = run_double(directory, "--query-gpu=index,uuid,memory.total,count", "--format=csv,noheader,nounits")
    assert rc == 0
    assert out.splitlines() == ["0, GPU-28604e81-21ec-cc48-6759-bf2648b22e16, 11567, 2",
                                "1, GPU-46915a82-3fd2-8e11-ae26-a80b607c04f3, 12290, 2"]
    rc, out, _err = run_double(directory, "--query-gpu=name,driver_version,mig.mode.current,pci.bus_id", "--format=csv")
    assert out.splitlines()[0] == "name, driver_version, mig.mode.current, pci.bus_id"
    assert out.splitlines()[1] == "Tesla P100-PCIE-12GB, 375.66, N/A, 0000:04:00.0"
    assert run_double(directory, "--query-gpu=bogus", "--format=csv")[:2] == (
        2, 'Field "bogus" is not a valid field to query.\n')


@pytest.mark.parametrize("args", [("--bogus",), ("--query-gpu=name",), ("--query-gpu=name", "--format=json"),
                                  ("-q",)])
def test_double_rejects_what_it_does_not_know(tmp_path, args):
    rc, out, _err = run_double(double_dir(tmp_path, "tesla-t4_driver515_1gpu.xml"), *args)
    assert rc == 2 and out.startswith("Invalid combination of input arguments")


def test_double_help_works_in_any_mode(tmp_path):
    rc, out, _err = run_double(double_dir(tmp_path, mode="no_driver"), "-h")
    assert rc == 0 and "test double" in out


def profile_names():
    sys.path.insert(0, str(DOUBLES))
    try:
        import make_gpu_profile  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.pop(0)
    return make_gpu_profile.load_profiles()


PROFILES = profile_names()


def test_required_profiles_exist():
    assert {"none", "t4x1", "p100x2", "a100x8_nvswitch", "a100_mig", "pci_only_h100x1",
            "failing_driver"} <= set(PROFILES)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile_tree_through_gpu_facts(tmp_path, name):
    out = tmp_path / "double"
    done = subprocess.run([sys.executable, MAKE_PROFILE, "--profile", name, "--out", str(out)],
                          capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    assert summary == json.loads((out / "profile.json").read_text())
    install = (out / "install_nvidia_smi").read_text().strip() == "true"
    assert install is summary["install_nvidia_smi"]

    run_smi = (lambda: run_double(out, *smi.ARGV)) if install else None
    result = facts.collect(str(out / "sys"), str(out / "proc"), run_smi=run_smi, pci_names={},
                           container_markers=())
    expect = PROFILES[name]["expect"]
    assert {key: result[key] for key in expect} == expect
    assert result["nvswitch"] is PROFILES[name]["nvswitch"]
    assert result["pci_count"] == result["count"]
    if PROFILES[name]["driver"] in ("loaded", "mismatch"):
        assert (out / "sys" / "module" / "nvidia" / "version").is_file()
    else:
        assert not (out / "sys" / "module").exists()


def test_profile_gpu_details(tmp_path):
    subprocess.run([sys.executable, MAKE_PROFILE, "--profile", "a100x8_nvswitch", "--out", str(tmp_path)],
                   capture_output=True, check=True)
    gpu = ET.parse(str(tmp_path / "nvidia-smi.xml")).getroot().find("gpu")
    assert gpu.get("id") == "00000000:10:00.0"
    device = tmp_path / "sys" / "bus" / "pci" / "devices" / "0000:10:00.0"
    assert [(device / f).read_text() for f in ("vendor", "device", "class")] == ["0x10de\n", "0x20f1\n", "0x030200\n"]
    assert len(list((tmp_path / "proc" / "driver" / "nvidia-nvswitch" / "devices").iterdir())) == 6


def test_profile_cli_errors(tmp_path):
    listed = subprocess.run([sys.executable, MAKE_PROFILE, "--list"], capture_output=True, text=True, check=True)
    assert listed.stdout.split() == sorted(PROFILES)
    for args in (["--profile", "nope", "--out", str(tmp_path)], ["--profile", "none"]):
        done = subprocess.run([sys.executable, MAKE_PROFILE] + args, capture_output=True, text=True, check=False)
        assert done.returncode == 2


def test_profile_rebuild_replaces_the_old_tree(tmp_path):
    for name in ("a100x8_nvswitch", "none"):
        subprocess.run([sys.executable, MAKE_PROFILE, "--profile", name, "--out", str(tmp_path)], check=True,
                       capture_output=True)
    assert list((tmp_path / "sys" / "bus" / "pci" / "devices").iterdir()) == []
    assert not (tmp_path / "nvidia-smi.xml").exists()

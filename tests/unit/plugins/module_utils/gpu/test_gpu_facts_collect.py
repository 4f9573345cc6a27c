"""facts.collect: every state on hand-made sysfs/procfs trees with scripted nvidia-smi results."""

from __future__ import annotations

import pytest
from gpu_test_helpers import FakeNvml, add_pci, read_smi

from ansible_collections.onprem.llm.plugins.module_utils.gpu import facts

NOT_LOADED = (9, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure "
                 "that the latest NVIDIA driver is installed and running.\n", "")
PCI_NAMES = {0x1EB8: "TU104GL [Tesla T4]"}


def smi(rc, out="", err=""):
    calls = []

    def run():
        calls.append(1)
        return rc, out, err
    run.calls = calls
    return run


def load_module(sysfs, version="515.105.01"):
    (sysfs / "module" / "nvidia").mkdir(parents=True)
    (sysfs / "module" / "nvidia" / "version").write_text(version + "\n")


def collect(sysfs, procfs, **kwargs):
    kwargs.setdefault("pci_names", PCI_NAMES)
    kwargs.setdefault("container_markers", ())
    return facts.collect(str(sysfs), str(procfs), **kwargs)


def test_no_gpu_no_driver(sysfs, procfs):
    result = collect(sysfs, procfs)
    assert result == {
        "present": False, "count": 0, "pci_count": 0, "driver_loaded": False, "driver_version": None,
        "cuda_version": None, "kernel_module": None, "source": "pci", "state": "no_gpu",
        "message": "No NVIDIA GPU on the PCI bus under %s." % sysfs, "nvswitch": False, "gpus": [],
        "recommended_kernel_module": None, "in_container": False,
    }


def test_pci_only_gpu_before_any_driver(sysfs, procfs):
    add_pci(sysfs, "0000:18:00.0", "0x2330")
    add_pci(sysfs, "0000:19:00.0", "0x1eb8")
    result = collect(sysfs, procfs)
    assert (result["state"], result["source"], result["count"], result["present"]) == ("no_driver", "pci", 2, True)
    assert result["message"].startswith("2 NVIDIA GPU(s) on the PCI bus but no NVIDIA driver")
    h100, t4 = result["gpus"]
    assert h100 == {"index": 0, "name": "H100 SXM5 80GB", "uuid": None, "pci_bus_id": "0000:18:00.0",
                    "pci_device_id": "0x2330", "memory_mib": None, "compute_capability": "9.0",
                    "architecture": "hopper", "mig": {"mode": "unknown", "pending_mode": "unknown", "devices": []}}
    assert t4["name"] == "Tesla T4"  # from pci.ids
    assert result["recommended_kernel_module"] == "open"


def test_unknown_device_gets_a_generic_name(sysfs, procfs):
    add_pci(sysfs, "0000:18:00.0", "0x2fff")
    gpu = collect(sysfs, procfs)["gpus"][0]
    assert gpu["name"] == "NVIDIA device 0x2fff" and gpu["compute_capability"] is None


def test_driver_ok_through_nvidia_smi(sysfs, procfs):
    add_pci(sysfs, "0000:00:1e.0", "0x1eb8")
    load_module(sysfs)
    run = smi(0, read_smi("tesla-t4_driver515_1gpu.xml"))
    result = collect(sysfs, procfs, run_smi=run)
    assert run.calls == [1]  # exactly one nvidia-smi call
    assert (result["state"], result["source"], result["count"]) == ("ok", "nvidia-smi", 1)
    assert (result["driver_loaded"], result["driver_version"], result["cuda_version"]) == (True, "515.105.01", "11.7")
    assert result["message"] == "1 NVIDIA GPU(s) read through nvidia-smi, driver 515.105.01."
    gpu = result["gpus"][0]
    assert (gpu["uuid"], gpu["memory_mib"], gpu["compute_capability"], gpu["architecture"]) == (
        "GPU-d37e67a5-91dd-3774-a5cb-99096249601a", 15360, "7.5", "turing")


def test_device_id_filled_from_the_pci_bus_when_the_output_lacks_it(sysfs, procfs):
    add_pci(sysfs, "0000:01:00.0", "0x1b82", class_code="0x030000")
    gpu = collect(sysfs, procfs, run_smi=smi(0, read_smi("geforce-gtx-1070-ti_trimmed.xml")))["gpus"][0]
    assert (gpu["pci_device_id"], gpu["compute_capability"], gpu["architecture"]) == ("0x1b82", "6.1", "pascal")


def test_old_driver_two_p100_recommends_proprietary(sysfs, procfs):
    result = collect(sysfs, procfs, run_smi=smi(0, read_smi("tesla-p100x2_driver375_no_cuda_version.xml")))
    assert (result["count"], result["cuda_version"], result["recommended_kernel_module"]) == (2, None, "proprietary")
    assert [g["compute_capability"] for g in result["gpus"]] == ["6.0", "6.0"]
    assert result["driver_loaded"] is True  # nvidia-smi answered, whatever sysfs says


def test_failing_nvidia_smi_keeps_the_pci_view(sysfs, procfs):
    add_pci(sysfs, "0000:00:1e.0", "0x1eb8")
    result = collect(sysfs, procfs, run_smi=smi(*NOT_LOADED))
    assert (result["state"], result["source"], result["count"], result["driver_loaded"]) == (
        "driver_not_loaded", "pci", 1, False)
    assert "cannot talk to the NVIDIA driver" in result["message"]
    assert result["gpus"][0]["name"] == "Tesla T4"


def test_version_mismatch(sysfs, procfs):
    add_pci(sysfs, "0000:00:1e.0", "0x1eb8")
    load_module(sysfs, "550.120")
    result = collect(sysfs, procfs, run_smi=smi(18, "Failed to initialize NVML: Driver/library version mismatch\n"))
    assert (result["state"], result["driver_loaded"], result["driver_version"]) == ("driver_mismatch", True, "550.120")


def test_unparsable_output(sysfs, procfs):
    add_pci(sysfs, "0000:00:1e.0", "0x1eb8")
    result = collect(sysfs, procfs, run_smi=smi(0, "garbage"))
    assert result["state"] == "nvidia_smi_failed" and "not XML" in result["message"]


def test_no_devices_with_gpus_on_the_bus(sysfs, procfs):
    add_pci(sysfs, "0000:00:1e.0", "0x1eb8")
    load_module(sysfs)
    result = collect(sysfs, procfs, run_smi=smi(6, "No devices were found\n"))
    assert (result["state"], result["count"], result["pci_count"]) == ("no_devices", 1, 1)


def test_driver_listing_no_gpu(sysfs, procfs):
    add_pci(sysfs, "0000:00:1e.0", "0x1eb8")
    result = collect(sysfs, procfs, run_smi=smi(0, "<nvidia_smi_log><driver_version>1</driver_version></nvidia_smi_log>"))
    assert (result["state"], result["message"]) == ("no_devices", "The NVIDIA driver answered but listed no GPU.")


def test_no_gpu_mentions_a_tool_failure(sysfs, procfs):
    result = collect(sysfs, procfs, run_smi=smi(*NOT_LOADED))
    assert result["state"] == "no_gpu" and "cannot talk to the NVIDIA driver" in result["message"]


def test_module_loaded_but_no_tools(sysfs, procfs):
    add_pci(sysfs, "0000:00:1e.0", "0x1eb8")
    load_module(sysfs)
    result = collect(sysfs, procfs)
    assert (result["state"], result["driver_version"]) == ("nvidia_smi_missing", "515.105.01")


def test_nvml_first_and_nvidia_smi_not_run(sysfs, procfs):
    run = smi(*NOT_LOADED)
    result = collect(sysfs, procfs, nvml=FakeNvml(), run_smi=run)
    assert (result["source"], result["count"], result["cuda_version"]) == ("nvml", 2, "12.4")
    assert run.calls == []
    # second fake GPU has no name, no cc, but NVML says pascal: one old GPU makes it proprietary
    assert result["recommended_kernel_module"] == "proprietary"


def test_nvml_failure_falls_back_to_nvidia_smi(sysfs, procfs):
    result = collect(sysfs, procfs, nvml=FakeNvml(init_error=12),
                     run_smi=smi(0, read_smi("a100-sxm4-80gb_driver535_mig4.xml")))
    assert (result["source"], result["state"]) == ("nvidia-smi", "ok")
    assert result["gpus"][0]["mig"]["mode"] == "enabled"


@pytest.mark.parametrize("code, state", [(9, "driver_not_loaded"), (18, "driver_mismatch"), (12, "no_driver")])
def test_nvml_failure_without_nvidia_smi(sysfs, procfs, code, state):
    add_pci(sysfs, "0000:00:1e.0", "0x1eb8")
    assert collect(sysfs, procfs, nvml=FakeNvml(init_error=code))["state"] == state


def test_nvswitch_from_pci_or_procfs(sysfs, procfs):
    add_pci(sysfs, "0000:c0:00.0", "0x1af1", class_code="0x068000")
    assert collect(sysfs, procfs)["nvswitch"] is True
    procfs_only = procfs / "other"
    (procfs_only / "driver" / "nvidia-nvswitch" / "devices" / "0000:c1:00.0").mkdir(parents=True)
    assert facts.collect(str(procfs / "none"), str(procfs_only), pci_names={}, container_markers=())["nvswitch"]


def test_in_container_and_default_pci_names(sysfs, procfs, tmp_path):
    marker = tmp_path / "containerenv"
    marker.write_text("")
    result = facts.collect(str(sysfs), str(procfs), container_markers=(str(marker),))
    assert result["in_container"] is True


def test_every_state_is_documented():
    assert set(facts.STATES) == {"ok", "no_gpu", "no_driver", "driver_not_loaded", "driver_mismatch",
                                 "no_devices", "nvidia_smi_missing", "nvidia_smi_failed"}

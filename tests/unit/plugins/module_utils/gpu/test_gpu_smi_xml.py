"""nvidia-smi -q -x parsing against real captures (tests/fixtures/nvidia-smi/README.md names them)."""

from __future__ import annotations

import pytest
from gpu_test_helpers import read_smi

from ansible_collections.onprem.llm.plugins.module_utils.gpu import smi


def test_tesla_t4_single_gpu_driver_515():
    result = smi.parse_xml(read_smi("tesla-t4_driver515_1gpu.xml"))
    assert (result["driver_version"], result["cuda_version"], result["attached_gpus"]) == ("515.105.01", "11.7", 1)
    assert result["gpus"] == [{
        "index": 0,
        "name": "Tesla T4",
        "uuid": "GPU-d37e67a5-91dd-3774-a5cb-99096249601a",
        "pci_bus_id": "0000:00:1e.0",
        "pci_device_id": "0x1eb8",
        "memory_mib": 15360,
        "compute_capability": None,
        "architecture": "turing",
        "mig": {"mode": "unsupported", "pending_mode": "unsupported", "devices": []},
    }]


def test_a100_sxm4_with_four_mig_devices():
    result = smi.parse_xml(read_smi("a100-sxm4-80gb_driver535_mig4.xml"))
    assert (result["driver_version"], result["cuda_version"]) == ("535.54.03", "12.2")
    # telegraf kept one <gpu> of a 4-GPU host: the GPU list, not attached_gpus, is the truth.
    assert result["attached_gpus"] == 4 and len(result["gpus"]) == 1
    gpu = result["gpus"][0]
    assert gpu["uuid"] == "GPU-513536b6-7d19-9063-b049-1e69664bb298"
    assert (gpu["pci_bus_id"], gpu["pci_device_id"], gpu["memory_mib"]) == ("0000:01:00.0", "0x20b2", 81920)
    assert gpu["architecture"] == "ampere"
    assert gpu["mig"]["mode"] == "enabled" and gpu["mig"]["pending_mode"] == "enabled"
    assert [d["gpu_instance_id"] for d in gpu["mig"]["devices"]] == [3, 4, 5, 6]
    assert gpu["mig"]["devices"][0] == {"index": 0, "gpu_instance_id": 3, "compute_instance_id": 0,
                                        "memory_mib": 19968, "multiprocessor_count": 14}


def test_two_p100_on_driver_375_have_no_cuda_version():
    result = smi.parse_xml(read_smi("tesla-p100x2_driver375_no_cuda_version.xml"))
    assert result["driver_version"] == "375.66"
    assert result["cuda_version"] is None
    assert [g["uuid"] for g in result["gpus"]] == ["GPU-28604e81-21ec-cc48-6759-bf2648b22e16",
                                                   "GPU-46915a82-3fd2-8e11-ae26-a80b607c04f3"]
    # this old output prints 4-digit domains; both forms normalize to sysfs' form
    assert [g["pci_bus_id"] for g in result["gpus"]] == ["0000:04:00.0", "0000:82:00.0"]
    assert [g["memory_mib"] for g in result["gpus"]] == [11567, 12290]
    assert [g["index"] for g in result["gpus"]] == [0, 1]
    assert {g["pci_device_id"] for g in result["gpus"]} == {"0x15f7"}
    # no <mig_mode> and no <product_architecture> before R450
    assert all(g["mig"]["mode"] == "unsupported" and g["architecture"] is None for g in result["gpus"])


def test_windows_vgpu_output_full_of_na_values():
    gpu = smi.parse_xml(read_smi("grid-p4-1q_windows_vgpu_driver513.xml"))["gpus"][0]
    assert gpu["name"] == "GRID P4-1Q"
    assert gpu["uuid"] == "GPU-1b1ea7c7-1c4b-ed49-1c72-26c65f2dd207"
    assert (gpu["pci_bus_id"], gpu["pci_device_id"], gpu["memory_mib"]) == ("0000:00:0b.0", "0x1bb3", 1024)
    assert gpu["architecture"] == "pascal" and gpu["index"] == 0  # minor_number is N/A on Windows
    assert gpu["mig"]["mode"] == "unsupported"


def test_trimmed_consumer_output_missing_most_fields():
    result = smi.parse_xml(read_smi("geforce-gtx-1070-ti_trimmed.xml"))
    assert (result["driver_version"], result["cuda_version"], result["attached_gpus"]) == (None, None, None)
    gpu = result["gpus"][0]
    assert gpu["name"] == "GeForce GTX 1070 Ti"
    assert gpu["uuid"] == "GPU-f9ba66fc-a7f5-94c5-da19-019ef2f9c665"
    assert gpu["pci_bus_id"] == "0000:01:00.0"  # from <gpu id=...> since <pci_bus_id> is missing
    assert (gpu["pci_device_id"], gpu["memory_mib"]) == (None, 4096)


def test_eight_a100_two_in_mig_mode():
    result = smi.parse_xml(read_smi("a100-pcie-40gbx8_driver535_mig_ceems_double.xml"))
    assert (result["driver_version"], result["cuda_version"], result["attached_gpus"]) == ("535.129.03", "12.2", 8)
    gpus = result["gpus"]
    assert len(gpus) == 8 and {g["name"] for g in gpus} == {"NVIDIA A100-PCIE-40GB"}
    assert [g["pci_bus_id"][5:7] for g in gpus] == ["10", "15", "21", "81", "83", "85", "87", "89"]
    assert gpus[0]["uuid"] == "GPU-f124aa59-d406-d45b-9481-8fcd694e6c9e"
    assert gpus[7]["uuid"] == "GPU-6cc98505-fdde-461e-a93c-6935fba45a27"
    assert [g["mig"]["mode"] for g in gpus] == ["unsupported"] * 2 + ["enabled"] * 2 + ["unsupported"] * 4
    assert [(d["gpu_instance_id"], d["memory_mib"]) for d in gpus[2]["mig"]["devices"]] == [
        (1, 19968), (5, 9856), (13, 4864)]
    assert [d["multiprocessor_count"] for d in gpus[3]["mig"]["devices"]] == [56, 28, 14]
    assert all(g["memory_mib"] is None for g in gpus)  # this capture has no top-level fb_memory_usage


@pytest.mark.parametrize("text, message", [
    ("this is not xml", "not XML"),
    ("<other/>", "expected <nvidia_smi_log>"),
])
def test_bad_output_raises_parse_error(text, message):
    with pytest.raises(smi.SmiParseError, match=message):
        smi.parse_xml(text)


def test_parse_accepts_bytes_and_compute_cap_when_printed():
    xml = (b"<nvidia_smi_log><gpu id='00000000:3B:00.0'><product_name>NVIDIA H100 80GB HBM3</product_name>"
           b"<compute_cap>9.0</compute_cap><mig_mode><current_mig>Disabled</current_mig>"
           b"<pending_mig>Enabled</pending_mig></mig_mode><fb_memory_usage><total>N/A</total>"
           b"</fb_memory_usage></gpu></nvidia_smi_log>")
    gpu = smi.parse_xml(xml)["gpus"][0]
    assert (gpu["compute_capability"], gpu["pci_bus_id"], gpu["memory_mib"]) == ("9.0", "0000:3b:00.0", None)
    assert gpu["mig"]["mode"] == "disabled" and gpu["mig"]["pending_mode"] == "enabled"


def test_memory_in_other_units_is_not_guessed():
    xml = "<nvidia_smi_log><gpu><fb_memory_usage><total>80 GiB</total></fb_memory_usage></gpu></nvidia_smi_log>"
    gpu = smi.parse_xml(xml)["gpus"][0]
    assert gpu["memory_mib"] is None and gpu["pci_bus_id"] is None


@pytest.mark.parametrize("rc, out, state", [
    (9, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that "
        "the latest NVIDIA driver is installed and running.\n", "driver_not_loaded"),
    (18, "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.127\n",
     "driver_mismatch"),
    (6, "No devices were found\n", "no_devices"),
    (4, "Failed to initialize NVML: Insufficient Permissions\n", "nvidia_smi_failed"),
])
def test_real_failure_messages_are_classified(rc, out, state):
    assert smi.classify_failure(rc, out, "")[0] == state


def test_unknown_failure_keeps_the_tool_words_and_exit_code():
    state, message = smi.classify_failure(255, "", "Segmentation   fault\n")
    assert state == "nvidia_smi_failed"
    assert message == "nvidia-smi -q -x exited 255: Segmentation fault"
    assert smi.classify_failure(1, None, None)[1].endswith("no output")


def test_argv_and_environment_are_fixed():
    assert smi.ARGV == ("-q", "-x")
    assert smi.ENVIRONMENT == {"LANGUAGE": "C", "LC_ALL": "C"}


def test_not_found_cuda_version_is_null_not_a_string():
    # As driver 530.30.02 printed it for a GTX 1070 (header of a published capture).
    text = ('<?xml version="1.0" ?>\n<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">\n<nvidia_smi_log>\n'
            '\t<driver_version>530.30.02</driver_version>\n\t<cuda_version>Not Found</cuda_version>\n'
            '\t<attached_gpus>1</attached_gpus>\n\t<gpu id="00000000:09:00.0">\n'
            '\t\t<product_name>NVIDIA GeForce GTX 1070</product_name>\n'
            '\t\t<product_architecture>Pascal</product_architecture>\n\t</gpu>\n</nvidia_smi_log>\n')
    result = smi.parse_xml(text)
    assert (result["driver_version"], result["cuda_version"]) == ("530.30.02", None)
    assert result["gpus"][0]["name"] == "NVIDIA GeForce GTX 1070"

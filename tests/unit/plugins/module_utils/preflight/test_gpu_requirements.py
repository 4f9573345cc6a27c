from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.preflight.gpu_requirements import (
    requirement_problems,
    summary_lines,
)
from ansible_collections.onprem.llm.plugins.module_utils.versions import (
    is_version,
    version_at_least,
    version_tuple,
)


def _facts(count=2, memory=81920, driver="550.54.15", loaded=True, state="ok"):
    return {
        "present": count > 0,
        "count": count,
        "driver_loaded": loaded,
        "driver_version": driver if loaded else None,
        "cuda_version": "12.4" if loaded else None,
        "source": "nvidia-smi" if loaded else "pci",
        "state": state,
        "message": "nvidia-smi could not talk to the driver" if state != "ok" else "",
        "nvswitch": False,
        "recommended_kernel_module": "open",
        "in_container": False,
        "gpus": [
            {
                "index": i,
                "name": "NVIDIA A100-SXM4-80GB",
                "uuid": "GPU-%d" % i,
                "pci_bus_id": "00000000:%02X:00.0" % (i + 7),
                "memory_mib": memory if loaded else None,
                "compute_capability": "8.0",
                "architecture": "ampere",
                "mig": {"mode": "disabled", "devices": []},
            }
            for i in range(count)
        ],
    }


def test_versions_compare_numerically_not_as_text():
    assert version_at_least("580.65.06", "535")
    assert not version_at_least("535.261.03", "580")
    assert version_at_least("10.0", "8.9")  # the string trap: '10' < '8'
    assert version_at_least("580", "580.0.0")
    assert version_tuple("570.133.20") == (570, 133, 20)
    assert not is_version("R550")
    with pytest.raises(ValueError, match="R550"):
        version_tuple("R550")


def test_host_meeting_every_requirement_has_no_problems():
    assert requirement_problems(_facts(), min_gpus=2, min_memory_mib=40000, min_driver_version="550") == []


def test_too_few_gpus_names_the_variable():
    (problem,) = requirement_problems(_facts(count=1), min_gpus=2)
    assert problem.startswith("gpu_preflight_min_gpus is 2 but 1 NVIDIA GPU(s) were found")


def test_small_gpu_memory_names_gpu_and_size():
    (problem,) = requirement_problems(_facts(count=1, memory=15360), min_memory_mib=40000)
    assert "gpu_preflight_min_memory_mib is 40000 but GPU 0 (NVIDIA A100-SXM4-80GB) has 15360 MiB" in problem


def test_old_driver_fails_the_floor():
    (problem,) = requirement_problems(_facts(driver="535.261.03"), min_driver_version="550")
    assert "gpu_preflight_min_driver_version is 550 but the loaded driver is 535.261.03" in problem


def test_driver_floor_without_loaded_driver_says_so():
    problems = requirement_problems(_facts(loaded=False, state="no_driver"), min_driver_version="550")
    assert len(problems) == 1
    assert "requires a loaded NVIDIA driver" in problems[0]
    assert "gpu_preflight_min_driver_version" in problems[0]


def test_require_driver_alone():
    (problem,) = requirement_problems(_facts(loaded=False, state="no_driver"), require_driver=True)
    assert problem.startswith("gpu_preflight_require_driver requires a loaded NVIDIA driver")


def test_memory_floor_without_driver_reports_unknown_size():
    problems = requirement_problems(_facts(count=1, loaded=False, state="no_driver"), min_memory_mib=1)
    assert problems == [
        "gpu_preflight_min_memory_mib is 1 but GPU 0 (NVIDIA A100-SXM4-80GB) reports no memory size: "
        "the driver must be loaded to read it."
    ]


def test_summary_has_a_header_and_one_line_per_gpu():
    lines = summary_lines(_facts(count=2), "node1")
    assert lines[0] == (
        "node1: 2 NVIDIA GPU(s) via nvidia-smi; driver 550.54.15; CUDA 12.4; NVSwitch no; kernel module open"
    )
    assert len(lines) == 3
    assert "80 GiB" in lines[1] and "GPU-0" in lines[1] and "ampere" in lines[1]


def test_summary_shows_a_bad_state_and_unknown_memory():
    lines = summary_lines(_facts(count=1, loaded=False, state="no_driver"), "node2")
    assert "driver - (not loaded)" in lines[0]
    assert lines[1] == "state no_driver: nvidia-smi could not talk to the driver"
    assert " ? " in lines[2]


def test_summary_of_gpu_less_host():
    facts = {"count": 0, "gpus": [], "source": "pci", "state": "no_gpu", "driver_loaded": False}
    assert summary_lines(facts, "cpu1") == [
        "cpu1: 0 NVIDIA GPU(s) via pci; driver - (not loaded); CUDA -; NVSwitch no; kernel module -"
    ]

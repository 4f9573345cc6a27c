# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/ollama/tuning.py and the ollama_tuning filter: slots from the smallest GPU, flash
attention on compute capability 7.0 and newer, the GPUs by UUID; explicit settings win."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter.ollama import ollama_tuning
from ansible_collections.onprem.llm.plugins.module_utils.ollama import tuning as tu

T4 = {"name": "Tesla T4", "memory_mib": 15360, "compute_capability": "7.5", "uuid": "GPU-t4"}
P4 = {"name": "Tesla P4", "memory_mib": 7680, "compute_capability": "6.1", "uuid": "GPU-p4"}
L40S = {"name": "NVIDIA L40S", "memory_mib": 46068, "compute_capability": "8.9", "uuid": "GPU-l40s"}
H100 = {"name": "NVIDIA H100 80GB HBM3", "memory_mib": 81559, "compute_capability": "9.0", "uuid": "GPU-h100"}


@pytest.mark.parametrize("gpus, slots", [
    ([], 1),
    ([{"name": "unknown"}], 1),
    ([P4], 2),
    ([T4], 4),
    ([dict(T4, memory_mib=24576)], 6),
    ([L40S], 6),
    ([H100], 8),
    ([H100, T4], 4),     # the smallest card decides
    ([H100, {"name": "no memory known"}], 8),
])
def test_slots_follow_the_smallest_gpu(gpus, slots):
    assert tu.auto_num_parallel(gpus) == slots
    assert tu.tuning(gpus)["num_parallel"] == str(slots)


def test_flash_attention_needs_every_gpu_at_7_0():
    assert tu.tuning([T4, H100])["flash_attention"] == "1"
    assert tu.tuning([T4, P4])["flash_attention"] == ""      # Ollama's default, the variable left out
    assert tu.tuning([])["flash_attention"] == ""
    assert tu.tuning([dict(T4, compute_capability=None)])["flash_attention"] == ""
    assert tu.tuning([dict(T4, compute_capability="n/a")])["flash_attention"] == ""


def test_explicit_settings_win():
    got = tu.tuning([T4], num_parallel=3, flash_attention="false", cuda_visible_devices="0,1")
    assert got == {"num_parallel": "3", "flash_attention": "0", "cuda_visible_devices": "0,1"}
    assert tu.tuning([P4], flash_attention="true")["flash_attention"] == "1"


def test_gpus_by_uuid_skip_what_has_none():
    assert tu.tuning([T4, {"name": "x"}, H100])["cuda_visible_devices"] == "GPU-t4,GPU-h100"
    assert tu.tuning([])["cuda_visible_devices"] == ""


def test_the_filter_takes_the_role_settings_and_refuses_what_is_not_gpus():
    assert ollama_tuning([T4], 0, "auto", "auto") == {"num_parallel": "4", "flash_attention": "1",
                                                      "cuda_visible_devices": "GPU-t4"}
    with pytest.raises(AnsibleFilterError, match="expects the GPUs of gpu_facts"):
        ollama_tuning("GPU-0")

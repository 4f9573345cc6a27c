from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter.gpu_preflight import FilterModule


FILTERS = FilterModule().filters()


def test_filters_are_registered():
    assert set(FILTERS) == {"gpu_requirement_problems", "gpu_summary"}


def test_problems_filter_coerces_inventory_strings():
    facts = {"count": 0, "gpus": [], "driver_loaded": False, "source": "pci"}
    problems = FILTERS["gpu_requirement_problems"](facts, min_gpus="1")
    assert problems[0].startswith("gpu_preflight_min_gpus is 1")


def test_problems_filter_rejects_a_bad_floor_with_its_text():
    facts = {"count": 1, "gpus": [], "driver_loaded": True, "driver_version": "550.1"}
    with pytest.raises(AnsibleFilterError, match="R550"):
        FILTERS["gpu_requirement_problems"](facts, min_driver_version="R550")


def test_filters_reject_non_dict_facts():
    with pytest.raises(AnsibleFilterError, match="gpu_summary expects ansible_facts.onprem_gpu"):
        FILTERS["gpu_summary"]("nope")

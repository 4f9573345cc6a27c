# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model_weights prune filters: the plan and the purge refusal, bad input named."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter.model_weights import FilterModule

FILTERS = FilterModule().filters()


def test_the_filters_wrap_the_plan_and_name_bad_input():
    assert FILTERS["model_weights_prune_plan"](["a", "b"], ["a"], {}, "/srv/models")["remove"] == ["b"]
    assert FILTERS["model_weights_purge_refusal"](["a"], {"i": "/srv/models/a"}, "/srv/models").startswith(
        "model_weights_purge would delete")
    with pytest.raises(AnsibleFilterError, match="staged model names"):
        FILTERS["model_weights_prune_plan"]("a", [], {}, "/srv/models")
    with pytest.raises(AnsibleFilterError, match="instance: path"):
        FILTERS["model_weights_purge_refusal"](["a"], [], "/srv/models")

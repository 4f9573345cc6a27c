"""The closed-network filters wrap plugins/module_utils/preflight/offline.py for playbooks."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter.offline import FilterModule

F = FilterModule().filters()


def test_artifacts_then_problems_name_role_and_artifact():
    items = F["offline_artifacts"]({"vllm_wheelhouse": ""}, ["vllm_servers"], "Debian", "n1")
    msgs = F["offline_problems"](items, ["http://m:8089/bundle/"], "n1")
    assert msgs[0] == ("closed network on n1: role vllm would fetch wheels (package index) from "
                       "https://pypi.org/simple (outside the bundle)")
    assert F["offline_problems"](F["offline_artifacts"]({"vllm_wheelhouse": "http://m:8089/bundle/wheels/"},
                                                        ["vllm_servers"]), ["http://m:8089/bundle/"]) == []


def test_variables_cover_every_role_with_sources():
    names = F["offline_variables"]({})
    assert set(names) == {"nvidia_driver", "cuda", "model_weights", "vllm", "ollama"}
    assert "vllm_wheelhouse" in names["vllm"] and "ollama_download_base_url" in names["ollama"]


def test_bad_input_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        F["offline_artifacts"](["not", "a", "dict"])
    with pytest.raises(AnsibleFilterError, match="models URL"):
        F["offline_models"]([{"name": "x"}], "")

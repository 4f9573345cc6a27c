"""The record of the Ollama models the role made present, and the ones the inventory no longer lists."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter.ollama import ollama_models_record, ollama_stale_models
from ansible_collections.onprem.llm.plugins.module_utils.ollama.prune import record_after_apply, stale_models


def test_the_first_record_holds_the_present_models_in_the_servers_short_form():
    models = [{"name": "tinyllama-double"}, {"name": "acme/tiny-import:f16", "src": "x.gguf"},
              {"name": "registry.ollama.ai/library/qwen:0.5b"}]
    assert record_after_apply([], models) == ["acme/tiny-import:f16", "qwen:0.5b", "tinyllama-double:latest"]


def test_absent_models_leave_the_record_and_known_names_are_not_doubled():
    recorded = ["old:7b", "tiny:latest"]
    models = [{"name": "tiny"}, {"name": "library/old:7b", "state": "absent"}, {"name": "new"}]
    assert record_after_apply(recorded, models) == ["new:latest", "tiny:latest"]


def test_a_recorded_model_no_longer_listed_is_stale_and_listed_ones_are_not():
    recorded = ["acme/tiny-import:f16", "tinyllama-double:latest"]
    assert stale_models(recorded, [{"name": "tinyllama-double"}]) == ["acme/tiny-import:f16"]
    # Listed as absent: the models task deletes it, prune does not count it twice.
    assert stale_models(recorded, [{"name": "acme/tiny-import:f16", "state": "absent"},
                                   {"name": "TinyLlama-Double:latest"}]) == []


def test_only_recorded_models_can_be_stale():
    # A model pulled by hand is in the store, never in the record: an empty record prunes nothing.
    assert stale_models([], []) == []
    assert stale_models(["b:1", "a:1"], []) == ["a:1", "b:1"]


def test_names_the_server_would_refuse_are_skipped_not_raised():
    assert record_after_apply(["bad name!"], [{"name": ""}, {"name": "ok"}]) == ["ok:latest"]
    assert stale_models(["bad name!", "x"], []) == ["x:latest"]


def test_the_filters_refuse_a_damaged_record_and_name_the_fix():
    with pytest.raises(AnsibleFilterError, match="remove the damaged record file"):
        ollama_stale_models({"tiny": 1}, [])
    with pytest.raises(AnsibleFilterError, match="expects ollama_models"):
        ollama_models_record([], "tiny")
    assert ollama_models_record(["a"], [{"name": "a", "state": "absent"}]) == []
    assert ollama_stale_models(["a"], []) == ["a:latest"]

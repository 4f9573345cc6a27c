# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which staged models go: unlisted and unserved only; a served one is kept and named."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.weights import prune


@pytest.mark.parametrize("path, name", [
    ("/srv/models/qwen", "qwen"),
    ("/srv/models/qwen/", "qwen"),
    ("/srv/models/.store/qwen", "qwen"),
    ("/srv/models/tiny-gguf/tiny-q8_0.gguf", "tiny-gguf"),
    ("/srv/models/.store/tiny-gguf/tiny-q8_0.gguf", "tiny-gguf"),
    ("/srv/models/../other/qwen", None),
    ("/srv/models", None),
    ("/srv/models/.store", None),
    ("/srv/models-old/qwen", None),
    ("/opt/hand/placed", None),
    ("", None),
    (None, None),
])
def test_model_of_path(path, name):
    assert prune.model_of_path(path, "/srv/models/") == name


def test_unlisted_and_unserved_models_go_served_ones_stay_named():
    plan = prune.prune_plan(["tiny", "old-rev", "served-old", "partial"], ["tiny", "not-yet-staged"],
                            {"chat": "/srv/models/served-old", "chat2": "/srv/models/.store/served-old/x.gguf",
                             "other": "/data/elsewhere"}, "/srv/models")
    assert plan == {"remove": ["old-rev", "partial"], "in_use": {"served-old": ["chat", "chat2"]}, "kept": ["tiny"]}


def test_nothing_staged_nothing_to_do():
    assert prune.prune_plan([], ["a"], {}, "/srv/models") == {"remove": [], "in_use": {}, "kept": []}


def test_purge_is_refused_while_vllm_serves_a_model():
    text = prune.purge_refusal(["a", "b"], {"chat": "/srv/models/b", "x": "/srv/models/c"}, "/srv/models")
    assert text.startswith("model_weights_purge would delete models vLLM still serves: b (chat).")
    assert "vllm_instances" in text
    assert prune.purge_refusal(["a"], {"x": "/srv/models/c"}, "/srv/models") == ""

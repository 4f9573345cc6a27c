# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/ollama/names.py: model names: parsing, the manifest path, matching listed models."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.ollama import names


@pytest.mark.parametrize("raw,short,rel", [
    ("llama3", "llama3:latest", "registry.ollama.ai/library/llama3/latest"),
    ("qwen2.5:7b-instruct", "qwen2.5:7b-instruct", "registry.ollama.ai/library/qwen2.5/7b-instruct"),
    ("acme/tiny:q4", "acme/tiny:q4", "registry.ollama.ai/acme/tiny/q4"),
    ("reg.corp:5000/team/m:v1", "reg.corp:5000/team/m:v1", "reg.corp:5000/team/m/v1"),
])
def test_names(raw, short, rel):
    name = names.parse_name(raw)
    assert str(name) == short and name.manifest_relpath == rel


@pytest.mark.parametrize("raw", ["", "a/b/c/d", "bad name", ":tag", "m:"])
def test_bad_names(raw):
    with pytest.raises(ValueError):
        names.parse_name(raw)


def test_find_listed_matches_normalised_names():
    models = [{"name": "llama3:latest", "model": "llama3:latest", "digest": "x"}, {"name": "acme/tiny:q4"}]
    assert names.find_listed(models, "llama3")["digest"] == "x"
    assert names.find_listed(models, "registry.ollama.ai/acme/tiny:q4") is models[1]
    assert names.find_listed(models, "llama3:8b") is None

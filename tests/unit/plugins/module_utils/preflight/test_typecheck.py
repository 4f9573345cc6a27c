# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/preflight/typecheck.py: a value against its argument_specs option, refusing what
Ansible would coerce, naming the path and the fix, never showing a secret."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.preflight import typecheck as tc


@pytest.mark.parametrize("value, kind, expected", [
    ("yes", "bool", "a boolean, got the string 'yes' (a string boolean); write true or false without quotes"),
    (1, "bool", "a boolean, got an integer (1); write true or false"),
    ("8000", "int", "an integer, got the string '8000'; write it without quotes"),
    (True, "int", "an integer, got a boolean (True)"),
    (0.2, "str", "a string, got a number (0.2); quote it, YAML reads 0.20 as the number 0.2"),
    (False, "str", 'a string, got a boolean (False); quote it ("false") if you mean the text'),
    ("x", "list", "a list, got the string 'x'"),
    ([], "dict", "a mapping, got a list"),
    ("1.5", "float", "a number, got the string '1.5'"),
])
def test_what_ansible_would_coerce_is_refused_with_the_fix(value, kind, expected):
    assert tc.type_problem(value, kind) == expected


@pytest.mark.parametrize("value, kind", [
    (None, "int"), (True, "bool"), (8000, "int"), (550, "str"), ("text", "path"), (1, "float"), (0.5, "float"),
    ([1], "list"), ({}, "dict"), (object(), "raw"),
])
def test_proper_values_and_null_pass(value, kind):
    assert tc.type_problem(value, kind) is None


def test_a_secret_value_is_never_shown():
    assert tc.type_problem(12345678, "bool", secret=True) == "a boolean (true or false), got an integer"
    assert tc.show("s3cr3t-value", secret=True) == "(hidden)"
    problems = tc.value_problems("gateway_api_keys[0]", {"client": "a", "key": 1234567890123456},
                                 {"type": "dict", "options": {"client": {"type": "str"},
                                                              "key": {"type": "str", "no_log": True}}})
    assert problems == []   # an integer is a lossless string
    problems = tc.value_problems("x", {"token": ["s3cr3t"]}, {"type": "dict", "options": {"token": {"type": "str"}}})
    assert problems == ["x.token must be a string, got a list"]
    assert tc.is_secret("vault_api_key", {}) and tc.is_secret("anything", {"no_log": True})
    assert not tc.is_secret("port", {})


def test_show_shortens_long_values():
    assert tc.show("a" * 100) == repr("a" * 100)[:57] + "..."
    assert tc.show(5) == "5"


def test_choices_suggest_the_closest():
    spec = {"type": "str", "choices": ["auto", "dcgm_exporter", "nvidia_smi", "none"]}
    assert tc.value_problems("monitoring_gpu_metrics", "nvidia-smi", spec) == [
        "monitoring_gpu_metrics must be one of auto, dcgm_exporter, nvidia_smi, none, got 'nvidia-smi'; "
        "did you mean nvidia_smi?"]
    assert tc.value_problems("monitoring_gpu_metrics", "none", spec) == []


def test_list_elements_and_suboptions_are_checked_with_their_path():
    spec = {"type": "list", "elements": "dict", "options": {
        "name": {"type": "str", "required": True}, "port": {"type": "int"}}}
    problems = tc.value_problems("vllm_instances", [{"name": "a", "port": "8000"}, {"prot": 1}, "x"], spec)
    assert problems == [
        "vllm_instances[0].port must be an integer, got the string '8000'; write it without quotes",
        "vllm_instances[1].prot is not an option here (did you mean port?); rename or remove it",
        "vllm_instances[1].name is required; add it",
        "vllm_instances[2] must be a mapping, got the string 'x'",
    ]

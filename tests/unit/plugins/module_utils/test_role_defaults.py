"""A role's public defaults: the options its argument specs declare, with its defaults file's values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.llm.plugins.module_utils.role_defaults import role_defaults

ROOT = Path(__file__).resolve().parents[4]
SPECS = {"argument_specs": {"main": {"options": {"a_url": {"type": "str"}, "a_branch": {"type": "str"},
                                                 "a_required": {"type": "str", "required": True}}},
                            "drain": {"options": {"a_hosts": {"type": "list"}}}}}
DEFAULTS = {"a_url": "{{ 'x' if a_offline | default(false) else 'y' }}", "a_branch": "auto",
            "a_hosts": [], "__a_private": 1}


def test_only_declared_options_that_the_defaults_set():
    assert role_defaults(DEFAULTS, SPECS, "a") == {"a_branch": "auto",
                                                   "a_url": "{{ 'x' if a_offline | default(false) else 'y' }}"}


def test_another_entry_point():
    assert role_defaults(DEFAULTS, SPECS, "a", "drain") == {"a_hosts": []}


def test_an_unknown_entry_point_names_the_ones_there():
    with pytest.raises(ValueError, match="role a has no entry point wait [(]it has drain, main[)]"):
        role_defaults(DEFAULTS, SPECS, "a", "wait")


@pytest.mark.parametrize("specs,defaults,message", [
    ({}, DEFAULTS, "role a: meta/argument_specs.yml has no argument_specs mapping"),
    (SPECS, ["a_url"], "role a: defaults/main.yml is not a mapping"),
])
def test_broken_files_are_named(specs, defaults, message):
    with pytest.raises(ValueError, match=message):
        role_defaults(defaults, specs, "a")


@pytest.mark.parametrize("role", ["nvidia_driver", "cuda", "model_weights", "vllm", "ollama"])
def test_the_roles_the_checks_read_have_every_default_public(role):
    # The closed-network check and the bundle read these roles' defaults; a default the spec does not
    # declare would silently drop out of their plans.
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    assert role_defaults(defaults, specs, role) == defaults

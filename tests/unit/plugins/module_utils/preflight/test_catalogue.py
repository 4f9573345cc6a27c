# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/preflight/catalogue.py: the catalogue of inventory variables from the roles'
argument specs and data/inventory_variables.yml, and the data file's schema errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.llm.plugins.module_utils.preflight import catalogue as cat

ROOT = Path(__file__).resolve().parents[5]

SPECS = {
    "vllm": {"argument_specs": {
        "main": {"options": {"vllm_port": {"type": "int", "default": 8000}, "vllm_user": {"type": "str"}}},
        "drain": {"options": {"vllm_port": {"type": "str"}, "vllm_drain_timeout": {"type": "int"}}},
    }},
    "gateway": {"argument_specs": {"main": {"options": {"gateway_port": {"type": "int", "default": 8443}}}}},
    "_common": {"argument_specs": {
        "main": {"options": {"onprem_closed_network": {"type": "bool", "description": "closed network", "default": False},
                             "onprem_serial": {"type": "raw", "description": "batch", "default": 1}}},
        "packages": {"options": {"_common_packages": {"type": "list", "elements": "str", "required": True}}},
    }},
}
DATA = {
    "prefixes": ["onprem_"],
    "facts": ["onprem_gpu"],
    "play_keywords": ["onprem_serial"],
    "patterns": ["onprem_lab_*"],
    "renamed": {"vllm_listen_port": {"name": "vllm_port", "version": "0.2.0"}},
    "ports": [{"var": "gateway_port", "groups": ["gateway"]}],
    "rules": {"vllm_user": "account"},
}


def test_main_wins_over_other_entry_points_and_every_entry_point_counts():
    specs = cat.role_specs_from_documents(SPECS)
    assert specs["vllm"]["vllm_port"] == {"type": "int", "default": 8000}
    assert "vllm_drain_timeout" in specs["vllm"]


def test_the_private_role_main_options_are_the_collection_variables():
    specs = cat.role_specs_from_documents(SPECS)
    assert "_common" not in specs and sorted(specs) == ["gateway", "vllm"]
    assert sorted(cat.collection_specs_from_documents(SPECS)) == ["onprem_closed_network", "onprem_serial"]


def _built():
    return cat.build_catalogue(cat.role_specs_from_documents(SPECS), DATA, cat.collection_specs_from_documents(SPECS))


def test_the_catalogue_knows_role_options_collection_variables_facts_and_patterns():
    catalogue = _built()
    assert catalogue.role_of("vllm_port") == "vllm" and catalogue.role_of("onprem_closed_network") is None
    assert catalogue.default("gateway_port") == 8443 and catalogue.default("onprem_closed_network") is False
    assert catalogue.known("onprem_gpu") and catalogue.known("onprem_lab_anything")
    assert not catalogue.known("vllm_prot")
    assert catalogue.owns("vllm_prot") and catalogue.owns("onprem_x") and not catalogue.owns("__vllm_plan")
    assert not catalogue.owns("ansible_host")
    assert catalogue.renamed["vllm_listen_port"]["name"] == "vllm_port"
    assert catalogue.rules == {"vllm_user": "account"}
    assert catalogue.play_keywords == frozenset(["onprem_serial"])
    # Longest prefix first, so gateway_ is tried before a shorter one.
    assert catalogue.prefixes == tuple(sorted(catalogue.prefixes, key=lambda p: (-len(p), p)))


@pytest.mark.parametrize("data, problem", [
    ([], "the data file must be a mapping"),
    ({"prefix": []}, "unknown key prefix"),
    ({"variables": {}}, "unknown key variables"),
    ({"play_keywords": {}}, "play_keywords must be a list"),
    ({"renamed": {"old": {"name": "new"}}}, "renamed.old needs name (the new variable) and version"),
    ({"ports": [{"var": "x"}]}, "ports[0] needs var and groups"),
    ({"ports": [{"var": "x", "groups": ["g"], "label": "x", "colour": 1}]}, "ports[0]: unknown key colour"),
    ({"ports": [{"var": "x", "groups": ["g"], "format": "float"}]}, "ports[0]: format must be int, host_port or list"),
    ({"ports": [{"var": "x", "groups": ["g"], "when": "yes"}]}, "ports[0]: when must be a mapping or a list"),
    ({"rules": {"vllm_user": "acount"}}, "rules.vllm_user: unknown format acount"),
])
def test_a_broken_data_file_is_refused_naming_the_place(data, problem):
    with pytest.raises(cat.CatalogueError) as error:
        cat.build_catalogue({}, data)
    assert str(error.value).startswith("data/inventory_variables.yml: ")
    assert problem in str(error.value)


def test_the_shipped_data_file_and_role_specs_build_a_catalogue():
    data = yaml.safe_load((ROOT / "data" / "inventory_variables.yml").read_text())
    documents = {path.parent.parent.name: yaml.safe_load(path.read_text())
                 for path in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml"))}
    catalogue = cat.build_catalogue(cat.role_specs_from_documents(documents), data,
                                    cat.collection_specs_from_documents(documents))
    assert catalogue.role_of("vllm_instances") == "vllm"
    assert catalogue.role_of("onprem_closed_network") is None and catalogue.default("onprem_closed_network") is False
    assert catalogue.play_keywords and all(catalogue.role_of(n) is None and catalogue.known(n)
                                           for n in catalogue.play_keywords)

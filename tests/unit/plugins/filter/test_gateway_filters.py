# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gateway filters: hostvars-like mappings in, plain route tables out; bad input named."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter.gateway import FilterModule


class LazyVars(Mapping):
    """Stands in for Ansible's HostVars: a Mapping, not a dict, that counts what is read."""

    def __init__(self, data):
        self._data = data
        self.read = []

    def __getitem__(self, key):
        self.read.append(key)
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


FILTERS = FilterModule().filters()


def test_routes_from_a_lazy_hostvars_reads_only_the_backend_keys():
    cpu1 = LazyVars({"vllm_instances": [{"name": "tiny", "model": "m", "port": 8000, "host": "cpu1"}],
                     "unrelated_secret": "never read"})
    hostvars = LazyVars({"cpu1": cpu1, "gw1": LazyVars({})})
    out = FILTERS["gateway_routes"](hostvars, {"vllm_servers": ["cpu1"]}, ["vllm_servers"], "gw1")
    assert out["problems"] == []
    assert out["routes"][0]["backends"][0]["server"] == "cpu1:8000"
    assert "unrelated_secret" not in cpu1.read


def test_routes_from_hostvars_skip_a_host_whose_ollama_state_is_absent():
    oll1 = LazyVars({"ollama_models": [{"name": "tiny"}], "ollama_host": "oll1:11434", "ollama_state": "absent"})
    oll2 = LazyVars({"ollama_models": [{"name": "tiny"}], "ollama_host": "oll2:11434"})
    hostvars = LazyVars({"oll1": oll1, "oll2": oll2, "gw1": LazyVars({})})
    out = FILTERS["gateway_routes"](hostvars, {"ollama_servers": ["oll1", "oll2"]}, ["ollama_servers"], "gw1")
    assert out["problems"] == []
    assert [b["host"] for b in out["routes"][0]["backends"]] == ["oll2"]


def test_routes_reject_non_mappings():
    with pytest.raises(AnsibleFilterError, match="hostvars and groups"):
        FILTERS["gateway_routes"]([], {}, ["vllm_servers"], "gw1")


def test_key_filters():
    assert FILTERS["gateway_api_key_problems"]([{"client": "a", "key": "A" * 16}]) == []
    assert FILTERS["gateway_key_pattern"]("a.b" + "c" * 14) == "~^Bearer a[.]b" + "c" * 14 + "$"
    assert FILTERS["gateway_models_document"]([{"model": "x"}])["data"][0]["id"] == "x"


def test_serving_hosts_leave_out_a_gateway_set_to_absent_and_keep_inventory_order():
    hostvars = LazyVars({"gw2": LazyVars({"gateway_state": "absent"}), "gw1": LazyVars({}),
                         "gw3": LazyVars({"gateway_state": "present"})})
    groups = {"gateway": ["gw3", "gw2", "gw1"], "edge": ["gw2"]}
    assert FILTERS["gateway_serving_hosts"](hostvars, groups) == ["gw3", "gw1"]
    assert FILTERS["gateway_serving_hosts"](hostvars, groups, "edge") == []
    assert FILTERS["gateway_serving_hosts"](hostvars, groups, "no_such_group") == []


def test_serving_hosts_reject_non_mappings():
    with pytest.raises(AnsibleFilterError, match="hostvars and groups"):
        FILTERS["gateway_serving_hosts"]([], {})

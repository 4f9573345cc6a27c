# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.onprem.llm.plugins.filter.monitoring import FilterModule


class _Lazy(Mapping):
    """A mapping that is not a dict, as hostvars and ansible_local are."""

    def __init__(self, data):
        self._data = data

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


def test_filters_are_registered_and_take_lazy_mappings():
    filters = FilterModule().filters()
    fact = filters["vllm_endpoint_fact"]([{"name": "tiny", "host": "n1", "port": 8000, "served_model_name": "t"}])
    exporter = filters["monitoring_exporter_fact"]("10.0.0.2", 9100)
    out = filters["monitoring_scrape_jobs"](
        _Lazy({"n1": _Lazy({"onprem_llm_vllm": fact, "onprem_llm_exporters": exporter})}), _Lazy({}), "mon", "127.0.0.1:9090")
    assert out["problems"] == []
    assert [job["job_name"] for job in out["jobs"]] == ["prometheus", "node", "vllm"]
    assert out["jobs"][2]["static_configs"][0]["targets"] == ["n1:8000"]

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from collections import ChainMap

from ansible_collections.onprem.llm.plugins.filter.monitoring import FilterModule


def test_filters_are_registered_and_take_mappings_that_are_not_dicts():
    # ChainMap is a Mapping but no dict, as hostvars and ansible_local are.
    filters = FilterModule().filters()
    fact = filters["vllm_endpoint_fact"]([{"name": "tiny", "host": "n1", "port": 8000, "served_model_name": "t"}])
    exporter = filters["monitoring_exporter_fact"]("10.0.0.2", 9100)
    published = ChainMap({"n1": ChainMap({"onprem_llm_vllm": fact, "onprem_llm_exporters": exporter})})
    out = filters["monitoring_scrape_jobs"](published, ChainMap({}), "mon", "127.0.0.1:9090")
    assert out["problems"] == []
    assert [job["job_name"] for job in out["jobs"]] == ["prometheus", "node", "vllm"]
    assert out["jobs"][2]["static_configs"][0]["targets"] == ["n1:8000"]


def test_gateway_filters_publish_and_check_the_log():
    filters = FilterModule().filters()
    fact = filters["monitoring_gateway_fact"]("/var/log/nginx/gw.log")
    assert filters["monitoring_gateway_log_problems"](ChainMap(fact)) == []
    assert filters["monitoring_gateway_log_problems"](None) == []
    assert filters["monitoring_exporter_fact"]("10.0.0.2", 9100, 3903)["gateway"]["port"] == 3903


def test_alertmanager_filter_takes_mappings():
    filters = FilterModule().filters()
    out = filters["monitoring_alertmanager_config"](
        [ChainMap({"name": "ops", "type": "webhook", "url": "http://x/"})], ChainMap({}),
        ChainMap({"group_wait": "5s", "group_interval": "5s", "repeat_interval": "1h"}))
    assert out["problems"] == [] and [r["name"] for r in out["config"]["receivers"]] == ["onprem-llm-none", "ops"]


def test_ollama_filter_publishes_the_api_url():
    filters = FilterModule().filters()
    assert filters["ollama_endpoint_fact"]("http://127.0.0.1:11434/") == {
        "version": 1, "engine": "ollama", "url": "http://127.0.0.1:11434", "models": []}
    assert filters["ollama_endpoint_fact"]("http://127.0.0.1:11434", [{"name": "tiny"}])["models"] == ["tiny:latest"]


def test_host_address_filter_reads_the_gathered_facts():
    filters = FilterModule().filters()
    assert filters["monitoring_host_address"](ChainMap({"ansible_default_ipv4": {}, "ansible_all_ipv4_addresses":
                                                        ["127.0.0.1", "10.89.0.7"]})) == "10.89.0.7"
    assert filters["monitoring_host_address"](ChainMap({"ansible_default_ipv4": {"address": "10.0.0.2"}})) == "10.0.0.2"
    assert filters["monitoring_host_address"](None) == ""

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.monitoring import targets


def _instance(name, host="127.0.0.1", port=8000, served=None, api_key=False):
    return {"name": name, "host": host, "port": port, "served_model_name": served or name,
            "model_path": "/srv/models/" + name, "api_key": api_key, "config": {"model": "/srv/models/x"},
            "env": {}}


def _exporter(host, port=9100):
    return targets.exporter_fact(host, port)


def test_vllm_fact_names_what_is_served_and_never_the_key():
    fact = targets.vllm_endpoint_fact([_instance("tiny", "g-cpu1", 8000, "tiny-llama", api_key=True),
                                       _instance("chat", port=8001, served=["chat", "chat-v2"])],
                                      "/opt/onprem-llm/vllm/current/bin/python")
    assert fact == {"version": 1, "engine": "vllm", "python": "/opt/onprem-llm/vllm/current/bin/python", "endpoints": [
        {"name": "chat", "host": "127.0.0.1", "port": 8001, "models": ["chat", "chat-v2"],
         "model_path": "/srv/models/chat", "url": "http://127.0.0.1:8001", "metrics_path": "/metrics",
         "api_key": False},
        {"name": "tiny", "host": "g-cpu1", "port": 8000, "models": ["tiny-llama"], "model_path": "/srv/models/tiny",
         "url": "http://g-cpu1:8000", "metrics_path": "/metrics", "api_key": True}]}


def test_vllm_fact_brackets_ipv6_and_is_empty_without_instances():
    assert targets.vllm_endpoint_fact([_instance("a", "::1")])["endpoints"][0]["url"] == "http://[::1]:8000"
    assert targets.vllm_endpoint_fact([])["endpoints"] == []


def test_jobs_from_published_facts_with_labels():
    published = {
        "g-gw1": {"onprem_llm_exporters": _exporter("10.89.0.2")},
        "g-cpu1": {"onprem_llm_exporters": _exporter("10.89.0.3"),
                   "onprem_llm_vllm": targets.vllm_endpoint_fact([_instance("tiny", "g-cpu1", 8000, "tiny-llama")])},
    }
    out = targets.scrape_jobs(published, {}, "g-gw1", "127.0.0.1:9090")
    assert out["problems"] == [] and out["unpublished"] == []
    assert out["jobs"] == [
        {"job_name": "prometheus", "static_configs": [{"targets": ["127.0.0.1:9090"], "labels": {"host": "g-gw1"}}]},
        {"job_name": "node", "metrics_path": "/metrics", "static_configs": [
            {"targets": ["10.89.0.3:9100"], "labels": {"host": "g-cpu1"}},
            {"targets": ["10.89.0.2:9100"], "labels": {"host": "g-gw1"}}]},
        {"job_name": "vllm", "metrics_path": "/metrics", "static_configs": [
            {"targets": ["g-cpu1:8000"], "labels": {"host": "g-cpu1", "vllm_instance": "tiny", "model": "tiny-llama"}}]},
    ]


def test_loopback_endpoint_on_the_monitoring_host_is_scraped_there():
    published = {"mon": {"onprem_llm_exporters": _exporter("127.0.0.1"),
                         "onprem_llm_vllm": targets.vllm_endpoint_fact([_instance("tiny")])}}
    out = targets.scrape_jobs(published, {}, "mon", "127.0.0.1:9090")
    assert out["problems"] == []
    assert [c["targets"] for job in out["jobs"][1:] for c in job["static_configs"]] == [["127.0.0.1:9100"], ["127.0.0.1:8000"]]


def test_loopback_endpoint_on_another_host_is_a_problem_naming_the_variable():
    published = {"gpu1": {"onprem_llm_exporters": _exporter("127.0.0.1"),
                          "onprem_llm_vllm": targets.vllm_endpoint_fact([_instance("tiny")])}}
    out = targets.scrape_jobs(published, {}, "mon", "127.0.0.1:9090")
    assert out["problems"] == [
        "the node exporter on host gpu1 listens on loopback (127.0.0.1), which the monitoring host mon cannot "
        "scrape: set monitoring_exporter_listen to gpu1's private address (or run monitoring on gpu1)",
        "vLLM instance tiny on host gpu1 listens on loopback (127.0.0.1), which the monitoring host mon cannot "
        "scrape: set vllm_instances[].host to gpu1's private address (or run monitoring on gpu1)"]
    assert [job["job_name"] for job in out["jobs"]] == ["prometheus"]


def test_wildcard_endpoint_is_reached_at_the_hosts_address():
    published = {"gpu1": {"onprem_llm_exporters": _exporter("10.0.0.7"),
                          "onprem_llm_vllm": targets.vllm_endpoint_fact([_instance("a", "0.0.0.0"), _instance("b", "::", 8001)])}}
    out = targets.scrape_jobs(published, {"gpu1": "10.0.0.7"}, "mon", "127.0.0.1:9090")
    assert [c["targets"][0] for c in out["jobs"][2]["static_configs"]] == ["10.0.0.7:8000", "10.0.0.7:8001"]
    # No known address: the inventory name (resolved by Prometheus).
    out = targets.scrape_jobs(published, {}, "mon", "127.0.0.1:9090")
    assert out["jobs"][2]["static_configs"][0]["targets"] == ["gpu1:8000"]


def test_hosts_without_an_exporter_fact_are_listed_and_still_scraped_for_vllm():
    published = {"b": {}, "a": {"onprem_llm_vllm": targets.vllm_endpoint_fact([_instance("x", "a")])}, "c": None}
    out = targets.scrape_jobs(published, {}, "mon", "127.0.0.1:9090")
    assert out["unpublished"] == ["a", "b", "c"]
    assert [job["job_name"] for job in out["jobs"]] == ["prometheus", "vllm"]


def test_gateway_fact_names_the_log_and_its_format_and_where_clients_reach_it():
    assert targets.gateway_fact("/var/log/nginx/gw.log") == {
        "version": 1, "access_log": "/var/log/nginx/gw.log", "log_format": targets.GATEWAY_LOG_FORMAT,
        "listen": "127.0.0.1", "port": 8443, "server_name": "", "tls_cert": "", "clients": []}
    fact = targets.gateway_fact("/var/log/gw.log", "0.0.0.0", "9443", "llm.example.internal",
                                "/etc/onprem-llm/gateway/tls/gateway.crt", ["ops", "app"])
    assert (fact["listen"], fact["port"], fact["server_name"], fact["clients"]) == (
        "0.0.0.0", 9443, "llm.example.internal", ["ops", "app"])


def test_gateway_log_problems_name_what_to_change():
    assert targets.gateway_log_problems({}) == []
    assert targets.gateway_log_problems(targets.gateway_fact("/var/log/nginx/gw.log")) == []
    old = dict(targets.gateway_fact("/var/log/nginx/gw.log"), log_format="onprem_llm_gateway/1")
    assert targets.gateway_log_problems(old) == [
        "the gateway on this host logs in format 'onprem_llm_gateway/1', the monitoring role reads "
        "'onprem_llm_gateway/2': run the gateway and monitoring roles of the same collection version"]
    assert targets.gateway_log_problems(dict(targets.gateway_fact(""))) == [
        "the gateway on this host publishes no access log path (''): set gateway_access_log to an absolute path"]


def test_exporter_fact_names_the_gateway_metrics_only_on_gateway_hosts():
    assert "gateway" not in targets.exporter_fact("10.0.0.2", 9100)
    assert targets.exporter_fact("10.0.0.2", 9100, 3903)["gateway"] == {
        "host": "10.0.0.2", "port": 3903, "metrics_path": "/metrics"}


def test_gateway_metrics_become_their_own_job_between_node_and_vllm():
    published = {
        "gw": {"onprem_llm_exporters": targets.exporter_fact("10.0.0.2", 9100, 3903)},
        "cpu": {"onprem_llm_exporters": _exporter("10.0.0.3"),
                "onprem_llm_vllm": targets.vllm_endpoint_fact([_instance("tiny", "cpu")])},
    }
    out = targets.scrape_jobs(published, {}, "mon", "127.0.0.1:9090")
    assert out["problems"] == []
    assert [job["job_name"] for job in out["jobs"]] == ["prometheus", "node", "gateway", "vllm"]
    assert out["jobs"][2] == {"job_name": "gateway", "metrics_path": "/metrics", "static_configs": [
        {"targets": ["10.0.0.2:3903"], "labels": {"host": "gw"}}]}


def test_gateway_metrics_on_loopback_of_another_host_are_a_problem():
    published = {"gw": {"onprem_llm_exporters": targets.exporter_fact("127.0.0.1", 9100, 3903)}}
    out = targets.scrape_jobs(published, {}, "mon", "127.0.0.1:9090")
    assert out["problems"][1] == (
        "the gateway metrics exporter on host gw listens on loopback (127.0.0.1), which the monitoring host mon cannot "
        "scrape: set monitoring_exporter_listen to gw's private address (or run monitoring on gw)")
    assert [job["job_name"] for job in out["jobs"]] == ["prometheus"]


def test_ollama_fact_names_the_api_and_refuses_a_url_without_scheme():
    assert targets.ollama_endpoint_fact("http://[::1]:11434") == {
        "version": 1, "engine": "ollama", "url": "http://[::1]:11434", "models": []}
    # The models kept present, as Ollama lists them (a bare name is name:latest); absent ones are not served.
    models = ["llama3.1", {"name": "qwen2.5:0.5b"}, {"name": "old:1b", "state": "absent"}, "hf.co/org/m",
              "llama3.1:latest"]
    assert targets.ollama_endpoint_fact("http://127.0.0.1:11434/", models)["models"] == [
        "llama3.1:latest", "qwen2.5:0.5b", "hf.co/org/m:latest"]
    with pytest.raises(ValueError, match="must start with http:// or https://, got '127.0.0.1:11434'"):
        targets.ollama_endpoint_fact("127.0.0.1:11434")


def test_host_address_without_a_default_route_is_the_one_global_address():
    assert targets.host_address("10.0.0.5", ["10.0.0.5", "192.168.1.5"]) == "10.0.0.5"
    # A closed network's host: no default route, one address besides loopback and link-local.
    assert targets.host_address(None, ["127.0.0.1", "169.254.3.4", "10.89.0.7"]) == "10.89.0.7"
    # Several and no default: ambiguous, the user names it.
    assert targets.host_address("", ["10.89.0.7", "192.168.1.5"]) == ""
    assert targets.host_address(None, None) == ""


def test_health_job_probes_each_vllm_instance_through_the_blackbox_exporter():
    published = {"g-cpu1": {"onprem_llm_vllm": targets.vllm_endpoint_fact([_instance("tiny", "g-cpu1", 8000, "tiny")])}}
    jobs = targets.scrape_jobs(published, {}, "g-gw1", "127.0.0.1:9090", "127.0.0.1:9115")["jobs"]
    assert jobs[-1] == {
        "job_name": "health", "metrics_path": "/probe", "params": {"module": ["onprem_llm_health"]},
        "static_configs": [{"targets": ["http://g-cpu1:8000/health"],
                            "labels": {"host": "g-cpu1", "vllm_instance": "tiny", "model": "tiny"}}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": "127.0.0.1:9115"}]}
    # No blackbox exporter, or nothing to probe: no health job.
    assert [j["job_name"] for j in targets.scrape_jobs(published, {}, "g-gw1", "127.0.0.1:9090")["jobs"]] == [
        "prometheus", "vllm"]
    assert [j["job_name"] for j in targets.scrape_jobs({}, {}, "g-gw1", "127.0.0.1:9090", "127.0.0.1:9115")["jobs"]] == [
        "prometheus"]


def test_exporter_fact_names_dcgm_exporter_only_where_it_runs():
    assert "dcgm" not in targets.exporter_fact("10.0.0.4", 9100, 3903)
    assert targets.exporter_fact("10.0.0.4", 9100, None, 9400)["dcgm"] == {
        "host": "10.0.0.4", "port": 9400, "metrics_path": "/metrics"}


def test_dcgm_exporter_becomes_job_dcgm_after_the_gateway():
    published = {
        "gpu": {"onprem_llm_exporters": targets.exporter_fact("10.0.0.4", 9100, None, 9400)},
        "gw": {"onprem_llm_exporters": targets.exporter_fact("10.0.0.2", 9100, 3903)},
    }
    out = targets.scrape_jobs(published, {}, "mon", "127.0.0.1:9090")
    assert out["problems"] == []
    assert [job["job_name"] for job in out["jobs"]] == ["prometheus", "node", "gateway", "dcgm"]
    assert out["jobs"][3] == {"job_name": "dcgm", "metrics_path": "/metrics", "static_configs": [
        {"targets": ["10.0.0.4:9400"], "labels": {"host": "gpu"}}]}


def test_dcgm_exporter_on_loopback_of_another_host_is_a_problem_naming_the_variable():
    published = {"gpu": {"onprem_llm_exporters": targets.exporter_fact("127.0.0.1", 9100, None, 9400)}}
    out = targets.scrape_jobs(published, {}, "mon", "127.0.0.1:9090")
    assert [job["job_name"] for job in out["jobs"]] == ["prometheus"]
    assert out["problems"] == [
        "the node exporter on host gpu listens on loopback (127.0.0.1), which the monitoring host mon cannot scrape: "
        "set monitoring_exporter_listen to gpu's private address (or run monitoring on gpu)",
        "dcgm-exporter on host gpu listens on loopback (127.0.0.1), which the monitoring host mon cannot scrape: "
        "set monitoring_exporter_listen to gpu's private address (or run monitoring on gpu)"]

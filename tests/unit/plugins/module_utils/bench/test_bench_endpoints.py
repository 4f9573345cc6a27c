from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.bench import endpoints as ep

VLLM_NODE = {
    "host": "gpu1",
    "vllm_instances": [
        {"name": "chat", "port": 8000, "model": "llama-3.1-8b-instruct", "api_key": "s3cret-vllm"},
        {"name": "code", "port": 8001, "host": "0.0.0.0", "model_path": "/srv/models/coder",
         "served_model_name": "coder"},
    ],
    "vllm_prefix": "/opt/vllm",
    "model_paths": {"chat": "/srv/models/llama-3.1-8b-instruct"},
    "ollama_host": "127.0.0.1:11434",
    "ollama_models": [],
}
OLLAMA_NODE = {
    "host": "cpu1", "vllm_instances": [], "ollama_host": "0.0.0.0:11500",
    "ollama_models": [{"name": "qwen2.5:7b"}, {"name": "llama3.1"}, {"name": "old:1b", "state": "absent"}],
}
GATEWAY_NODE = {
    "host": "gw1", "vllm_instances": [], "ollama_models": [],
    "gateway": {"listen": "10.0.0.5", "port": 8443, "server_name": "llm.example.internal",
                "tls_cert": "/etc/onprem-llm/gateway/tls.crt",
                "api_keys": [{"client": "ops", "key": "gw-ops-key"}, {"client": "app", "key": "gw-app-key"}]},
}


def by_name(items):
    return {i["name"]: i for i in items}


def test_direct_endpoints_from_vllm_and_ollama():
    out = by_name(ep.derive_endpoints([OLLAMA_NODE, VLLM_NODE]))
    assert sorted(out) == ["ollama/cpu1/llama3.1:latest", "ollama/cpu1/qwen2.5:7b", "vllm/gpu1/chat", "vllm/gpu1/code"]
    chat = out["vllm/gpu1/chat"]
    assert chat["url"] == "http://127.0.0.1:8000"
    assert chat["model"] == "llama-3.1-8b-instruct"
    assert chat["runner"] == "gpu1" and chat["route"] == "direct" and chat["kind"] == "vllm"
    assert chat["api_key"] == "s3cret-vllm"
    assert chat["model_path"] == "/srv/models/llama-3.1-8b-instruct"
    assert chat["vllm_python"] == "/opt/vllm/current/bin/python"
    code = out["vllm/gpu1/code"]
    assert code["url"] == "http://127.0.0.1:8001" and code["model"] == "coder" and code["model_path"] == "/srv/models/coder"
    llama = out["ollama/cpu1/llama3.1:latest"]
    assert llama["url"] == "http://127.0.0.1:11500" and llama["model"] == "llama3.1:latest" and llama["runner"] == "cpu1"


def test_gateway_endpoint_per_model_with_first_key():
    out = by_name(ep.derive_endpoints([VLLM_NODE, OLLAMA_NODE, GATEWAY_NODE]))
    gw = [e for e in out.values() if e["route"] == "gateway"]
    assert sorted(e["model"] for e in gw) == ["coder", "llama-3.1-8b-instruct", "llama3.1:latest", "qwen2.5:7b"]
    one = out["gateway/coder"]
    assert one["url"] == "https://10.0.0.5:8443"
    assert one["tls_server_name"] == "llm.example.internal"
    assert one["ca_path"] == "/etc/onprem-llm/gateway/tls.crt"
    assert one["api_key"] == "gw-ops-key" and one["runner"] == "gw1" and one["kind"] == "vllm"


def test_gateway_client_selects_key_and_unknown_client_fails():
    out = by_name(ep.derive_endpoints([VLLM_NODE, GATEWAY_NODE], gateway_client="app"))
    assert out["gateway/coder"]["api_key"] == "gw-app-key"
    with pytest.raises(ep.EndpointError, match="no key for client 'nobody'"):
        ep.derive_endpoints([VLLM_NODE, GATEWAY_NODE], gateway_client="nobody")


def test_instance_without_port_fails():
    with pytest.raises(ep.EndpointError, match="needs name and port"):
        ep.derive_endpoints([{"host": "h", "vllm_instances": [{"name": "x"}]}])


@pytest.mark.parametrize("value,expected", [
    ("127.0.0.1:11434", ("127.0.0.1", 11434)),
    ("http://0.0.0.0:8080", ("0.0.0.0", 8080)),
    ("[::1]:11434", ("::1", 11434)),
    ("myhost", ("myhost", 11434)),
])
def test_split_host_port(value, expected):
    assert ep.split_host_port(value, 11434) == expected


def test_normalize_endpoints():
    out = ep.normalize_endpoints([{"url": "http://10.1.1.1:8000", "model": "m", "kind": "vllm"}])
    assert out[0]["name"] == "m@http://10.1.1.1:8000" and out[0]["runner"] == "localhost" and out[0]["api"] == "chat"
    with pytest.raises(ep.EndpointError, match="unknown keys modle"):
        ep.normalize_endpoints([{"url": "http://x", "model": "m", "modle": "typo"}])
    with pytest.raises(ep.EndpointError, match="needs at least url and model"):
        ep.normalize_endpoints([{"url": "http://x"}])
    with pytest.raises(ep.EndpointError, match="unique"):
        ep.normalize_endpoints([{"url": "http://x", "model": "m"}, {"url": "http://x", "model": "m"}])


def test_curl_page_never_contains_keys():
    endpoints = ep.derive_endpoints([VLLM_NODE, OLLAMA_NODE, GATEWAY_NODE])
    page = ep.curl_markdown(endpoints, "t")
    for secret in ("s3cret-vllm", "gw-ops-key", "gw-app-key"):
        assert secret not in page
    assert "$ONPREM_LLM_API_KEY" in page
    assert page.count("## ") == len(endpoints)


def test_curl_commands_for_gateway_and_direct():
    endpoints = by_name(ep.derive_endpoints([VLLM_NODE, GATEWAY_NODE]))
    models, _completion, stream = [c for _t, c in ep.curl_commands(endpoints["gateway/coder"])]
    assert models == ('curl -sS --cacert tls.crt -H "Authorization: Bearer $ONPREM_LLM_API_KEY"'
                      ' https://llm.example.internal:8443/v1/models')
    assert '"stream": true' in stream and " -N " in stream
    direct = [c for _t, c in ep.curl_commands(endpoints["vllm/gpu1/code"])]
    assert direct[0] == "curl -sS http://127.0.0.1:8001/v1/models"


def _published():
    # What the roles publish for the three nodes above (the same fact functions the roles call).
    from ansible_collections.onprem.llm.plugins.module_utils.monitoring import targets
    plan = [{"name": "chat", "host": "127.0.0.1", "port": 8000, "served_model_name": "llama-3.1-8b-instruct",
             "model_path": "/srv/models/llama-3.1-8b-instruct", "api_key": True},
            {"name": "code", "host": "0.0.0.0", "port": 8001, "served_model_name": "coder",
             "model_path": "/srv/models/coder", "api_key": False}]
    return {
        "gpu1": {"onprem_llm_vllm": targets.vllm_endpoint_fact(plan, "/opt/vllm/current/bin/python"),
                 "onprem_llm_ollama": targets.ollama_endpoint_fact("http://127.0.0.1:11434", [])},
        "cpu1": {"onprem_llm_ollama": targets.ollama_endpoint_fact("http://127.0.0.1:11500",
                                                                   OLLAMA_NODE["ollama_models"])},
        "gw1": {"onprem_llm_gateway": targets.gateway_fact("/var/log/gw.log", "10.0.0.5", 8443, "llm.example.internal",
                                                           "/etc/onprem-llm/gateway/tls.crt", ["ops", "app"])},
    }


KEYS = {"gpu1": {"vllm": {"chat": "s3cret-vllm", "code": ""}}, "gw1": {"gateway": GATEWAY_NODE["gateway"]["api_keys"]}}


def test_published_facts_give_the_endpoints_the_inventory_gives():
    published = _published()
    nodes = [ep.node_from_published(host, published[host], KEYS.get(host)) for host in ("gw1", "cpu1", "gpu1")]
    assert ep.derive_endpoints(nodes) == ep.derive_endpoints([VLLM_NODE, OLLAMA_NODE, GATEWAY_NODE])
    assert ep.derive_endpoints(nodes, "completions", "app") == ep.derive_endpoints(
        [VLLM_NODE, OLLAMA_NODE, GATEWAY_NODE], "completions", "app")


def test_keys_come_from_the_inventory_only_where_the_fact_says_one_is_set():
    published = _published()
    node = ep.node_from_published("gpu1", published["gpu1"], {"vllm": {"chat": "k1", "code": "stale"}})
    assert [(i["name"], i["api_key"]) for i in node["vllm_instances"]] == [("chat", "k1"), ("code", "")]
    # Without the inventory's keys the endpoint is still tested (its auth check then fails by name).
    assert ep.node_from_published("gpu1", published["gpu1"])["vllm_instances"][0]["api_key"] == ""


def test_a_host_that_published_nothing_serves_nothing():
    assert ep.derive_endpoints([ep.node_from_published("new1", {})]) == []
    assert ep.node_from_published("new1", None)["gateway"] is None

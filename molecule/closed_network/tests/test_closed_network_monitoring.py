"""Monitoring with no outside network: Prometheus on c-cpu1 and every node's exporter came from the
bundle, and Prometheus scrapes every node, the vLLM instance (and probes its health) and Ollama's
collector."""

import json
import time

testinfra_hosts = ["c-cpu1"]

NODES = ("c-cpu1", "c-gpu1", "c-mirror1", "c-oll1")


def _query(host, expr):
    out = json.loads(host.check_output("curl -sfG http://127.0.0.1:9090/api/v1/query --data-urlencode %s"
                                       % ("'query=%s'" % expr)))
    return out["data"]["result"]


def test_prometheus_and_the_exporter_came_from_the_bundle(host):
    for package in ("prometheus", "prometheus-node-exporter"):
        assert host.package(package).is_installed
        assert "http://c-mirror1:8089/bundle/apt/bookworm" in host.check_output("apt-cache policy %s" % package)


def test_every_target_is_up(host):
    deadline = time.time() + 60
    while True:
        up = {(r["metric"]["job"], r["metric"]["host"]): r["value"][1] for r in _query(host, "up")}
        if len(up) == 7 and set(up.values()) == {"1"} or time.time() > deadline:
            break
        time.sleep(2)
    expected = {("node", node): "1" for node in NODES}
    # The vLLM instance's /metrics, its /health through the blackbox exporter, and Prometheus itself.
    expected.update({("vllm", "c-cpu1"): "1", ("health", "c-cpu1"): "1", ("prometheus", "c-cpu1"): "1"})
    assert up == expected


def test_ollamas_collector_reaches_prometheus(host):
    values = [r["value"][1] for r in _query(host, 'onprem_llm_ollama_up{host="c-oll1"}')]
    assert values == ["1"]
    assert _query(host, 'onprem_llm_ollama_info{host="c-oll1", version="0.20.0"}')


def test_the_vllm_engine_passes_its_health_probe(host):
    assert [r["value"][1] for r in _query(host, 'probe_success{job="health", host="c-cpu1"}')] == ["1"]

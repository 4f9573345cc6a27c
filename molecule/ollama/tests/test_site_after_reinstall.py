# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify, after side_effect uninstalled the gateway, Ollama and monitoring and installed them again:
the one-host site serves through the gateway and Prometheus scrapes every exporter again."""

import json
import time

testinfra_hosts = ["o-node1"]

KEY = "molecule-gateway-key-0001"


def test_the_gateway_serves_a_completion_from_ollama_again(host):
    out = host.check_output(
        "curl -sf --cacert /etc/onprem-llm/gateway/tls/gateway.crt --resolve o-node1:8443:127.0.0.1 "
        "-H 'Authorization: Bearer %s' https://o-node1:8443/v1/chat/completions "
        "-d '{\"model\": \"tinyllama-double\", \"max_tokens\": 4, "
        "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}'" % KEY)
    answer = json.loads(out)
    assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["content"]


def test_the_gateway_refuses_a_request_without_a_key(host):
    code = host.check_output(
        "curl -s -o /dev/null -w '%{http_code}' -k https://127.0.0.1:8443/v1/models")
    assert code == "401"


def test_prometheus_scrapes_every_exporter_again(host):
    deadline = time.time() + 90
    while True:
        targets = json.loads(host.check_output("curl -sf 'http://127.0.0.1:9090/api/v1/targets?state=active'"))
        health = dict((t["labels"]["job"], t["health"]) for t in targets["data"]["activeTargets"])
        if set(health.values()) == {"up"} or time.time() > deadline:
            break
        time.sleep(5)
    assert {"prometheus", "node", "gateway", "dcgm"} <= set(health) and set(health.values()) == {"up"}, health

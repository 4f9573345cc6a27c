# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify the monitoring role's collectors on an Ollama host: the real node exporter serves Ollama's
loaded models (read from the Ollama double's API by the collector's timer); Ollama stopped shows as
down. The T4 double's GPU figures come from dcgm-exporter here (test_dcgm_exporter.py)."""

import json
import pathlib
import re
import time
import urllib.parse

testinfra_hosts = ["o-node1"]

EXPORTER = "http://127.0.0.1:9100/metrics"
RULES = pathlib.Path(__file__).resolve().parents[3] / "roles" / "monitoring" / "templates" / "onprem-llm.rules.yml.j2"
FACT = "/etc/ansible/facts.d/onprem_llm_ollama.fact"
FLEET = RULES.parents[1] / "files" / "grafana" / "onprem-llm-fleet.json"


def _metrics(host):
    """{(name, labels text): value} of the node exporter's answer, after a fresh run of the collectors."""
    # The tests start the collectors more often than systemd's start limit (5 in 10 s) allows a unit;
    # reset-failed clears that count (a collector that fails still fails the start).
    units = "onprem-llm-ollama-metrics.service"
    host.check_output("systemctl reset-failed %s && systemctl start %s" % (units, units))
    found = {}
    for line in host.check_output("curl -sf %s" % EXPORTER).splitlines():
        match = re.match(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if match:
            found[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return found


def _generate(host, model):
    host.check_output(
        "curl -sf http://127.0.0.1:11434/api/generate -d '{\"model\": \"%s\", \"prompt\": \"hi\", \"stream\": false}'"
        % model)


def test_ollama_publishes_its_api_for_monitoring(host):
    fact = host.file(FACT)
    assert fact.mode == 0o644 and '"url": "http://127.0.0.1:11434"' in fact.content_string


def test_the_node_exporter_serves_ollamas_loaded_models(host):
    _generate(host, "tinyllama-double")
    got = _metrics(host)
    model = '{model="tinyllama-double:latest"}'
    assert got[("onprem_llm_ollama_up", "")] == 1
    assert got[("onprem_llm_ollama_info", '{version="0.20.0"}')] == 1
    assert got[("onprem_llm_ollama_models_stored", "")] == 2
    assert got[("onprem_llm_ollama_model_loaded_bytes", model)] > 0
    assert got[("onprem_llm_ollama_model_vram_bytes", model)] == 0
    assert got[("onprem_llm_ollama_model_context_length", model)] == 4096
    # Loaded for five minutes from the request (the double keeps Ollama's default keep_alive).
    assert 0 < got[("onprem_llm_ollama_model_expiry_timestamp_seconds", model)] - time.time() <= 300
    assert got[("node_textfile_scrape_error", "")] == 0


def test_every_ollama_metric_the_rules_use_is_served(host):
    used = set(re.findall(r"\bonprem_llm_ollama_\w+", RULES.read_text()))
    served = set(name for name, _labels in _metrics(host))
    assert used and used <= served


def test_the_fleet_dashboards_ollama_panels_return_the_loaded_model(host):
    # Run as Grafana would against this node's Prometheus (molecule/rollout, without Ollama, runs the rest).
    _generate(host, "tinyllama-double")
    panels = [(panel["title"], target["expr"]) for panel in json.loads(FLEET.read_text())["panels"]
              for target in panel["targets"] if "onprem_llm_ollama_" in target["expr"]]
    assert len(panels) == 2
    for title, expr in panels:
        deadline = time.time() + 60
        while True:
            answer = json.loads(host.check_output(
                "curl -sf 'http://127.0.0.1:9090/api/v1/query?query=%s'" % urllib.parse.quote(expr)))
            models = [series["metric"].get("model") for series in answer["data"]["result"]]
            if "tinyllama-double:latest" in models or time.time() > deadline:
                break
            time.sleep(3)
        assert "tinyllama-double:latest" in models, (title, expr, answer)


def test_ollama_stopped_shows_as_down_and_recovers(host):
    try:
        host.check_output("systemctl stop ollama.service")
        assert _metrics(host)[("onprem_llm_ollama_up", "")] == 0
    finally:
        host.check_output("systemctl start ollama.service")
    deadline = time.time() + 30
    while _metrics(host)[("onprem_llm_ollama_up", "")] != 1:
        assert time.time() < deadline, "Ollama did not come back"
        time.sleep(1)


def test_collector_timers_are_enabled_and_sandboxed(host):
    timer = host.service("onprem-llm-ollama-metrics.timer")
    assert timer.is_enabled and timer.is_running
    props = dict(line.split("=", 1) for line in host.check_output(
        "systemctl show onprem-llm-ollama-metrics.service -p IPAddressDeny -p IPAddressAllow -p ProtectSystem "
        "-p PrivateNetwork").splitlines())
    assert props["ProtectSystem"] == "strict" and props["PrivateNetwork"] == "no"
    # Ollama listens on loopback: only loopback is reachable.
    assert set(props["IPAddressAllow"].split()) == {"127.0.0.0/8", "::1/128"}
    assert set(props["IPAddressDeny"].split()) == {"0.0.0.0/0", "::/0"}

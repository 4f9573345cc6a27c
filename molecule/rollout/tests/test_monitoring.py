"""Verify molecule/rollout's monitoring: Prometheus on g-gw1 scraping every node exporter and both
real vLLM instances, from the endpoints the roles published; the alert rules (promtool unit tests,
and the endpoint-down alert seen firing and clearing by alert.yml)."""

import json
import os
import pathlib
import re
import shlex
import subprocess
import tempfile
import time

import pytest
import testinfra
import yaml

testinfra_hosts = ["g-gw1"]

NODES = ("g-gw1", "g-cpu1", "g-cpu2")
PROMETHEUS = "http://127.0.0.1:9090"
RULES = "/etc/prometheus/rules/onprem-llm.rules.yml"
RULE_TESTS = pathlib.Path(__file__).parent.parent / "files" / "onprem-llm.rules.test.yml"
BACKEND_KEY = "rollout-backend-not-a-secret"
DASHBOARDS = pathlib.Path(__file__).resolve().parents[3] / "roles" / "monitoring" / "files" / "grafana"
GRAFANA_DIR = "/etc/onprem-llm/grafana"
SCREENSHOTS = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", ".")) / "tests" / "output" / "screenshots"
# Debian's Chromium, headless, from this machine (a host package: installing it in g-gw1 on every
# run cost 27 CPU-seconds) inside g-gw1's network namespace, where Prometheus listens on loopback as
# the role sets it up. Debian's Prometheus serves its server-rendered pages under /classic/.
CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--window-size=1400,1800"]
# Grafana's variables as Grafana fills them for "All" and a short range.
_GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h", "$model": ".*", "$client": ".*", "$host": ".*"}
# PromQL words that are not metric names.
_PROMQL_WORDS = {"and", "or", "unless", "on", "ignoring", "by", "without", "group_left", "group_right",
                 "bool", "offset"}


def _node(name):
    return testinfra.get_host("podman://%s" % name)


def _api(host, path):
    return json.loads(host.check_output("curl -sf %s" % shlex.quote(PROMETHEUS + path)))


def _query(host, expr):
    out = _api(host, "/api/v1/query?query=" + re.sub(r"[^A-Za-z0-9_.~-]", lambda m: "%%%02X" % ord(m.group()), expr))
    assert out["status"] == "success", out
    return out["data"]["result"]


def _eth0(host):
    return host.check_output("ip -4 -o addr show dev eth0 | awk '{print $4}'").split("/")[0]


def test_alertmanager_listens_on_loopback_only_without_a_cluster_port(host):
    assert host.service("prometheus-alertmanager").is_running
    listening = host.check_output("ss -Hltnu 'sport = :9093 or sport = :9094'")
    assert "127.0.0.1:9093" in listening and ":9094" not in listening and "*:9093" not in listening
    config = yaml.safe_load(host.file("/etc/prometheus/prometheus.yml").content_string)
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]
    assert host.file("/etc/prometheus/alertmanager.yml").mode == 0o640


def test_prometheus_listens_on_loopback_only(host):
    assert host.service("prometheus").is_running and host.service("prometheus").is_enabled
    listening = host.check_output("ss -Hltn 'sport = :9090'")
    assert "127.0.0.1:9090" in listening and "0.0.0.0:9090" not in listening and "*:9090" not in listening


def test_every_target_is_up(host):
    # Three node exporters, the gateway's metrics, two vLLM instances, their two health probes and
    # Prometheus itself; the side effect restarted vLLM, so give the next scrapes a few seconds.
    for _attempt in range(30):
        targets = _api(host, "/api/v1/targets?state=active")["data"]["activeTargets"]
        if len(targets) == 9 and all(t["health"] == "up" for t in targets):
            break
        time.sleep(2)
    found = sorted((t["labels"]["job"], t["labels"]["host"], t["health"]) for t in targets)
    assert found == sorted([("node", n, "up") for n in NODES]
                           + [(job, n, "up") for job in ("vllm", "health") for n in ("g-cpu1", "g-cpu2")]
                           + [("prometheus", "g-gw1", "up"), ("gateway", "g-gw1", "up")])


def test_every_vllm_engine_passes_its_health_probe_through_the_loopback_blackbox_exporter(host):
    assert host.service("prometheus-blackbox-exporter").is_running
    listening = host.check_output("ss -Hltn 'sport = :9115'")
    assert "127.0.0.1:9115" in listening and "0.0.0.0:9115" not in listening and "*:9115" not in listening
    probes = {(r["metric"]["host"], r["metric"]["instance"]): r["value"][1]
              for r in _query(host, 'probe_success{job="health"}')}
    assert probes == {("g-cpu1", "http://g-cpu1:8000/health"): "1", ("g-cpu2", "http://g-cpu2:8000/health"): "1"}
    # The probe's own status code: vLLM's /health answers 200 without the API key.
    codes = set(r["value"][1] for r in _query(host, 'probe_http_status_code{job="health"}'))
    assert codes == {"200"}


def test_the_installed_vllm_answers_503_on_health_once_its_engine_died():
    # What LLMBackendUnhealthy and docs/monitoring.md say, read from the vLLM the scenario runs.
    node = _node("g-cpu1")
    paths = node.check_output("find /opt/onprem-llm/vllm -path '*/vllm/entrypoints/serve/instrumentator/health.py'")
    assert paths.split()
    for path in paths.split():
        source = node.file(path).content_string
        assert '@router.get("/health"' in source, path
        assert re.search(r"except EngineDeadError:\s+return Response\(status_code=503\)", source), path


def test_scrape_targets_come_from_the_published_endpoints(host):
    config = host.file("/etc/prometheus/prometheus.yml").content_string
    for node in ("g-cpu1", "g-cpu2"):
        fact = json.loads(_node(node).file("/etc/ansible/facts.d/onprem_llm_vllm.fact").content_string)
        # The revision side_effect.yml rolled out, under the old name.
        assert fact["endpoints"] == [{"name": "tiny", "host": node, "port": 8000, "models": ["tiny-llama"],
                                      "model_path": "/srv/models/tiny-llama-r2",
                                      "url": "http://%s:8000" % node, "metrics_path": "/metrics", "api_key": True}]
        assert fact["python"] == "/opt/onprem-llm/vllm/current/bin/python"
        assert "%s:8000" % node in config
    for node in NODES:
        exporter = json.loads(_node(node).file("/etc/ansible/facts.d/onprem_llm_exporters.fact").content_string)
        assert exporter["node"] == {"host": _eth0(_node(node)), "port": 9100, "metrics_path": "/metrics"}
        assert "%s:9100" % exporter["node"]["host"] in config
        # Only the gateway host publishes the gateway's metrics, read from the log its gateway publishes.
        if node == "g-gw1":
            assert exporter["gateway"] == {"host": _eth0(host), "port": 3903, "metrics_path": "/metrics"}
            assert "%s:3903" % exporter["gateway"]["host"] in config
            gateway = json.loads(host.file("/etc/ansible/facts.d/onprem_llm_gateway.fact").content_string)
            # And where clients reach it (smoke tests and benchmarks): the client names, never a key.
            assert gateway == {"version": 1, "access_log": "/var/log/nginx/onprem-llm-gateway.access.log",
                               "log_format": "onprem_llm_gateway/2", "listen": "127.0.0.1", "port": 8443,
                               "server_name": "g-gw1", "tls_cert": "/etc/onprem-llm/gateway/tls/gateway.crt",
                               "clients": ["molecule", "loadloop"]}
        else:
            assert "gateway" not in exporter


def test_no_key_in_published_facts_or_the_scrape_config(host):
    assert BACKEND_KEY not in host.file("/etc/prometheus/prometheus.yml").content_string
    for node in ("g-cpu1", "g-cpu2"):
        assert BACKEND_KEY not in _node(node).file("/etc/ansible/facts.d/onprem_llm_vllm.fact").content_string
    gateway = host.file("/etc/ansible/facts.d/onprem_llm_gateway.fact").content_string
    assert "molecule-gateway-key-0001" not in gateway and "loadloop-gateway-key-0002" not in gateway


@pytest.mark.parametrize("expr", ["vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
                                  "vllm:request_success_total"])
def test_vllm_series_of_both_instances(host, expr):
    hosts = sorted(set(r["metric"]["host"] for r in _query(host, expr)))
    assert hosts == ["g-cpu1", "g-cpu2"], expr


@pytest.mark.parametrize("client", ["molecule", "loadloop"])
def test_gateway_series_by_client(host, client):
    # The side effect's load loop sent requests as loadloop, test_gateway_metrics.py as molecule
    # moments ago: wait up to three scrape intervals (5 s) for them.
    expr = 'sum by (host, model, route) (onprem_llm_gateway_requests_total{job="gateway", client="%s", status="200"})' % client
    for _attempt in range(15):
        found = [(r["metric"]["host"], r["metric"]["model"], r["metric"]["route"]) for r in _query(host, expr)]
        if ("g-gw1", "tiny-llama", "chat_completions") in found:
            break
        time.sleep(1)
    assert ("g-gw1", "tiny-llama", "chat_completions") in found, found


def _metric_names(expr):
    # Without label matchers, strings, range selectors and grouping clauses, the words not followed
    # by "(" (functions, aggregations) are metric names.
    expr = re.sub(r"\{[^}]*\}|\"[^\"]*\"|\[[^\]]*\]|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                  " ", expr)
    return set(w for w in re.findall(r"\b[A-Za-z_:][A-Za-z0-9_:]*\b(?!\s*\()", expr) if w not in _PROMQL_WORDS)


def _dashboard_queries():
    """(dashboard, panel title, expr) of every panel query, and the variables' label_values queries."""
    for path in sorted(DASHBOARDS.glob("*.json")):
        doc = json.loads(path.read_text())
        for panel in doc["panels"]:
            for target in panel["targets"]:
                yield path.name, panel["title"], target["expr"]
        for variable in doc["templating"]["list"]:
            if variable["type"] == "query":
                metric = re.fullmatch(r"label_values\((.+), \w+\)", variable["definition"]).group(1)
                yield path.name, "variable " + variable["name"], metric


def test_every_metric_the_rules_and_dashboards_use_is_exposed_by_the_real_exporters(host):
    names = set(_api(host, "/api/v1/label/__name__/values")["data"])
    rules = yaml.safe_load(host.file(RULES).content_string)
    used = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            used |= _metric_names(rule["expr"])
    for _dashboard, _title, expr in _dashboard_queries():
        used |= _metric_names(expr)
    assert used >= {"up", "vllm:num_requests_waiting", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_XID_ERRORS",
                    "node_systemd_unit_state", "onprem_llm_gpu_smi_up", "vllm:kv_cache_usage_perc", "node_filesystem_avail_bytes",
                    "onprem_llm_gateway_requests_total", "vllm:time_to_first_token_seconds_bucket",
                    "onprem_llm_gateway_completion_tokens_total"}
    # Row remapping exists from Ampere on; the V100S double reports none. Its name is dcgm-exporter's
    # (tests/unit/test_gpu_metrics_textfile.py checks the script's names against dcgm-exporter's list).
    # No Ollama here: molecule/ollama finds the onprem_llm_ollama_* names in its node exporter's answer
    # and runs the Ollama panels' queries against its Prometheus.
    assert sorted(name for name in used - names if not name.startswith("onprem_llm_ollama_")) == [
        "DCGM_FI_DEV_ROW_REMAP_FAILURE"]


@pytest.mark.parametrize("dashboard, title, expr", list(_dashboard_queries()))
def test_every_dashboard_query_runs_and_the_main_ones_return_series(host, dashboard, title, expr):
    for variable in sorted(_GRAFANA_VARIABLES, key=len, reverse=True):
        expr = expr.replace(variable, _GRAFANA_VARIABLES[variable])
    result = _query(host, expr)
    # Error answers may be absent in a scenario without errors, Ollama's figures in one without Ollama
    # (molecule/ollama runs those); everything else has series.
    if not re.search(r'status(=~"[45]\.\."|="429")|onprem_llm_ollama_', expr):
        assert result, (dashboard, title, expr)


def test_grafana_dashboards_and_provisioning_are_installed(host):
    for path in sorted(DASHBOARDS.glob("*.json")):
        assert json.loads(host.file("%s/dashboards/%s" % (GRAFANA_DIR, path.name)).content_string) == \
            json.loads(path.read_text())
    source = yaml.safe_load(host.file(GRAFANA_DIR + "/provisioning/datasources/onprem-llm.yml").content_string)
    assert source["datasources"][0]["uid"] == "onprem-llm-prometheus"
    assert source["datasources"][0]["url"] == PROMETHEUS
    assert source["datasources"][0]["jsonData"]["timeInterval"] == "5s"
    provider = yaml.safe_load(host.file(GRAFANA_DIR + "/provisioning/dashboards/onprem-llm.yml").content_string)
    assert provider["providers"][0]["options"]["path"] == GRAFANA_DIR + "/dashboards"


def _render(page):
    """The page as headless Chromium renders it (its DOM), and a screenshot under tests/output."""
    url = "%s/classic/%s" % (PROMETHEUS, page)
    pid = subprocess.run(["/usr/bin/podman", "inspect", "--format", "{{.State.Pid}}", "g-gw1"], check=True,
                         capture_output=True, text=True).stdout.strip()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / ("rollout-prometheus-%s.png" % page)
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        browser = ["nsenter", "--target", pid, "--net", *CHROMIUM, "--user-data-dir=%s" % profile]
        dom = subprocess.run(browser + ["--dump-dom", url], check=True, capture_output=True, text=True).stdout
        subprocess.run(browser + ["--screenshot=%s" % shot, url], check=True, capture_output=True)
    assert shot.stat().st_size > 0
    return dom


def test_targets_page_shows_every_target_up(host):
    targets = _api(host, "/api/v1/targets?state=active")["data"]["activeTargets"]
    dom = _render("targets")
    for target in targets:
        # The page shows scheme://host/path, the query (the health probes' module and target) apart.
        assert target["scrapeUrl"].split("?")[0] in dom, target["scrapeUrl"]
        assert target["labels"]["instance"] in dom, target["labels"]["instance"]
    for job in set(t["labels"]["job"] for t in targets):
        count = sum(1 for t in targets if t["labels"]["job"] == job)
        assert "%s (%d/%d up)" % (job, count, count) in dom, job
    assert dom.count('state_indicator text-uppercase">up<') == len(targets) == 9
    assert 'state_indicator text-uppercase">down<' not in dom


def test_alerts_page_lists_the_rules(host):
    dom = _render("alerts")
    for name in ("LLMEndpointDown", "ExporterDown", "GatewayServerErrors", "GatewayRateLimited", "DiskFilling",
                 "GPUXidError", "GPUTemperatureHigh", "GPUMemoryErrors", "GPUDriverUnavailable",
                 "MetricsCollectorStale", "OllamaDown", "FabricManagerDown", "LLMBackendUnhealthy"):
        assert name in dom, name


def test_alert_rules_pass_their_promtool_tests(host):
    path = "/root/onprem-llm.rules.test.yml"
    host.check_output("printf %%s %s > %s" % (shlex.quote(RULE_TESTS.read_text()), path))
    out = host.run("promtool test rules %s" % path)
    assert out.rc == 0 and "SUCCESS" in out.stdout, out.stdout + out.stderr


def test_endpoint_down_fired_within_for_plus_two_scrapes_and_cleared(host):
    # alert.yml stopped vllm@tiny on g-cpu2: `for` 10 s + two 5 s scrape intervals, polled each second.
    timing = json.loads(host.file("/root/alert-timing.json").content_string)
    assert 10 <= timing["fired_after_s"] <= 21, timing
    # Alertmanager (group_wait 1 s) posted it to the webhook within a few seconds of firing, and the
    # resolved notification after the restart; both name the alert's labels and the receiver.
    assert 10 <= timing["notified_after_s"] <= timing["fired_after_s"] + 5, timing
    statuses = [(n["receiver"], n["alert"]["status"], n["alert"]["labels"]["severity"]) for n in timing["notified"]]
    assert ("sink", "firing", "critical") in statuses and ("sink", "resolved", "critical") in statuses
    assert [a for a in _api(host, "/api/v1/alerts")["data"]["alerts"] if a["labels"]["alertname"] == "LLMEndpointDown"] == []


@pytest.mark.parametrize("exporter, port", [("g-cpu2", 9100), ("g-gw1", 3903)])
def test_exporters_accept_only_the_monitoring_host(exporter, port):
    # g-gw1 scrapes them (every target up); g-cpu1 is on the same network but not allowed: the unit's
    # BPF filter drops its packets.
    target = _eth0(_node(exporter))
    refused = _node("g-cpu1").run("curl -s -m 3 -o /dev/null http://%s:%d/metrics" % (target, port))
    assert refused.rc != 0
    assert _node("g-gw1").run("curl -sf -m 3 -o /dev/null http://%s:%d/metrics" % (target, port)).rc == 0


def _gpu_values(host, expr):
    return {r["metric"]["gpu"]: float(r["value"][1]) for r in _query(host, expr)}


def test_gpu_metrics_of_the_v100s_double_reach_prometheus_under_dcgm_exporters_names(host):
    # g-gw1's nvidia-smi double replays eight V100S (tests/fixtures/nvidia-smi, datakit's capture).
    assert _gpu_values(host, 'DCGM_FI_DEV_GPU_UTIL{host="g-gw1"}') == {
        "0": 97, "1": 75, "2": 80, "3": 23, "4": 98, "5": 98, "6": 91, "7": 99}
    assert _gpu_values(host, 'DCGM_FI_DEV_GPU_TEMP{host="g-gw1"}')["0"] == 66
    assert _gpu_values(host, 'DCGM_FI_DEV_FB_USED{host="g-gw1"}')["0"] == 31689
    assert _gpu_values(host, 'DCGM_FI_DEV_XID_ERRORS{host="g-gw1"}') == {str(i): 0 for i in range(8)}
    (series,) = _query(host, 'DCGM_FI_DEV_POWER_USAGE{host="g-gw1", gpu="0"}')
    assert series["metric"]["modelName"] == "Tesla V100S-PCIE-32GB" and series["metric"]["device"] == "nvidia0"
    assert series["metric"]["job"] == "node" and float(series["value"][1]) == 232.8
    for expr in ('onprem_llm_gpu_smi_up{host="g-gw1"}', 'onprem_llm_gpu_xid_log_up{host="g-gw1"}',
                 'node_systemd_unit_state{host="g-gw1", name="onprem-llm-gpu-metrics.timer", state="active"}'):
        assert [float(r["value"][1]) for r in _query(host, expr)] == [1.0], expr
    assert [float(r["value"][1]) for r in _query(host, 'node_textfile_scrape_error{host="g-gw1"}')] == [0.0]
    # Hosts without nvidia-smi get no timer and publish no GPU figures.
    assert _query(host, 'DCGM_FI_DEV_GPU_TEMP{host!="g-gw1"}') == []
    assert not _node("g-cpu1").file("/etc/systemd/system/onprem-llm-gpu-metrics.timer").exists


def test_gpu_metrics_timer_is_hardened_and_the_file_is_not_world_writable(host):
    timer = host.service("onprem-llm-gpu-metrics.timer")
    assert timer.is_enabled and timer.is_running
    props = host.check_output("systemctl show onprem-llm-gpu-metrics.service -p ProtectSystem -p PrivateNetwork "
                              "-p NoNewPrivileges -p ReadWritePaths")
    assert "ProtectSystem=strict" in props and "PrivateNetwork=yes" in props and "NoNewPrivileges=yes" in props
    assert "ReadWritePaths=/var/lib/prometheus/node-exporter" in props
    prom = host.file("/var/lib/prometheus/node-exporter/onprem_llm_gpu.prom")
    assert prom.mode == 0o644 and prom.user == "root"


def test_a_failing_driver_shows_as_nvidia_smi_down_and_recovers(host):
    # The double answers as a host whose driver is not loaded (NVML's message, exit 9); the next run
    # of the timer's service writes onprem_llm_gpu_smi_up 0 and no GPU figures, which GPUDriverUnavailable
    # watches; put back, the figures return.
    mode = "/usr/share/onprem-llm-double/mode"
    before = host.file(mode).content_string
    try:
        host.check_output("echo no_driver > %s && systemctl start onprem-llm-gpu-metrics.service" % mode)
        _wait_for(host, 'onprem_llm_gpu_smi_up{host="g-gw1"} == 0')
        assert _query(host, 'DCGM_FI_DEV_GPU_TEMP{host="g-gw1"}') == []
    finally:
        host.check_output("printf %%s %s > %s && systemctl start onprem-llm-gpu-metrics.service"
                          % (shlex.quote(before), mode))
    _wait_for(host, 'onprem_llm_gpu_smi_up{host="g-gw1"} == 1')
    assert len(_query(host, 'DCGM_FI_DEV_GPU_TEMP{host="g-gw1"}')) == 8


def _wait_for(host, expr, timeout=30):
    deadline = time.time() + timeout
    while not _query(host, expr):
        assert time.time() < deadline, "%s: no series after %d s" % (expr, timeout)
        time.sleep(1)

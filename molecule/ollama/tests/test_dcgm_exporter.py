# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify NVIDIA's dcgm-exporter path of the monitoring role on a GPU node whose apt sources offer it
(prepare.yml adds a double of NVIDIA's repository, tests/doubles/dcgm_exporter_double): with
monitoring_gpu_metrics auto, the role installed the exporter and the DCGM packages instead of its
nvidia-smi collector, set its listen address and allow-list, published it, and Prometheus scrapes it
under job dcgm with the T4 double's figures."""

import json
import re
import time
import urllib.parse

testinfra_hosts = ["o-node1"]

UNIT = "nvidia-dcgm-exporter.service"
DROPIN = "/etc/systemd/system/nvidia-dcgm-exporter.service.d/onprem-llm.conf"
FACT = "/etc/ansible/facts.d/onprem_llm_exporters.fact"


def _query(host, expr):
    out = host.check_output("curl -sf 'http://127.0.0.1:9090/api/v1/query?query=%s'" % urllib.parse.quote(expr))
    return json.loads(out)["data"]["result"]


def test_auto_installed_dcgm_exporter_with_the_dcgm_packages(host):
    for name in ("datacenter-gpu-manager-exporter", "datacenter-gpu-manager-4-core",
                 "datacenter-gpu-manager-4-proprietary"):
        assert host.package(name).is_installed, name
    service = host.service(UNIT)
    assert service.is_enabled and service.is_running


def test_the_nvidia_smi_collector_is_not_installed_beside_it(host):
    # Both would publish the same names for the same GPU.
    assert not host.file("/etc/systemd/system/onprem-llm-gpu-metrics.timer").exists
    assert not host.file("/var/lib/prometheus/node-exporter/onprem_llm_gpu.prom").exists


def test_it_listens_where_the_role_says_and_only_the_monitoring_hosts_reach_it(host):
    props = dict(line.split("=", 1) for line in host.check_output(
        "systemctl show %s -p Environment -p IPAddressAllow -p IPAddressDeny -p DropInPaths" % UNIT).splitlines())
    assert DROPIN in props["DropInPaths"].split()
    # The scenario keeps its exporters on loopback (monitoring_exporter_listen), Prometheus being on the node.
    assert "DCGM_EXPORTER_LISTEN=127.0.0.1:9400" in props["Environment"].split()
    assert set(props["IPAddressDeny"].split()) == {"0.0.0.0/0", "::/0"}
    assert {"127.0.0.0/8", "::1/128"} <= set(props["IPAddressAllow"].split())
    listening = host.check_output("ss -Hltn 'sport = :9400'")
    assert re.search(r"\s127\.0\.0\.1:9400\s", listening) and "0.0.0.0:9400" not in listening


def test_it_serves_the_t4_doubles_figures(host):
    metrics = host.check_output("curl -sf http://127.0.0.1:9400/metrics")
    temps = [line for line in metrics.splitlines() if line.startswith("DCGM_FI_DEV_GPU_TEMP{")]
    assert len(temps) == 1 and 'modelName="Tesla T4"' in temps[0] and temps[0].endswith(" 40")


def test_it_is_published_for_the_monitoring_host(host):
    fact = json.loads(host.file(FACT).content_string)
    assert fact["dcgm"] == {"host": "127.0.0.1", "port": 9400, "metrics_path": "/metrics"}


def _wait_query(host, expr):
    """The query's result once it has one (side_effect restarted Prometheus and the exporters just before
    verify: the first scrapes of each job come within an interval, at different moments)."""
    deadline = time.time() + 60
    while True:
        result = _query(host, expr)
        if result or time.time() > deadline:
            return result
        time.sleep(3)


def test_prometheus_scrapes_it_under_job_dcgm(host):
    result = _wait_query(host, 'DCGM_FI_DEV_GPU_TEMP{job="dcgm", host="o-node1"}')
    assert len(result) == 1 and result[0]["value"][1] == "40"
    assert result[0]["metric"]["modelName"] == "Tesla T4"


def test_the_node_exporter_still_reports_the_gpu_units(host):
    # On a GPU node, whichever the source (FabricManagerDown reads these states).
    assert _wait_query(host, 'node_systemd_unit_state{job="node", name="nvidia-dcgm-exporter.service", '
                             'state="active"} == 1')

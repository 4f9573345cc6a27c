# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each node publishes for monitoring, and the scrape jobs Prometheus gets from it.

Pure logic, no Ansible import. Serving roles write a local fact (``/etc/ansible/facts.d/``) naming
what they serve; the monitoring role reads those facts of every host and turns them into scrape
jobs. An endpoint bound to loopback on another host than Prometheus cannot be scraped: that is a
problem naming the host and the variable to set, reported before anything changes.
"""

from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.bench.endpoints import ollama_model_name
from ansible_collections.onprem.llm.plugins.module_utils.gateway.routes import WILDCARD_HOSTS, is_loopback

FACT_VERSION = 1
METRICS_PATH = "/metrics"
# vLLM's health endpoint: 200 while its engine runs, 500 once the engine died (its API server may
# still answer /metrics then), probed through the blackbox exporter's module of this name.
HEALTH_PATH = "/health"
HEALTH_MODULE = "onprem_llm_health"
# Local fact names (files /etc/ansible/facts.d/<name>.fact).
VLLM_FACT = "onprem_llm_vllm"
EXPORTERS_FACT = "onprem_llm_exporters"
GATEWAY_FACT = "onprem_llm_gateway"
OLLAMA_FACT = "onprem_llm_ollama"
# The gateway's access log format, as the monitoring role's mtail program parses it
# (roles/gateway/templates/onprem-llm-gateway.conf.j2, roles/monitoring/files/onprem_llm_gateway.mtail).
GATEWAY_LOG_FORMAT = "onprem_llm_gateway/2"


def _url_host(address):
    address = str(address).strip("[]")
    return "[%s]" % address if ":" in address else address


def _served(inst):
    served = inst.get("served_model_name")
    if isinstance(served, (list, tuple)):
        return [str(s) for s in served if s]
    return [str(served or inst.get("name"))]


def vllm_endpoint_fact(instances, python=""):
    """vLLM plan instances (``vllm_plan.instances``, the Ray head's ``vllm_plan.ray.instances``) ->
    the document the vllm role publishes: where each instance listens, what it serves and from which
    model directory, and the interpreter of the build in service (``python``, for vllm bench serve).
    Whether an API key is set, never the key. Monitoring, smoke tests and benchmarks read it."""
    endpoints = []
    for inst in instances or []:
        host = str(inst.get("host") or "127.0.0.1")
        endpoints.append({
            "name": str(inst["name"]),
            "host": host,
            "port": int(inst["port"]),
            "models": _served(inst),
            "model_path": str(inst.get("model_path") or ""),
            "url": "http://%s:%d" % (_url_host(host), int(inst["port"])),
            "metrics_path": METRICS_PATH,
            "api_key": bool(inst.get("api_key")),
        })
    return {"version": FACT_VERSION, "engine": "vllm", "python": str(python or ""),
            "endpoints": sorted(endpoints, key=lambda e: e["name"])}


def gateway_fact(access_log, listen="127.0.0.1", port=8443, server_name="", tls_cert="", clients=None):
    """The gateway on its host -> the document the gateway role publishes: its access log and format
    (for its metrics), and where clients reach it (listen address, port, the name and certificate
    its TLS presents, the clients that have a key: names only, never a key; for smoke tests and
    benchmarks)."""
    return {"version": FACT_VERSION, "access_log": str(access_log), "log_format": GATEWAY_LOG_FORMAT,
            "listen": str(listen or "127.0.0.1"), "port": int(port), "server_name": str(server_name or ""),
            "tls_cert": str(tls_cert or ""), "clients": [str(c) for c in clients or []]}


def ollama_endpoint_fact(url, models=None):
    """Ollama's API on its host (the ollama role's URL: a wildcard listen address made loopback) and the
    models the role keeps present (``ollama_models``: names or entries with a ``state``), as Ollama
    lists them -> the document the ollama role publishes; the monitoring role's Ollama collector reads
    the API there, smoke tests and benchmarks the models."""
    url = str(url or "").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError("Ollama's API URL must start with http:// or https://, got %r" % url)
    present = []
    for entry in models or []:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if name and not (isinstance(entry, dict) and entry.get("state", "present") == "absent"):
            if ollama_model_name(name) not in present:
                present.append(ollama_model_name(name))
    # In the inventory's order: the gateway endpoint of a model is the first backend's kind.
    return {"version": FACT_VERSION, "engine": "ollama", "url": url, "models": present}


def gateway_log_problems(fact):
    """Problems with a published gateway fact the mtail program cannot read ([] when it can)."""
    if not fact:
        return []
    if fact.get("log_format") != GATEWAY_LOG_FORMAT:
        return ["the gateway on this host logs in format %r, the monitoring role reads %r: run the "
                "gateway and monitoring roles of the same collection version"
                % (fact.get("log_format"), GATEWAY_LOG_FORMAT)]
    if not str(fact.get("access_log") or "").startswith("/"):
        return ["the gateway on this host publishes no access log path (%r): set gateway_access_log to "
                "an absolute path" % (fact.get("access_log"),)]
    return []


def exporter_fact(address, port, gateway_port=None, dcgm_port=None):
    """Where the exporters of a host listen -> the document the exporters entry publishes: the node
    exporter, the gateway's metrics (mtail) where the host runs the gateway, and NVIDIA's dcgm-exporter
    where the host's GPU metrics come from it."""
    fact = {"version": FACT_VERSION, "node": {"host": str(address), "port": int(port),
                                              "metrics_path": METRICS_PATH}}
    if gateway_port:
        fact["gateway"] = {"host": str(address), "port": int(gateway_port), "metrics_path": METRICS_PATH}
    if dcgm_port:
        fact["dcgm"] = {"host": str(address), "port": int(dcgm_port), "metrics_path": METRICS_PATH}
    return fact


def host_address(default_address, all_addresses):
    """The IPv4 address other hosts reach a host on: its default route's, else - a host of a closed
    network often has no default route - its one global address; "" when it has several and none is
    the default (the user names it)."""
    if default_address:
        return str(default_address)
    candidates = [str(a) for a in all_addresses or []
                  if not str(a).startswith(("127.", "169.254."))]
    return candidates[0] if len(candidates) == 1 else ""


def _target(host, listen, port, address, monitoring_host, where, variable, problems):
    """host:port Prometheus on ``monitoring_host`` scrapes; None when it cannot reach it."""
    if is_loopback(listen):
        if host == monitoring_host:
            return "%s:%d" % (_url_host("127.0.0.1" if listen == "localhost" else listen), port)
        problems.append(
            "%s on host %s listens on loopback (%s), which the monitoring host %s cannot scrape: set %s "
            "to %s's private address (or run monitoring on %s)"
            % (where, host, listen, monitoring_host, variable, host, host))
        return None
    if listen in WILDCARD_HOSTS:
        listen = address or host
    return "%s:%d" % (_url_host(listen), port)


def health_job(vllm_configs, blackbox_target):
    """The vllm job's static configs -> a job probing each instance's /health through the blackbox
    exporter: the probed URL becomes the target parameter and the instance label, the exporter the
    address scraped."""
    probes = [dict(config, targets=["http://%s%s" % (target, HEALTH_PATH) for target in config["targets"]])
              for config in vllm_configs]
    return {"job_name": "health", "metrics_path": "/probe", "params": {"module": [HEALTH_MODULE]},
            "static_configs": probes,
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": str(blackbox_target)}]}


def scrape_jobs(published, addresses, monitoring_host, prometheus_target, blackbox_target=None):
    """Published facts of every host -> {"jobs": [...], "problems": [...], "unpublished": [...]}.

    ``published``: {host: that host's ``ansible_local``}, of which the facts ``onprem_llm_exporters``
    (exporter_fact: node exporter, gateway metrics, dcgm-exporter) and ``onprem_llm_vllm`` (vllm_endpoint_fact) are read;
    ``addresses``: {host: address other hosts reach it on} (for endpoints on a wildcard address);
    ``prometheus_target``: host:port of Prometheus itself; ``blackbox_target``: host:port of the
    blackbox exporter that probes each vLLM instance's /health (job ``health``; None: no probes).
    Jobs are Prometheus ``scrape_configs`` entries with static targets, each labelled with its
    inventory ``host`` (and, for vLLM, the instance name and first served model). Hosts are taken in
    sorted order so the file is stable.
    """
    problems, unpublished = [], []
    node, gateway, dcgm, vllm = [], [], [], []
    for host in sorted(published or {}):
        facts = published[host] or {}
        address = (addresses or {}).get(host) or host
        exporters = facts.get(EXPORTERS_FACT)
        if exporters and exporters.get("node"):
            entry = exporters["node"]
            target = _target(host, str(entry.get("host") or ""), int(entry["port"]), address, monitoring_host,
                             "the node exporter", "monitoring_exporter_listen", problems)
            if target:
                node.append({"targets": [target], "labels": {"host": host}})
            for kind, where, found in (("gateway", "the gateway metrics exporter", gateway),
                                       ("dcgm", "dcgm-exporter", dcgm)):
                entry = exporters.get(kind)
                target = entry and _target(host, str(entry.get("host") or ""), int(entry["port"]), address,
                                           monitoring_host, where, "monitoring_exporter_listen", problems)
                if target:
                    found.append({"targets": [target], "labels": {"host": host}})
        else:
            unpublished.append(host)
        for endpoint in ((facts.get(VLLM_FACT) or {}).get("endpoints") or []):
            target = _target(host, endpoint["host"], int(endpoint["port"]), address, monitoring_host,
                             "vLLM instance %s" % endpoint["name"], "vllm_instances[].host", problems)
            if target:
                vllm.append({"targets": [target],
                             "labels": {"host": host, "vllm_instance": endpoint["name"],
                                        "model": (endpoint.get("models") or [endpoint["name"]])[0]}})
    itself = {"targets": [prometheus_target], "labels": {"host": monitoring_host}}
    jobs = [{"job_name": "prometheus", "static_configs": [itself]}]
    if node:
        jobs.append({"job_name": "node", "metrics_path": METRICS_PATH, "static_configs": node})
    if gateway:
        jobs.append({"job_name": "gateway", "metrics_path": METRICS_PATH, "static_configs": gateway})
    if dcgm:
        jobs.append({"job_name": "dcgm", "metrics_path": METRICS_PATH, "static_configs": dcgm})
    if vllm:
        jobs.append({"job_name": "vllm", "metrics_path": METRICS_PATH, "static_configs": vllm})
    if vllm and blackbox_target:
        jobs.append(health_job(vllm, blackbox_target))
    return {"jobs": jobs, "problems": problems, "unpublished": unpublished}

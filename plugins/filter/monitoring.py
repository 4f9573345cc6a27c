# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind monitoring: the endpoint facts nodes publish, the scrape jobs made of them, and
Alertmanager's configuration."""

from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.monitoring import alertmanager as _alertmanager
from ansible_collections.onprem.llm.plugins.module_utils.monitoring import gpu_source as _gpu_source
from ansible_collections.onprem.llm.plugins.module_utils.monitoring import targets as _targets
from ansible_collections.onprem.llm.plugins.module_utils.plain import plain


def vllm_endpoint_fact(instances, python=""):
    return _targets.vllm_endpoint_fact(plain(instances or []), str(python or ""))


def monitoring_exporter_fact(address, port, gateway_port=None, dcgm_port=None):
    return _targets.exporter_fact(address, port, gateway_port, dcgm_port)


def monitoring_gpu_source(setting, nvidia_smi_present, policy_output, package):
    return _gpu_source.gpu_metrics_source(str(setting), bool(nvidia_smi_present), str(policy_output or ""),
                                          str(package))


def monitoring_gateway_fact(access_log, listen="127.0.0.1", port=8443, server_name="", tls_cert="", clients=None):
    return _targets.gateway_fact(access_log, listen, int(port), server_name, tls_cert, plain(clients or []))


def ollama_endpoint_fact(url, models=None):
    return _targets.ollama_endpoint_fact(url, plain(models or []))


def monitoring_gateway_log_problems(fact):
    return _targets.gateway_log_problems(plain(fact or {}))


def monitoring_host_address(facts):
    facts = facts or {}
    return _targets.host_address((facts.get("ansible_default_ipv4") or {}).get("address"),
                                 list(facts.get("ansible_all_ipv4_addresses") or []))


def monitoring_scrape_jobs(published, addresses, monitoring_host, prometheus_target, blackbox_target=None):
    return _targets.scrape_jobs(plain(published or {}), plain(addresses or {}), str(monitoring_host),
                                str(prometheus_target), str(blackbox_target) if blackbox_target else None)


def monitoring_alertmanager_config(receivers, smtp, timing):
    return _alertmanager.alertmanager_config(plain(receivers or []), plain(smtp or {}), plain(timing or {}))


class FilterModule(object):
    def filters(self):
        return {
            "vllm_endpoint_fact": vllm_endpoint_fact,
            "monitoring_exporter_fact": monitoring_exporter_fact,
            "monitoring_gateway_fact": monitoring_gateway_fact,
            "monitoring_gpu_source": monitoring_gpu_source,
            "ollama_endpoint_fact": ollama_endpoint_fact,
            "monitoring_gateway_log_problems": monitoring_gateway_log_problems,
            "monitoring_host_address": monitoring_host_address,
            "monitoring_scrape_jobs": monitoring_scrape_jobs,
            "monitoring_alertmanager_config": monitoring_alertmanager_config,
        }

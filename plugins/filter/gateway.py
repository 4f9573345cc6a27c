# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind the gateway role: the route table from the inventory, API-key checks."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils.gateway import routes as _routes
from ansible_collections.onprem.llm.plugins.module_utils.plain import plain


def gateway_routes(hostvars, groups, backend_groups, gateway_host, drain_hosts=None):
    if not hasattr(hostvars, "items") or not hasattr(groups, "items"):
        raise AnsibleFilterError("gateway_routes expects hostvars and groups (dictionaries)")
    hosts = _routes._hosts_of(groups, backend_groups or [])
    wanted = {}
    for host in hosts:
        if host in hostvars:
            hv = hostvars[host]
            wanted[host] = dict((key, plain(hv[key])) for key in
                                ("vllm_instances", "vllm_state", "ollama_models", "ollama_host", "ollama_state",
                                 "gateway_backend_address", "ansible_host") if key in hv)
    return _routes.build_routes(wanted, plain(groups), list(backend_groups or []), str(gateway_host),
                                list(drain_hosts or []))


def gateway_serving_hosts(hostvars, groups, group="gateway"):
    """Hosts of ``group`` whose gateway_state is not absent."""
    if not hasattr(hostvars, "items") or not hasattr(groups, "items"):
        raise AnsibleFilterError("gateway_serving_hosts expects hostvars and groups (dictionaries)")
    hosts = list((groups or {}).get(group) or [])
    states = dict((h, str(hostvars[h]["gateway_state"])) for h in hosts
                  if h in hostvars and "gateway_state" in hostvars[h])
    return _routes.serving_gateways(hosts, states)


def gateway_api_key_problems(api_keys, var="gateway_api_keys"):
    return _routes.api_key_problems(plain(api_keys), var)


def gateway_key_pattern(key):
    return _routes.key_pattern(str(key))


def gateway_drained_hosts(upstreams_text):
    return _routes.drained_hosts(str(upstreams_text or ""))


def gateway_upstream_hosts(upstreams_text):
    return _routes.upstream_hosts(str(upstreams_text or ""))


def gateway_models_document(routes):
    return _routes.models_document(routes or [])


class FilterModule(object):
    def filters(self):
        return {
            "gateway_routes": gateway_routes,
            "gateway_api_key_problems": gateway_api_key_problems,
            "gateway_serving_hosts": gateway_serving_hosts,
            "gateway_key_pattern": gateway_key_pattern,
            "gateway_models_document": gateway_models_document,
            "gateway_drained_hosts": gateway_drained_hosts,
            "gateway_upstream_hosts": gateway_upstream_hosts,
        }

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route table of the gateway (role onprem.llm.gateway).

Pure logic, no Ansible import. Turns the inventory (hostvars of the serving groups: each vLLM
host's ``vllm_instances``, each Ollama host's ``ollama_host`` / ``ollama_models``) into one route per
served model name, each with its nginx upstream and backends, and reports every problem naming the
host, the instance and the variable to set: a backend bound to loopback on another host than the
gateway is unreachable, backends of one model must share their API key (nginx retries a request on
another backend with the same header), drained hosts must be backends. Also checks the client API
keys (``gateway_api_keys``) and renders them as nginx ``map`` entries.
"""

from __future__ import annotations

import re

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
VLLM_DEFAULT_HOST = "127.0.0.1"
OLLAMA_DEFAULT_HOST = "127.0.0.1:11434"
UPSTREAM_PREFIX = "onprem_llm_gw_"
_CLIENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Keys land in nginx's configuration as regular expressions: a safe alphabet, long enough to guess badly.
_KEY_RE = re.compile(r"^[A-Za-z0-9._~+/=-]{16,256}$")
# Backend keys are written into an nginx string: no quotes, backslashes, '$' (variables) or blanks.
_BACKEND_KEY_RE = re.compile(r"^[A-Za-z0-9._~+/=:@!*,%-]+$")
KEY_MIN_LENGTH = 16


def is_loopback(host):
    host = str(host).strip("[]")
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def split_host_port(value, default_port):
    """``"127.0.0.1:11434"``, ``"http://[::1]:11434"``, ``"0.0.0.0"`` -> (host, port or None)."""
    text = str(value or "").strip()
    for scheme in ("http://", "https://"):
        if text.startswith(scheme):
            text = text[len(scheme):]
    text = text.rstrip("/")
    if text.startswith("["):
        host, _sep, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    if not port:
        return host, default_port
    return host, int(port) if port.isdigit() else None


def _url_host(address):
    return "[%s]" % address if ":" in address else address


def _served_names(inst):
    served = inst.get("served_model_name")
    if served is None or served == "" or served == []:
        return [inst.get("model") or inst.get("name")]
    if isinstance(served, (list, tuple)):
        return [str(s) for s in served]
    return [str(served)]


def _ollama_names(name):
    name = str(name)
    names = [name]
    if ":" not in name.rsplit("/", 1)[-1]:
        names.append(name + ":latest")
    return names


def _hosts_of(groups, group_names):
    seen, hosts = set(), []
    for group in group_names or []:
        for host in (groups or {}).get(group) or []:
            if host not in seen:
                seen.add(host)
                hosts.append(host)
    return hosts


def serving_gateways(hosts, states):
    """The gateway hosts that serve, in inventory order: those whose ``gateway_state`` (``states``:
    {host: state}, missing means the default, present) is not absent. Drains, waits and smoke tests
    go to these only; a host being uninstalled has no upstreams to update."""
    return [str(h) for h in hosts or [] if (states or {}).get(h, "present") != "absent"]


# A server line of templates/upstreams.conf.j2 whose backend is drained: "server ADDR ... down;  # host/instance (engine)".
_DOWN_SERVER = re.compile(r"^\s*server\s+\S+[^;#]*\sdown;\s*#\s*([^/\s]+)/")


# Any server line of that template, down or not.
_SERVER = re.compile(r"^\s*server\s+\S+[^;#]*;\s*#\s*([^/\s]+)/")


def upstream_hosts(upstreams_text):
    """The backend hosts a rendered upstreams.conf names, drained or not, each once, in the file's
    order: the hosts that serve behind that gateway now (site.yml's GPU stage drains these before a
    reboot; a host not there yet has nothing to drain)."""
    return _hosts_of_lines(upstreams_text, _SERVER)


def drained_hosts(upstreams_text):
    """The backend hosts a rendered upstreams.conf marks down, each once, in the file's order: what a
    rollout whose batch failed left drained (the gateway's entry point ``drained`` reads it)."""
    return _hosts_of_lines(upstreams_text, _DOWN_SERVER)


def _hosts_of_lines(upstreams_text, pattern):
    """The host each line matching ``pattern`` names (its first group), each once, in order."""
    hosts = []
    for line in (upstreams_text or "").splitlines():
        match = pattern.match(line)
        if match and match.group(1) not in hosts:
            hosts.append(match.group(1))
    return hosts


def _address(host, hv, listen, gateway_host, where, variable, problems):
    """Where the gateway reaches a backend that listens on ``listen``; None when it cannot."""
    if is_loopback(listen):
        if host == gateway_host:
            return "127.0.0.1" if listen in ("localhost",) else str(listen).strip("[]")
        problems.append(
            "%s on host %s listens on loopback (%s), which the gateway host %s cannot reach: set %s to "
            "%s's private address (or run the gateway on %s)" % (where, host, listen, gateway_host, variable, host, host))
        return None
    if listen in WILDCARD_HOSTS:
        address = hv.get("gateway_backend_address") or hv.get("ansible_host") or host
        return str(address)
    return str(listen).strip("[]")


# Long on purpose: one pass over the serving hosts that builds the routes and collects every problem together, so
# one preflight lists them all.
def build_routes(hostvars, groups, backend_groups, gateway_host, drain_hosts=None):
    """Inventory -> {"routes": [...], "problems": [...], "warnings": [...]}.

    Each route: model (the name clients send), upstream (nginx upstream name), api_key (the backends'
    shared key, "" for none) and backends [{host, instance, engine, address, port, server, health_path,
    drained}].
    Routes are sorted by model name; an upstream's servers keep inventory order.
    """
    problems, warnings = [], []
    drain = [str(h) for h in (drain_hosts or [])]
    backends_by_model = {}
    order = []
    hosts = _hosts_of(groups, backend_groups)

    def add(model, backend, api_key):
        if model not in backends_by_model:
            backends_by_model[model] = []
            order.append(model)
        backends_by_model[model].append(dict(backend, api_key=api_key or ""))

    for host in hosts:
        hv = (hostvars or {}).get(host) or {}
        # vllm_state / ollama_state absent: the role removes the server, so the gateway routes nothing to it.
        instances = hv.get("vllm_instances") if hv.get("vllm_state", "present") != "absent" else None
        if instances is not None and not isinstance(instances, list):
            problems.append("host %s: vllm_instances must be a list" % host)
            instances = []
        for i, inst in enumerate(instances or []):
            where = "vllm_instances[%d]" % i
            if not isinstance(inst, dict):
                problems.append("host %s: %s must be a dictionary" % (host, where))
                continue
            where += " (%s)" % inst.get("name")
            port = inst.get("port")
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                problems.append("host %s: %s: port must be an integer from 1 to 65535 (got %r)" % (host, where, port))
                continue
            listen = str(inst.get("host") or VLLM_DEFAULT_HOST)
            address = _address(host, hv, listen, gateway_host, where, "vllm_instances[%d].host" % i, problems)
            if address is None:
                continue
            backend = {"host": host, "instance": str(inst.get("name")), "engine": "vllm",
                       "address": address, "port": port, "health_path": "/health"}
            api_key = inst.get("api_key") or ""
            if api_key and not _BACKEND_KEY_RE.fullmatch(str(api_key)):
                problems.append("host %s: vllm_instances[%d].api_key has characters the gateway cannot pass on "
                                "(use letters, digits and ._~+/=:@!*,%%-)" % (host, i))
                continue
            for model in _served_names(inst):
                add(model, backend, api_key)
        models = hv.get("ollama_models") if hv.get("ollama_state", "present") != "absent" else None
        if models:
            if not isinstance(models, list):
                problems.append("host %s: ollama_models must be a list" % host)
                continue
            listen, port = split_host_port(hv.get("ollama_host") or OLLAMA_DEFAULT_HOST, 11434)
            if port is None or not 1 <= port <= 65535:
                problems.append("host %s: ollama_host %r has no valid port" % (host, hv.get("ollama_host")))
                continue
            address = _address(host, hv, listen or "127.0.0.1", gateway_host, "ollama", "ollama_host", problems)
            if address is None:
                continue
            backend = {"host": host, "instance": "ollama", "engine": "ollama", "address": address, "port": port,
                       "health_path": "/api/version"}
            for item in models:
                if not isinstance(item, dict) or not item.get("name"):
                    problems.append("host %s: every item of ollama_models needs a name" % host)
                    continue
                if item.get("state", "present") == "absent":
                    continue
                for model in _ollama_names(item["name"]):
                    add(model, backend, "")

    for host in drain:
        if host not in hosts:
            problems.append("gateway_drain_hosts: %s is not a host of the backend groups (%s)"
                            % (host, ", ".join(backend_groups or []) or "none"))

    routes = []
    for index, model in enumerate(sorted(order)):
        backends = []
        seen = set()
        for backend in backends_by_model[model]:
            server = "%s:%d" % (_url_host(backend["address"]), backend["port"])
            if server in seen:
                continue
            seen.add(server)
            backends.append(dict(backend, server=server, drained=backend["host"] in drain))
        keys = sorted(set(b["api_key"] for b in backends))
        if len(keys) > 1:
            problems.append(
                "model %s: its backends (%s) have different API keys; the gateway retries a request on "
                "another backend with the same key, so give them one key (vllm_instances[].api_key)"
                % (model, ", ".join("%s/%s" % (b["host"], b["instance"]) for b in backends)))
        if backends and all(b["drained"] for b in backends):
            warnings.append("model %s: every backend is drained (%s); requests for it fail until one is back"
                            % (model, ", ".join(sorted(set(b["host"] for b in backends)))))
        for backend in backends:
            del backend["api_key"]
        routes.append({
            "model": model,
            "upstream": "%s%d" % (UPSTREAM_PREFIX, index),
            "api_key": keys[0] if keys else "",
            "backends": backends,
        })
    if not routes and not problems:
        problems.append("no backend found: no host of %s serves a model (vllm_instances, ollama_models); "
                        "check gateway_backend_groups" % (", ".join(backend_groups or []) or "gateway_backend_groups"))
    return {"routes": routes, "problems": problems, "warnings": warnings}


def api_key_problems(api_keys, var="gateway_api_keys"):
    """Problems with the client keys, each naming the variable and the client (never the key)."""
    problems = []
    if not isinstance(api_keys, list) or not api_keys:
        return ["%s must list at least one {client, key} (keys from a vault)" % var]
    clients, keys = {}, {}
    for i, item in enumerate(api_keys):
        where = "%s[%d]" % (var, i)
        if not isinstance(item, dict):
            problems.append("%s must be a dictionary with client and key" % where)
            continue
        unknown = sorted(set(item) - {"client", "key"})
        if unknown:
            problems.append("%s: unknown key(s) %s (allowed: client, key)" % (where, ", ".join(unknown)))
        client = item.get("client")
        if not isinstance(client, str) or not _CLIENT_RE.fullmatch(client):
            problems.append("%s: client must be 1-64 characters of letters, digits, '_', '.', '-'" % where)
        else:
            where += " (%s)" % client
            if client in clients:
                problems.append("%s: client %s is already %s[%d]" % (where, client, var, clients[client]))
            clients[client] = i
        key = item.get("key")
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            problems.append("%s: key must be %d-256 characters of letters, digits and ._~+/=- (a bearer token)"
                            % (where, KEY_MIN_LENGTH))
        elif key in keys:
            problems.append("%s: key is the same as %s[%d]'s; give every client its own" % (where, var, keys[key]))
        else:
            keys[key] = i
    return problems


def key_pattern(key):
    """An exact, case-sensitive nginx ``map`` regex for ``Authorization: Bearer <key>``."""
    escaped = "".join("[%s]" % c if c in ".+" else c for c in key)
    return "~^Bearer %s$" % escaped


def models_document(routes):
    """The gateway's ``GET /v1/models`` answer (OpenAI list format)."""
    return {
        "object": "list",
        "data": [{"id": r["model"], "object": "model", "owned_by": "onprem.llm"} for r in routes or []],
    }

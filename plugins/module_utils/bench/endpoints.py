# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which OpenAI-compatible endpoints an inventory serves, and the curl commands that try them.

``derive_endpoints(nodes)`` takes one entry per inventory host (what playbooks/stages/smoke.yml and
playbooks/benchmark.yml collect from each host's variables)::

    {"host": "gpu1", "vllm_instances": [...], "vllm_prefix": "/opt/onprem-llm/vllm",
     "model_paths": {<instance name>: <model dir from its config>}, "models": {<onprem_models>},
     "ollama_host": "127.0.0.1:11434", "ollama_models": [...],
     "gateway": None | {"listen", "port", "server_name", "tls_cert", "api_keys": [{client, key}]}}

and returns endpoint dicts: ``name``, ``kind`` (vllm | ollama), ``route`` (direct | gateway),
``url``, ``model``, ``runner`` (the inventory host the client runs on: backends listen on
loopback, so direct endpoints are measured on their own host, gateway ones on the gateway host),
``api_key``, ``validate_certs``, ``ca_path``, ``tls_server_name``, and for vLLM ``model_path`` and
``vllm_python`` (what ``vllm bench serve`` needs).
"""

from __future__ import annotations

LOOPBACK_ALIASES = ("", "0.0.0.0", "localhost", "*")
ENDPOINT_KEYS = ("name", "kind", "route", "url", "model", "runner", "api_key", "validate_certs",
                 "ca_path", "tls_server_name", "model_path", "vllm_python", "api")

# What results may show of an endpoint (never its key).
PUBLIC_KEYS = ("name", "kind", "route", "url", "model", "api")

# The ``endpoints`` suboptions of llm_smoke, llm_benchmark (doc fragment onprem.llm.llm_endpoints) and
# llm_evaluate (its DOCUMENTATION describes them).
ENDPOINT_ARGSPEC = dict(
    name=dict(type="str", required=True),
    url=dict(type="str", required=True),
    model=dict(type="str", required=True),
    kind=dict(type="str", default="other", choices=["vllm", "ollama", "other"]),
    route=dict(type="str", default="direct"),
    api=dict(type="str", default="chat", choices=["chat", "completions"]),
    api_key=dict(type="str", default="", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="str", default=""),
    tls_server_name=dict(type="str", default=""),
    runner=dict(type="str", default=""),
    model_path=dict(type="str", default=""),
    vllm_python=dict(type="str", default=""),
)


class EndpointError(ValueError):
    pass


def public_view(ep):
    """The endpoint as results show it: name, kind, route, url, model and api, never the key."""
    return dict((k, ep.get(k)) for k in PUBLIC_KEYS)


def _connect_host(host):
    """The address a client on the same host uses for a listen address."""
    host = str(host or "").strip()
    if host in LOOPBACK_ALIASES:
        return "127.0.0.1"
    if host in ("::", "[::]"):
        return "[::1]"
    if ":" in host and not host.startswith("["):
        return "[%s]" % host
    return host


def split_host_port(value, default_port):
    """'127.0.0.1:11434', 'http://0.0.0.0:11434', '[::1]:80', 'host' -> (host, port)."""
    raw = str(value or "").split("://", 1)[-1].rstrip("/")
    if raw.startswith("["):
        host, _sep, rest = raw[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port else default_port
    if raw.count(":") == 1:
        host, port = raw.split(":")
        return host, int(port) if port else default_port
    return raw, default_port


def ollama_model_name(name):
    """Ollama lists models with their tag: 'llama3.1' is served as 'llama3.1:latest'."""
    name = str(name)
    return name if ":" in name.rsplit("/", 1)[-1] else name + ":latest"


def vllm_served_name(instance):
    return str(instance.get("served_model_name") or instance.get("model") or instance["name"])


def node_from_published(host, published, keys=None):
    """One host as its serving roles published it (``ansible_local``: onprem_llm_vllm, onprem_llm_ollama,
    onprem_llm_gateway; no key in them) -> the host entry :func:`derive_endpoints` reads. ``keys`` are
    the inventory's, by reference: ``{"vllm": {instance name: api_key}, "gateway": gateway_api_keys}``."""
    published = published or {}
    keys = keys or {}
    vllm = published.get("onprem_llm_vllm") or {}
    ollama = published.get("onprem_llm_ollama") or {}
    gateway = published.get("onprem_llm_gateway") or {}
    vllm_keys = keys.get("vllm") or {}
    instances = []
    for entry in vllm.get("endpoints") or []:
        instances.append({"name": entry["name"], "host": entry.get("host") or "127.0.0.1", "port": entry["port"],
                          "served_model_name": (entry.get("models") or [entry["name"]])[0],
                          "model_path": entry.get("model_path") or "",
                          "api_key": vllm_keys.get(entry["name"]) or "" if entry.get("api_key") else ""})
    node = {"host": str(host), "vllm_instances": instances, "vllm_python": vllm.get("python") or "",
            "ollama_host": str(ollama.get("url") or "").split("://", 1)[-1],
            "ollama_models": list(ollama.get("models") or []), "gateway": None}
    if gateway.get("port"):
        node["gateway"] = {"listen": gateway.get("listen") or "127.0.0.1", "port": gateway["port"],
                           "server_name": gateway.get("server_name") or str(host),
                           "tls_cert": gateway.get("tls_cert") or "", "api_keys": keys.get("gateway") or []}
    return node


def _vllm_endpoints(node, api):
    out = []
    prefix = node.get("vllm_prefix") or "/opt/onprem-llm/vllm"
    python = node.get("vllm_python") or "%s/current/bin/python" % prefix.rstrip("/")
    models = node.get("models") or {}
    paths = node.get("model_paths") or {}
    for inst in node.get("vllm_instances") or []:
        if not isinstance(inst, dict) or not inst.get("name") or inst.get("port") is None:
            raise EndpointError("%s: every vllm_instances entry needs name and port" % node["host"])
        model = models.get(inst.get("model")) or {}
        out.append({
            "name": "vllm/%s/%s" % (node["host"], inst["name"]),
            "kind": "vllm",
            "route": "direct",
            "url": "http://%s:%d" % (_connect_host(inst.get("host") or "127.0.0.1"), int(inst["port"])),
            "model": vllm_served_name(inst),
            "runner": node["host"],
            "api_key": str(inst.get("api_key") or ""),
            "validate_certs": True,
            "ca_path": "",
            "tls_server_name": "",
            "model_path": str(inst.get("model_path") or paths.get(inst["name"]) or model.get("path") or ""),
            "vllm_python": python,
            "api": api,
        })
    return out


def _ollama_endpoints(node, api):
    out = []
    host, port = split_host_port(node.get("ollama_host") or "127.0.0.1:11434", 11434)
    for entry in node.get("ollama_models") or []:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if not name or (isinstance(entry, dict) and entry.get("state", "present") == "absent"):
            continue
        model = ollama_model_name(name)
        out.append({
            "name": "ollama/%s/%s" % (node["host"], model),
            "kind": "ollama",
            "route": "direct",
            "url": "http://%s:%d" % (_connect_host(host), port),
            "model": model,
            "runner": node["host"],
            "api_key": "",
            "validate_certs": True,
            "ca_path": "",
            "tls_server_name": "",
            "model_path": "",
            "vllm_python": "",
            "api": api,
        })
    return out


def gateway_key(api_keys, client=""):
    """The bearer token of ``client`` (or of the first client) in gateway_api_keys."""
    for item in api_keys or []:
        if isinstance(item, dict) and item.get("key") and (not client or item.get("client") == client):
            return str(item["key"])
    if client:
        raise EndpointError("gateway_api_keys has no key for client %r" % client)
    return ""


def derive_endpoints(nodes, api="chat", gateway_client=""):
    """All direct endpoints, then one gateway endpoint per distinct model when a gateway exists."""
    if api not in ("chat", "completions"):
        raise EndpointError("api must be chat or completions, got %r" % (api,))
    direct = []
    gateways = []
    for node in sorted(nodes or [], key=lambda n: n["host"]):
        direct += _vllm_endpoints(node, api)
        direct += _ollama_endpoints(node, api)
        if node.get("gateway"):
            gateways.append(node)
    out = list(direct)
    if gateways:
        node = gateways[0]
        gw = node["gateway"]
        port = int(gw.get("port") or 8443)
        address = _connect_host(gw.get("listen") or "127.0.0.1")
        key = gateway_key(gw.get("api_keys"), gateway_client)
        seen = set()
        for ep in direct:
            if ep["model"] in seen:
                continue
            seen.add(ep["model"])
            out.append({
                "name": "gateway/%s" % ep["model"],
                "kind": ep["kind"],
                "route": "gateway",
                "url": "https://%s:%d" % (address, port),
                "model": ep["model"],
                "runner": node["host"],
                "api_key": key,
                "validate_certs": bool(gw.get("validate_certs", True)),
                "ca_path": str(gw.get("tls_cert") or ""),
                "tls_server_name": str(gw.get("server_name") or ""),
                "model_path": "",
                "vllm_python": "",
                "api": api,
            })
    return out


def normalize_endpoints(endpoints, default_runner="localhost", api="chat"):
    """User-given endpoints (onprem_bench_endpoints / onprem_smoke_endpoints) with defaults filled."""
    out = []
    for i, ep in enumerate(endpoints or []):
        if not isinstance(ep, dict) or not ep.get("url") or not ep.get("model"):
            raise EndpointError("endpoint #%d needs at least url and model" % (i + 1))
        unknown = sorted(set(ep) - set(ENDPOINT_KEYS))
        if unknown:
            raise EndpointError("endpoint #%d: unknown keys %s (known: %s)"
                                % (i + 1, ", ".join(unknown), ", ".join(ENDPOINT_KEYS)))
        item = {"name": ep.get("name") or "%s@%s" % (ep["model"], ep["url"]), "kind": ep.get("kind") or "other",
                "route": ep.get("route") or "direct", "url": str(ep["url"]), "model": str(ep["model"]),
                "runner": ep.get("runner") or default_runner, "api_key": str(ep.get("api_key") or ""),
                "validate_certs": bool(ep.get("validate_certs", True)), "ca_path": str(ep.get("ca_path") or ""),
                "tls_server_name": str(ep.get("tls_server_name") or ""),
                "model_path": str(ep.get("model_path") or ""), "vllm_python": str(ep.get("vllm_python") or ""),
                "api": ep.get("api") or api}
        if item["kind"] not in ("vllm", "ollama", "other"):
            raise EndpointError("endpoint %s: kind must be vllm, ollama or other" % item["name"])
        out.append(item)
    names = [ep["name"] for ep in out]
    dupes = sorted(set(n for n in names if names.count(n) > 1))
    if dupes:
        raise EndpointError("endpoint names must be unique: %s" % ", ".join(dupes))
    return out


# ------------------------------------------------------------------------------------ curl examples
KEY_VAR = "ONPREM_LLM_API_KEY"


def curl_commands(ep):
    """[(title, command)] for one endpoint; the key is never printed, only $ONPREM_LLM_API_KEY.

    Gateway endpoints are addressed by the gateway's server name (what clients use), trusting a
    copy of the certificate (``ca_path``'s file name) rather than the address the checks use.
    """
    url = ep["url"].rstrip("/")
    opts = []
    if ep["url"].startswith("https://"):
        if ep.get("tls_server_name"):
            _address, port = split_host_port(url.split("://", 1)[1], 443)
            url = "https://%s:%d" % (ep["tls_server_name"], port)
        if ep.get("ca_path"):
            opts.append("--cacert %s" % ep["ca_path"].rsplit("/", 1)[-1])
        elif not ep.get("validate_certs", True):
            opts.append("--insecure")
    auth = ' -H "Authorization: Bearer $%s"' % KEY_VAR if ep.get("api_key") else ""
    base = "curl -sS%s%s" % ("".join(" " + o for o in opts), auth)
    if ep.get("api", "chat") == "chat":
        path = "/v1/chat/completions"
        body = '"messages": [{"role": "user", "content": "Say hello in five words."}]'
    else:
        path = "/v1/completions"
        body = '"prompt": "The capital of France is"'
    return [
        ("List the models", "%s %s/v1/models" % (base, url)),
        ("A completion", "%s %s%s \\\n  -H 'Content-Type: application/json' \\\n  -d '{\"model\": \"%s\", %s, "
                         "\"max_tokens\": 32}'" % (base, url, path, ep["model"], body)),
        ("A streamed completion", "%s -N %s%s \\\n  -H 'Content-Type: application/json' \\\n  -d '{\"model\": \"%s\", "
                                  "%s, \"max_tokens\": 32, \"stream\": true, \"stream_options\": "
                                  "{\"include_usage\": true}}'" % (base, url, path, ep["model"], body)),
    ]


def curl_markdown(endpoints, title="curl examples", source=""):
    """The Markdown page smoke.yml writes: per endpoint, where to run it and the three commands."""
    lines = ["# %s" % title, ""]
    if source:
        lines += [source, ""]
    lines += ["Keys are never written here: export the client's key from the vault first, e.g.",
              "`export %s=...` (gateway endpoints; direct vLLM endpoints with `api_key` too)." % KEY_VAR, ""]
    for ep in endpoints:
        host = split_host_port(ep["url"].split("://", 1)[-1].split("/", 1)[0], 0)[0]
        if ep["route"] != "direct":
            where = "from any client that reaches the gateway"
            if ep.get("ca_path"):
                where += " (`%s`: a copy of `%s` from the gateway host, or your CA's certificate)" % (
                    ep["ca_path"].rsplit("/", 1)[-1], ep["ca_path"])
        elif host in ("127.0.0.1", "::1", "localhost"):
            where = "on `%s` (the backend listens on loopback only)" % ep["runner"]
        else:
            where = "on `%s` or another host of the serving network" % ep["runner"]
        shown = ep["url"]
        if ep["route"] != "direct" and ep.get("tls_server_name"):
            shown = "https://%s:%d" % (ep["tls_server_name"], split_host_port(ep["url"].split("://", 1)[1], 443)[1])
        lines += ["## %s" % ep["name"], "", "%s `%s` model `%s` at %s, run %s." % (
            ep["kind"], ep["route"], ep["model"], shown, where), ""]
        for cap, cmd in curl_commands(ep):
            lines += ["%s:" % cap, "", "```sh", cmd, "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"

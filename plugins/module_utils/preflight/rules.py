# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Value rules: what argument_specs cannot say about a setting (ranges, formats, pins, security).

Pure functions, called by the inventory preflight for every host (playbooks/preflight.yml) and by
each role for its own variables (``onprem.llm.inventory_check`` with ``checks: values``), so a role
used outside site.yml refuses the same values. The rules table lives in
``data/inventory_variables.yml`` (``rules``: a variable path, ``[]`` for each list item, -> a format
name of FORMATS); the rules that relate several settings (an address and its key, a client list)
are the functions at the end of this file. Every sentence names the variable (list index, key and
the item's name), the bad value (never a secret's) and the fix.
"""

from __future__ import annotations

import posixpath
import re

from ansible_collections.onprem.llm.plugins.module_utils.gateway.routes import api_key_problems
from ansible_collections.onprem.llm.plugins.module_utils.ollama.names import parse_name
from ansible_collections.onprem.llm.plugins.module_utils.preflight.typecheck import is_secret, show
from ansible_collections.onprem.llm.plugins.module_utils.vllm.instances import instance_rule_problems

# Systemd unit instance names, file names and URL path segments: no '/', no spaces, no ';'.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# useradd's portable names (Debian's NAME_REGEX without the trailing '$' for machine accounts).
_ACCOUNT_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# Hugging Face: owner/name, each part letters, digits, '-', '_', '.', not starting or ending with
# '-' or '.', no '--' or '..', at most 96 characters in all (huggingface_hub's validate_repo_id).
_REPO_PART_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_HOST_PORT_RE = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]*))(?::(?P<port>[^:]*))?$")
# A release pin: digits and dots, an optional suffix such as -rc1 (never "latest").
_PIN_RE = re.compile(r"^v?\d+(\.\d+){1,3}([.+-]?[A-Za-z0-9]+)*$")
_URL_RE = re.compile(r"^(https?|file)://\S+$")


def _int(value):
    """An int from an int or a string of digits (templates may give strings); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r"^-?\d+$", value.strip()):
        return int(value.strip())
    return None


def check_port(value):
    port = _int(value)
    if port is None or not 1 <= port <= 65535:
        return "must be a TCP port from 1 to 65535"
    return None


def check_name(value):
    text = str(value)
    if not _NAME_RE.match(text) or ".." in text:
        return ("must be 1-64 characters of letters, digits, '_', '.', '-', starting with a letter or digit, "
                "without '..' (it becomes a systemd unit name, a file name and part of a URL)")
    return None


def check_model_name(value):
    """onprem.llm.model_weights' model names: the directory under the model root, lower case."""
    text = str(value)
    if not re.match(r"^[a-z0-9][a-z0-9._-]{0,63}$", text) or ".." in text:
        return ("must be 1-64 characters of lower-case letters, digits, '_', '.', '-', starting with a letter or "
                "digit, without '..' (it becomes the model's directory name)")
    return None


def check_account(value):
    if not _ACCOUNT_RE.match(str(value)):
        return "must be a system account name: lower-case letters, digits, '_', '-', at most 32, not starting with a digit"
    return None


def check_hf_repo_id(value):
    text = str(value)
    parts = text.split("/")
    if (len(parts) != 2 or len(text) > 96 or not all(_REPO_PART_RE.match(p) for p in parts)
            or "--" in text or ".." in text):
        return "must be a Hugging Face repository id, owner/name (e.g. Qwen/Qwen2.5-0.5B-Instruct)"
    return None


def check_host_port(value):
    # OLLAMA_HOST takes an optional scheme as well: http://0.0.0.0:11434.
    match = _HOST_PORT_RE.match(re.sub(r"^https?://", "", str(value).strip()))
    if not match:
        return "must be host:port (e.g. 127.0.0.1:11434, [::1]:11434 or 0.0.0.0:11434)"
    port = match.group("port")
    if port is None:
        return None
    if check_port(port):
        return "must be host:port with a port from 1 to 65535 (e.g. 127.0.0.1:11434)"
    return None


def check_abs_path(value):
    text = str(value)
    if not text.startswith("/") or posixpath.normpath(text) != text.rstrip("/") and text != "/":
        return "must be an absolute, normalised path (starting with '/', no '..' or '//')"
    return None


def check_version_pin(value):
    if not _PIN_RE.match(str(value).strip()):
        return "must pin a release by its version number (e.g. 0.20.0), not a channel such as 'latest'"
    return None


def check_version_or_auto(value):
    if str(value).strip() == "auto":
        return None
    reason = check_version_pin(value)
    return reason and "must be auto or a release version (e.g. 0.32.0)"


def check_driver_branch(value):
    text = str(value)
    if text != "auto" and not re.match(r"^[0-9]{3}$", text):
        return "must be auto or a driver branch of three digits (e.g. \"570\")"
    return None


def check_driver_version(value):
    if not re.match(r"^[0-9]{3}\.[0-9]+(\.[0-9]+)?$", str(value)):
        return "must be a full driver version (e.g. \"570.133.20\")"
    return None


def check_dotted_version(value):
    if not re.match(r"^[0-9]+(\.[0-9]+)*$", str(value)):
        return "must be dotted numbers (e.g. \"550\" or \"570.133.20\")"
    return None


def check_positive(value):
    number = _int(value)
    if number is None or number < 1:
        return "must be a whole number of at least 1"
    return None


def check_not_negative(value):
    number = _int(value)
    if number is None or number < 0:
        return "must be a whole number of at least 0"
    return None


def check_url(value):
    if not _URL_RE.match(str(value)):
        return "must be an http://, https:// or file:// URL"
    return None


def check_ollama_model(value):
    try:
        parse_name(value)
    except ValueError as exc:
        return "must be an Ollama model name [host/][namespace/]model[:tag] (%s)" % exc
    if ".." in str(value):
        return "must be an Ollama model name without '..'"
    return None


_HOST_RE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,252})|\[?[0-9A-Fa-f:.]+\]?)$")


def check_host(value):
    if not _HOST_RE.match(str(value)):
        return "must be a host name or an IP address (no scheme, port, path or spaces)"
    return None


def check_served_name(value):
    text = str(value)
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$", text) or ".." in text or "//" in text:
        return ("must be 1-128 characters of letters, digits, '_', '.', ':', '/', '-' (e.g. Qwen/Qwen2.5-7B-Instruct); "
                "it becomes a model id in URLs and in the gateway's routing")
    return None


def check_revision(value):
    text = str(value)
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$", text) or ".." in text:
        return "must be a branch, tag or commit of the repository (letters, digits, '_', '.', '/', '-'; no '..')"
    return None


def check_word(value):
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$", str(value)):
        return "must be one word of letters, digits, '_', '.', '+', '-'"
    return None


def check_sha256(value):
    if not re.match(r"^[0-9a-fA-F]{64}$", str(value)):
        return "must be a sha256: 64 hexadecimal characters"
    return None


def check_location(value):
    if not re.match(r"^/([A-Za-z0-9._~-]+/)*$", str(value)) or "/../" in str(value):
        return "must be a URL path that starts and ends with '/' (e.g. /models/)"
    return None


def check_package(value):
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9+._-]*(=[A-Za-z0-9.+~:_-]+)?$", str(value)):
        return "must be a package name, optionally =version (e.g. nvidia-utils-570-server)"
    return None


def check_duration(value):
    if not re.match(r"^-?[0-9]+(ns|us|ms|s|m|h)?$|^([0-9.]+[hms])+$", str(value)):
        return "must be a duration such as 5m, 1h or -1"
    return None


def check_san(value):
    if not re.match(r"^(DNS:[A-Za-z0-9*][A-Za-z0-9.*-]*|IP:[0-9A-Fa-f:.]+)$", str(value)):
        return "must be DNS:<name> or IP:<address> (e.g. DNS:llm.corp.example)"
    return None


def check_size(value):
    if not re.match(r"^[0-9]+[kKmMgG]?$", str(value)):
        return "must be an nginx size such as 8m, 512k or 1g"
    return None


def check_no_proxy(value):
    if not re.match(r"^[A-Za-z0-9.,*:/\[\]_-]*$", str(value)):
        return "must be a comma-separated list of hosts, domains and networks without spaces (e.g. localhost,.corp,10.0.0.0/8)"
    return None


def check_device_list(value):
    if not re.match(r"^(auto|[A-Za-z0-9-]+(,[A-Za-z0-9-]+)*)$", str(value)):
        return "must be auto or GPU indexes / UUIDs separated by commas (e.g. 0,1)"
    return None


def check_device_allow(value):
    if not re.match(r"^(/dev/[A-Za-z0-9/_.*-]+|(char|block)-[A-Za-z0-9_.*-]+)( [rwm]{1,3})?$", str(value)):
        return "must be a systemd DeviceAllow= entry (e.g. /dev/nvidia0 rw or char-nvidia-uvm rw)"
    return None


def check_executable(value):
    if not re.match(r"^(/[A-Za-z0-9._/+-]+|[A-Za-z0-9._+-]+)$", str(value)) or ".." in str(value):
        return "must be a program name or an absolute path to it (e.g. python3 or /usr/bin/python3.11)"
    return None


def check_interface(value):
    if not re.match(r"^[A-Za-z0-9_.:-]{1,15}$", str(value)):
        return "must be a network interface name (e.g. eth0, ens5f0)"
    return None


def check_token(value):
    if not re.match(r"^[A-Za-z0-9._~+/=:-]{1,512}$", str(value)):
        return "must be one token of letters, digits and ._~+/=:- (no spaces or quotes)"
    return None


def check_cidr(value):
    if not re.match(r"^(all|[0-9A-Fa-f:.]+(/[0-9]{1,3})?)$", str(value)):
        return "must be an address or network for nginx's allow (e.g. 10.0.0.0/8, 192.168.1.5 or all)"
    return None


_ARG = r"[A-Za-z0-9_./:=,+@-]+"


def check_argument(value):
    # Joined into a systemd ExecStart= line or split on spaces: no spaces, quotes, '%', '$' or ';'.
    if not re.match(r"^%s$" % _ARG, str(value)):
        return "must be one command-line argument of letters, digits and _./:=,+@- (e.g. --disable-usage-stats)"
    return None


def check_arguments(value):
    if not re.match(r"^%s( +%s)*$" % (_ARG, _ARG), str(value).strip()):
        return "must be command-line arguments of letters, digits and _./:=,+@-, separated by spaces"
    return None


def check_path_or_url(value):
    if check_url(value) and check_abs_path(value):
        return "must be an absolute path or an http://, https:// or file:// URL"
    return None


FORMATS = {
    "port": check_port,
    "name": check_name,
    "model_name": check_model_name,
    "account": check_account,
    "hf_repo_id": check_hf_repo_id,
    "host_port": check_host_port,
    "abs_path": check_abs_path,
    "version_pin": check_version_pin,
    "version_or_auto": check_version_or_auto,
    "driver_branch": check_driver_branch,
    "driver_version": check_driver_version,
    "dotted_version": check_dotted_version,
    "positive": check_positive,
    "not_negative": check_not_negative,
    "url": check_url,
    "ollama_model": check_ollama_model,
    "host": check_host,
    "served_name": check_served_name,
    "revision": check_revision,
    "word": check_word,
    "sha256": check_sha256,
    "location": check_location,
    "package": check_package,
    "duration": check_duration,
    "san": check_san,
    "size": check_size,
    "no_proxy": check_no_proxy,
    "device_list": check_device_list,
    "device_allow": check_device_allow,
    "executable": check_executable,
    "interface": check_interface,
    "token": check_token,
    "path_or_url": check_path_or_url,
    "cidr": check_cidr,
    "argument": check_argument,
    "arguments": check_arguments,
}

# Values a format accepts besides its own: "" and "auto" mean "not set" where the role says so.
_UNSET = ("",)


def _paths(value, parts, where):
    """(path, leaf value) pairs of ``value`` along ``parts`` ('[]' = each list item)."""
    if not parts:
        yield where, value
        return
    head, rest = parts[0], parts[1:]
    if head == "[]":
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                yield from _paths(item, rest, "%s[%d]" % (where, i))
        return
    if isinstance(value, dict) and head in value:
        label = ""
        if isinstance(value.get("name"), str) and where.endswith("]"):
            label = " (%s)" % value["name"]
        yield from _paths(value[head], rest, "%s%s.%s" % (where, label, head))


def split_rule_path(path):
    """'vllm_instances[].port' -> ('vllm_instances', ['[]', 'port'])."""
    parts = [p for p in path.replace("[]", ".[]").split(".") if p]
    return parts[0], parts[1:]


def _without_credentials(text):
    """A proxy or mirror URL may carry user:password@; a message shows (hidden)@ instead."""
    return re.sub(r"(^|//|,)[^/@\s,]*@", lambda m: m.group(1) + "(hidden)@", text)


def rule_problems(values, rules, secret_names=()):
    """Every leaf that breaks its rule. ``values``: variable name -> templated value (None = unset);
    ``rules``: path -> format name (data/inventory_variables.yml ``rules``)."""
    problems = []
    for path, fmt in sorted(rules.items()):
        name, parts = split_rule_path(path)
        if name not in values:
            continue
        check = FORMATS[fmt]
        for where, leaf in _paths(values[name], parts, name):
            if leaf is None or (isinstance(leaf, str) and leaf in _UNSET and fmt not in ("name", "port")):
                continue
            reason = check(leaf)
            if reason:
                secret = name in secret_names or is_secret(where.rsplit(".", 1)[-1], None)
                shown = _without_credentials(leaf) if isinstance(leaf, str) else leaf
                problems.append("%s %s, got %s; fix the value" % (where, reason, show(shown, secret)))
    return problems


def null_problems(values, catalogue):
    """``null`` for a setting whose default is not null: the role would get None, not the default."""
    problems = []
    for name in sorted(values):
        spec = catalogue.spec(name) or {}
        if values[name] is None and spec.get("default") is not None:
            problems.append("%s is null but has a default (%s); remove the line to take the default or set a value"
                            % (name, show(spec["default"])))
            continue
        options = spec.get("options") or {}
        items = values[name] if spec.get("type") == "list" and isinstance(values[name], list) else []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            for key, sub in sorted(options.items()):
                if key in item and item[key] is None and (sub or {}).get("default") is not None:
                    problems.append("%s[%d].%s is null but has a default (%s); remove the key or set a value"
                                    % (name, i, key, show(sub["default"])))
    return problems


def security_problems(values, roles, default=None):
    """Rules between settings: public vLLM addresses need keys, extra_args may not override what the
    role sets, tensor parallelism needs the GPUs listed, the gateway needs sane client keys.
    ``roles``: the roles that will run with these values; ``default(name)``: a setting's default."""
    default = default or (lambda name: None)
    problems = []
    if "vllm" in roles:
        for var in ("vllm_instances", "vllm_ray_instances"):
            instances = values.get(var)
            for i, inst in enumerate(instances if isinstance(instances, list) else []):
                if isinstance(inst, dict):
                    where = "%s[%d]" % (var, i) + (" (%s)" % inst["name"] if inst.get("name") else "")
                    problems += instance_rule_problems(inst, where)
    if "gateway" in roles:
        keys = values.get("gateway_api_keys")
        problems += api_key_problems(default("gateway_api_keys") if keys is None else keys)
    return problems

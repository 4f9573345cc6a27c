# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The formats of the value rules (preflight/rules.py): format name -> check(value), which returns
None for a good value, else the sentence after the variable's name ("must be ..."). Most formats are
a pattern plus substrings that may not appear; the others are functions below.
"""

from __future__ import annotations

import posixpath
import re

from ansible_collections.onprem.llm.plugins.module_utils.numbers import as_int
from ansible_collections.onprem.llm.plugins.module_utils.ollama.names import parse_name

_ARG = r"[A-Za-z0-9_./:=,+@-]+"
# A release pin: digits and dots, an optional suffix such as -rc1 (never "latest").
_PIN = r"v?\d+(\.\d+){1,3}([.+-]?[A-Za-z0-9]+)*"

# name -> (pattern the whole value must match, substrings it may not contain, the sentence).
PATTERNS = {
    # Systemd unit instance names, file names and URL path segments: no '/', no spaces, no ';'.
    "name": (r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", ("..",),
             "must be 1-64 characters of letters, digits, '_', '.', '-', starting with a letter or digit, "
             "without '..' (it becomes a systemd unit name, a file name and part of a URL)"),
    # onprem.llm.model_weights' model names: the directory under the model root, lower case.
    "model_name": (r"^[a-z0-9][a-z0-9._-]{0,63}$", ("..",),
                   "must be 1-64 characters of lower-case letters, digits, '_', '.', '-', starting with a letter "
                   "or digit, without '..' (it becomes the model's directory name)"),
    # useradd's portable names (Debian's NAME_REGEX without the trailing '$' for machine accounts).
    "account": (r"^[a-z_][a-z0-9_-]{0,31}$", (),
                "must be a system account name: lower-case letters, digits, '_', '-', at most 32, not starting "
                "with a digit"),
    "version_pin": (r"^%s$" % _PIN, (),
                    "must pin a release by its version number (e.g. 0.20.0), not a channel such as 'latest'"),
    "version_or_auto": (r"^(auto|%s)$" % _PIN, (), "must be auto or a release version (e.g. 0.32.0)"),
    "driver_branch": (r"^(auto|[0-9]{3})$", (), "must be auto or a driver branch of three digits (e.g. \"570\")"),
    "driver_version": (r"^[0-9]{3}\.[0-9]+(\.[0-9]+)?$", (), "must be a full driver version (e.g. \"570.133.20\")"),
    "dotted_version": (r"^[0-9]+(\.[0-9]+)*$", (), "must be dotted numbers (e.g. \"550\" or \"570.133.20\")"),
    "url": (r"^(https?|file)://\S+$", (), "must be an http://, https:// or file:// URL"),
    "host": (r"^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,252})|\[?[0-9A-Fa-f:.]+\]?)$", (),
             "must be a host name or an IP address (no scheme, port, path or spaces)"),
    "served_name": (r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$", ("..", "//"),
                    "must be 1-128 characters of letters, digits, '_', '.', ':', '/', '-' (e.g. "
                    "Qwen/Qwen2.5-7B-Instruct); it becomes a model id in URLs and in the gateway's routing"),
    "revision": (r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$", ("..",),
                 "must be a branch, tag or commit of the repository (letters, digits, '_', '.', '/', '-'; no '..')"),
    "word": (r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$", (), "must be one word of letters, digits, '_', '.', '+', '-'"),
    "sha256": (r"^[0-9a-fA-F]{64}$", (), "must be a sha256: 64 hexadecimal characters"),
    "location": (r"^/([A-Za-z0-9._~-]+/)*$", ("/../",),
                 "must be a URL path that starts and ends with '/' (e.g. /models/)"),
    "package": (r"^[A-Za-z0-9][A-Za-z0-9+._-]*(=[A-Za-z0-9.+~:_-]+)?$", (),
                "must be a package name, optionally =version (e.g. nvidia-utils-570-server)"),
    # Debian policy's package names (what apt-cache policy is asked about; no version).
    "package_name": (r"^[a-z0-9][a-z0-9+.-]+$", (),
                     "must be a package name without a version: lower-case letters, digits, '+', '.', '-' (e.g. "
                     "datacenter-gpu-manager-exporter)"),
    "duration": (r"^-?[0-9]+(ns|us|ms|s|m|h)?$|^([0-9.]+[hms])+$", (), "must be a duration such as 5m, 1h or -1"),
    "san": (r"^(DNS:[A-Za-z0-9*][A-Za-z0-9.*-]*|IP:[0-9A-Fa-f:.]+)$", (),
            "must be DNS:<name> or IP:<address> (e.g. DNS:llm.corp.example)"),
    "size": (r"^[0-9]+[kKmMgG]?$", (), "must be an nginx size such as 8m, 512k or 1g"),
    "no_proxy": (r"^[A-Za-z0-9.,*:/\[\]_-]*$", (),
                 "must be a comma-separated list of hosts, domains and networks without spaces (e.g. "
                 "localhost,.corp,10.0.0.0/8)"),
    "device_list": (r"^(auto|[A-Za-z0-9-]+(,[A-Za-z0-9-]+)*)$", (),
                    "must be auto or GPU indexes / UUIDs separated by commas (e.g. 0,1)"),
    "device_allow": (r"^(/dev/[A-Za-z0-9/_.*-]+|(char|block)-[A-Za-z0-9_.*-]+)( [rwm]{1,3})?$", (),
                     "must be a systemd DeviceAllow= entry (e.g. /dev/nvidia0 rw or char-nvidia-uvm rw)"),
    "executable": (r"^(/[A-Za-z0-9._/+-]+|[A-Za-z0-9._+-]+)$", ("..",),
                   "must be a program name or an absolute path to it (e.g. python3 or /usr/bin/python3.11)"),
    "interface": (r"^[A-Za-z0-9_.:-]{1,15}$", (), "must be a network interface name (e.g. eth0, ens5f0)"),
    "kernel_release": (r"^[0-9]+\.[0-9]+[A-Za-z0-9._+~-]{0,100}$", (),
                       "must be a kernel release as uname -r prints it (e.g. 6.1.0-57-amd64)"),
    "token": (r"^[A-Za-z0-9._~+/=:-]{1,512}$", (),
              "must be one token of letters, digits and ._~+/=:- (no spaces or quotes)"),
    "cidr": (r"^(all|[0-9A-Fa-f:.]+(/[0-9]{1,3})?)$", (),
             "must be an address or network for nginx's allow (e.g. 10.0.0.0/8, 192.168.1.5 or all)"),
    # Joined into a systemd ExecStart= line or split on spaces: no spaces, quotes, '%', '$' or ';'.
    # Prometheus' own units (model.ParseDuration), as in its flags and configuration.
    "prom_duration": (r"^([0-9]+(ms|s|m|h|d|w|y))+$", (), "must be a Prometheus duration such as 15s, 5m, 15d or 1h30m"),
    "prom_size": (r"^[0-9]+(B|KB|MB|GB|TB|PB|EB)$", (), "must be a Prometheus size such as 512MB, 50GB or 1TB"),
    # An address Alertmanager mails to or from: one mailbox, no display name, no list separators.
    "email": (r"^[^@\s\"'<>,;]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$", (),
              "must be one e-mail address (e.g. oncall@example.com)"),
    # systemd IPAddressAllow= entries: an address or a network, nothing else.
    "ip_network": (r"^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$", (), "must be an IP address or network (e.g. 10.0.0.5, 10.0.0.0/24)"),
    "argument": (r"^%s$" % _ARG, (),
                 "must be one command-line argument of letters, digits and _./:=,+@- (e.g. --disable-usage-stats)"),
    "arguments": (r"^ *%s( +%s)* *$" % (_ARG, _ARG), (),
                  "must be command-line arguments of letters, digits and _./:=,+@-, separated by spaces"),
}

# Hugging Face: owner/name, each part letters, digits, '-', '_', '.', not starting or ending with
# '-' or '.', no '--' or '..', at most 96 characters in all (huggingface_hub's validate_repo_id).
_REPO_PART_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_HOST_PORT_RE = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]*))(?::(?P<port>[^:]*))?$")


def _pattern(regex, forbidden, sentence):
    compiled = re.compile(regex)

    def check(value):
        text = str(value)
        # fullmatch: re's '$' also matches before a trailing newline, and a value with a newline
        # would add a line to the unit or environment file it is written into.
        if not compiled.fullmatch(text) or any(part in text for part in forbidden):
            return sentence
        return None
    return check


def check_port(value):
    port = as_int(value)
    if port is None or not 1 <= port <= 65535:
        return "must be a TCP port from 1 to 65535"
    return None


def check_positive(value):
    number = as_int(value)
    if number is None or number < 1:
        return "must be a whole number of at least 1"
    return None


def check_not_negative(value):
    number = as_int(value)
    if number is None or number < 0:
        return "must be a whole number of at least 0"
    return None


def check_fraction(value):
    number = _as_number(value)
    if number is None or not 0 < number <= 1:
        return "must be a fraction above 0 and at most 1 (e.g. 0.9 for 90 %)"
    return None


def check_number_not_negative(value):
    number = _as_number(value)
    if number is None or number < 0:
        return "must be a number of at least 0"
    return None


def _as_number(value):
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def check_hf_repo_id(value):
    text = str(value)
    parts = text.split("/")
    if (len(parts) != 2 or len(text) > 96 or not all(_REPO_PART_RE.fullmatch(p) for p in parts)
            or "--" in text or ".." in text):
        return "must be a Hugging Face repository id, owner/name (e.g. Qwen/Qwen2.5-0.5B-Instruct)"
    return None


def check_host_port(value):
    # OLLAMA_HOST takes an optional scheme as well: http://0.0.0.0:11434.
    match = _HOST_PORT_RE.fullmatch(re.sub(r"^https?://", "", str(value).strip()))
    if not match:
        return "must be host:port (e.g. 127.0.0.1:11434, [::1]:11434 or 0.0.0.0:11434)"
    port = match.group("port")
    if port is not None and check_port(port):
        return "must be host:port with a port from 1 to 65535 (e.g. 127.0.0.1:11434)"
    return None


def check_abs_path(value):
    text = str(value)
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        return "must be an absolute path without control characters (a newline, a tab)"
    if not text.startswith("/") or (text != "/" and posixpath.normpath(text) != text.rstrip("/")):
        return "must be an absolute, normalised path (starting with '/', no '..' or '//')"
    return None


def check_path_or_url(value):
    if FORMATS["url"](value) and check_abs_path(value):
        return "must be an absolute path or an http://, https:// or file:// URL"
    return None


def check_ollama_model(value):
    if any(ord(char) < 32 or ord(char) == 127 for char in str(value)):
        return "must be an Ollama model name without control characters (a newline, a tab)"
    try:
        parse_name(value)
    except ValueError as exc:
        return "must be an Ollama model name [host/][namespace/]model[:tag] (%s)" % exc
    if ".." in str(value):
        return "must be an Ollama model name without '..'"
    return None


FORMATS = dict((name, _pattern(*spec)) for name, spec in PATTERNS.items())
FORMATS.update({
    "port": check_port,
    "positive": check_positive,
    "not_negative": check_not_negative,
    "fraction": check_fraction,
    "number_not_negative": check_number_not_negative,
    "hf_repo_id": check_hf_repo_id,
    "host_port": check_host_port,
    "abs_path": check_abs_path,
    "path_or_url": check_path_or_url,
    "ollama_model": check_ollama_model,
})

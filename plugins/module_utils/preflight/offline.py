# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Closed networks: what every role would fetch, from where, and whether that is allowed offline.

``artifacts(values, groups, os_family)`` lists, for one host, each artifact a role of the collection
would download and its source: a URL, a path on the host or a path on the controller. ``values`` holds
the host's *effective* variables (inventory values over the roles' defaults; the caller merges them).

``violations(items, allowed)`` keeps the URL sources that are not under one of the ``allowed`` URL
prefixes (the bundle URL, the weights mirror, an internal index); ``message(bad)`` names role and
artifact for each. Paths (host or controller) never leave the network and are always allowed.

``offline_models(models, base_url)`` rewrites a model list (``model_weights_models`` items) so each
model comes from the bundle (``<base_url><name>/`` with its ``manifest.json``), keeping the options
that are not about the source.
"""

from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.nvidia.driver_plan import (
    CONTAINER_TOOLKIT_BASE, CUDA_REPO_BASE)
from ansible_collections.onprem.llm.plugins.module_utils.vllm.compat_table import (
    PYPI_INDEX_URL, TORCH_INDEX_URL_BASE, VLLM_WHEEL_BASE_URL)

HF_ENDPOINT = "https://huggingface.co"
OLLAMA_REGISTRY = "https://registry.ollama.ai"

# Inventory groups whose hosts run each role (playbooks/stages/*.yml).
ROLE_GROUPS = {
    "nvidia_driver": ("gpu_nodes",),
    "cuda": ("gpu_nodes",),
    "model_weights": ("model_mirror", "vllm_servers", "ollama_servers"),
    "vllm": ("vllm_servers",),
    "ollama": ("ollama_servers",),
}

# The variables artifacts() reads, per role: the caller passes their effective values.
ROLE_VARIABLES = {
    "nvidia_driver": ("nvidia_driver_source", "nvidia_driver_repo_url", "nvidia_driver_local_repo_package",
                      "nvidia_driver_debian_components", "nvidia_driver_debian_mirror",
                      "nvidia_driver_debian_security_mirror", "nvidia_driver_container_toolkit",
                      "nvidia_driver_container_toolkit_repo_url", "nvidia_driver_epel_url"),
    "cuda": ("cuda_source", "cuda_repo_url"),
    "model_weights": ("model_weights_models", "model_weights_hf_endpoint", "model_weights_hf_install",
                      "model_weights_pip_extra_args", "model_weights_fanout", "model_weights_mirror_group",
                      "model_weights_mirror_host", "model_weights_mirror_url"),
    "vllm": ("vllm_plan_only", "vllm_wheelhouse", "vllm_wheelhouse_src", "vllm_pip_index_url",
             "vllm_pip_extra_index_urls", "vllm_torch_index_url_base", "vllm_wheel_base_url"),
    "ollama": ("ollama_version", "ollama_variants", "ollama_download_base_url", "ollama_archive_src",
               "ollama_checksum_from_release", "ollama_models"),
}


def _item(role, artifact, source, kind="url"):
    """One artifact: kind is url, host (a path on the host) or controller (a path on the controller)."""
    if kind == "url" and source and "://" not in source:
        kind = "host"
    return {"role": role, "artifact": artifact, "source": source, "kind": kind}


def _text(value):
    return "" if value is None else str(value).strip()


def _pip_index(extra_args):
    """The index pip uses given extra arguments: None when --no-index, else --index-url's or PyPI."""
    args = _text(extra_args).split()
    if "--no-index" in args:
        return None
    for pos, arg in enumerate(args):
        if arg == "--index-url" and pos + 1 < len(args):
            return args[pos + 1]
        if arg.startswith("--index-url="):
            return arg.split("=", 1)[1]
    return PYPI_INDEX_URL


def _nvidia_driver(values, os_family):
    role, out = "nvidia_driver", []
    source = _text(values.get("nvidia_driver_source")) or "auto"
    if source == "auto":
        source = "distro" if os_family == "Debian" else "nvidia"
    if source == "nvidia":
        out.append(_item(role, "driver packages (NVIDIA CUDA repository)",
                         _text(values.get("nvidia_driver_repo_url")) or CUDA_REPO_BASE))
    elif source == "local":
        out.append(_item(role, "driver local-repo package", _text(values.get("nvidia_driver_local_repo_package"))))
    elif os_family == "Debian" and values.get("nvidia_driver_debian_components", True):
        # The distribution's archive itself comes through apt's sources (the closed_network role's business);
        # the contrib/non-free sources file the role writes names these mirrors.
        out.append(_item(role, "Debian contrib/non-free sources (nvidia_driver_debian_mirror)",
                         _text(values.get("nvidia_driver_debian_mirror"))))
        out.append(_item(role, "Debian security sources (nvidia_driver_debian_security_mirror)",
                         _text(values.get("nvidia_driver_debian_security_mirror"))))
    if os_family == "RedHat" and _text(values.get("nvidia_driver_epel_url")):
        out.append(_item(role, "EPEL repository for DKMS (nvidia_driver_epel_url)",
                         _text(values.get("nvidia_driver_epel_url"))))
    if values.get("nvidia_driver_container_toolkit"):
        out.append(_item(role, "nvidia-container-toolkit repository",
                         _text(values.get("nvidia_driver_container_toolkit_repo_url")) or CONTAINER_TOOLKIT_BASE))
    return out


def _cuda(values, os_family):
    source = _text(values.get("cuda_source")) or "auto"
    if source == "auto":
        source = "distro" if os_family == "Debian" else "nvidia"
    if source == "nvidia":
        return [_item("cuda", "CUDA packages (NVIDIA CUDA repository)", _text(values.get("cuda_repo_url")) or CUDA_REPO_BASE)]
    return []


def _model_weights(values, groups, hostname):
    role, out = "model_weights", []
    models = values.get("model_weights_models") or []
    fanout = _text(values.get("model_weights_fanout")) or "none"
    mirror_group = _text(values.get("model_weights_mirror_group")) or "model_mirror"
    mirror_host = _text(values.get("model_weights_mirror_host"))
    is_mirror = mirror_group in groups if not mirror_host else hostname == mirror_host
    needs_hf = False
    for model in models:
        if not isinstance(model, dict):
            continue
        name = _text(model.get("name")) or "?"
        label = "model %s" % name
        if fanout == "mirror" and not is_mirror:
            # Fetched from the weights mirror inside the network.
            out.append(_item(role, label + " (from the weights mirror)",
                             _text(values.get("model_weights_mirror_url")) or "model_weights mirror", "mirror"))
            continue
        source = _text(model.get("source")) or "hf"
        if source == "hf":
            needs_hf = True
            endpoint = _text(model.get("endpoint")) or _text(values.get("model_weights_hf_endpoint")) or HF_ENDPOINT
            out.append(_item(role, "%s (Hub %s)" % (label, _text(model.get("repo_id"))), endpoint))
        elif source == "http":
            out.append(_item(role, label, _text(model.get("url"))))
        elif source == "local":
            out.append(_item(role, label, _text(model.get("path")), "host"))
        else:
            out.append(_item(role, label, _text(model.get("path")), "controller"))
    if needs_hf and values.get("model_weights_hf_install", True):
        index = _pip_index(values.get("model_weights_pip_extra_args"))
        if index:
            out.append(_item(role, "Hub client wheels (pip index)", index))
    return out


def _vllm(values):
    role = "vllm"
    if values.get("vllm_plan_only"):
        return []
    wheelhouse = _text(values.get("vllm_wheelhouse"))
    source = _text(values.get("vllm_wheelhouse_src"))
    if source:
        return [_item(role, "wheelhouse (vllm_wheelhouse_src)", source, "controller")]
    if wheelhouse:
        return [_item(role, "wheelhouse (vllm_wheelhouse)", wheelhouse)]
    out = [_item(role, "wheels (package index)", _text(values.get("vllm_pip_index_url")) or PYPI_INDEX_URL)]
    out += [_item(role, "wheels (extra index)", _text(url)) for url in values.get("vllm_pip_extra_index_urls") or []]
    out.append(_item(role, "torch wheels (PyTorch index)", _text(values.get("vllm_torch_index_url_base")) or TORCH_INDEX_URL_BASE))
    out.append(_item(role, "vLLM wheels (vLLM index)", _text(values.get("vllm_wheel_base_url")) or VLLM_WHEEL_BASE_URL))
    return out


def _ollama(values):
    role, out = "ollama", []
    version = _text(values.get("ollama_version"))
    if _text(values.get("ollama_archive_src")):
        out.append(_item(role, "release archive %s" % version, _text(values.get("ollama_archive_src")), "controller"))
    else:
        base = _text(values.get("ollama_download_base_url")).rstrip("/")
        out.append(_item(role, "release archive %s" % version, "%s/v%s/" % (base, version)))
        if values.get("ollama_variants"):
            out.append(_item(role, "variant archives %s" % ", ".join(values["ollama_variants"]), "%s/v%s/" % (base, version)))
    if values.get("ollama_checksum_from_release") and not _text(values.get("ollama_archive_src")):
        base = _text(values.get("ollama_download_base_url")).rstrip("/")
        out.append(_item(role, "sha256sum.txt", "%s/v%s/sha256sum.txt" % (base, version)))
    for model in values.get("ollama_models") or []:
        if not isinstance(model, dict) or _text(model.get("state")) == "absent":
            continue
        source = _text(model.get("source")) or ("file" if model.get("src") else "pull")
        if source == "pull":
            name = _text(model.get("name"))
            host = name.split("/", 1)[0] if "/" in name and "." in name.split("/", 1)[0] else ""
            out.append(_item(role, "model %s (pull)" % name, ("https://" + host) if host else OLLAMA_REGISTRY))
    return out


def artifacts(values, groups, os_family="", hostname=""):
    """Every artifact the collection's roles would fetch on a host in ``groups``."""
    groups = set(groups or [])
    values = values or {}
    out = []
    if groups & set(ROLE_GROUPS["nvidia_driver"]):
        out += _nvidia_driver(values, os_family)
        out += _cuda(values, os_family)
    if groups & set(ROLE_GROUPS["model_weights"]):
        out += _model_weights(values, groups, hostname)
    if groups & set(ROLE_GROUPS["vllm"]):
        out += _vllm(values)
    if groups & set(ROLE_GROUPS["ollama"]):
        out += _ollama(values)
    return out


def _under(url, prefix):
    prefix = _text(prefix)
    if not prefix:
        return False
    if url == prefix or url.rstrip("/") == prefix.rstrip("/"):
        return True
    return url.startswith(prefix if prefix.endswith("/") else prefix + "/")


def violations(items, allowed):
    """The URL artifacts not under one of the allowed URL prefixes (paths and the weights mirror pass)."""
    return [item for item in items
            if item["kind"] == "url" and not any(_under(item["source"], prefix) for prefix in allowed or [])]


def message(bad, hostname=""):
    """One line per violation, naming role, artifact and URL."""
    where = (" on %s" % hostname) if hostname else ""
    return ["closed network%s: role %s would fetch %s from %s (outside the bundle)"
            % (where, item["role"], item["artifact"], item["source"] or "(empty URL)") for item in bad]


_SOURCE_KEYS = ("source", "repo_id", "revision", "endpoint", "url", "path", "manifest", "allow_patterns",
                "ignore_patterns")


def offline_models(models, base_url):
    """Each model from the bundle: ``source: http``, ``url: <base_url><name>`` (manifest.json there)."""
    base = _text(base_url)
    if not base:
        raise ValueError("offline_models needs the bundle's models URL (onprem_bundle_url ~ '/models/')")
    base = base.rstrip("/") + "/"
    out = []
    for model in models or []:
        if not isinstance(model, dict) or not model.get("name"):
            raise ValueError("offline_models: every model needs a name, got %r" % (model,))
        entry = dict((key, value) for key, value in model.items() if key not in _SOURCE_KEYS)
        entry.update({"source": "http", "url": base + str(model["name"])})
        out.append(entry)
    return out

# -*- coding: utf-8 -*-
# Copyright: onprem.llm maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load and validate the model catalog (``data/models.yml`` at the collection root).

Controller-side helper: reading the file needs PyYAML (ansible-core depends on it). Validation
works on an already-parsed dict and has no third-party imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core always brings PyYAML on the controller
    yaml = None

from ansible_collections.onprem.llm.plugins.module_utils.weights.sizing import (
    SizingError,
    check_config,
    normalize_dtype,
)

SCHEMA_VERSION = 1
ARCHITECTURES = ("dense", "moe")
ATTENTIONS = ("gqa", "mla")
TASKS = ("chat", "code", "reasoning", "small")
QUANT_METHODS = ("awq", "gptq", "fp8", "int8", "gguf_q4_k_m", "gguf_q8_0")
REQUIRED = (
    "display_name", "family", "hf_repo", "ollama", "tasks", "architecture", "parameter_count",
    "active_parameter_count", "dtype", "max_position_embeddings", "context_length", "config",
    "license", "korean", "quantized", "sources", "unverified",
)
OPTIONAL = ("notes",)
CONFIG_REQUIRED = ("attention", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                   "head_dim", "hidden_size")
MLA_REQUIRED = ("kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim")
_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
_REPO = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
_URL = re.compile(r"^https://\S+$")
_OLLAMA = re.compile(r"^[a-z0-9][a-z0-9.\-]*:[a-z0-9][a-z0-9.\-]*$")


class CatalogError(ValueError):
    """The catalog file is missing, unreadable or breaks the schema; the text says where."""


_LOADED = {}


# libyaml's loader where PyYAML has it: several times faster, same result for these files. The
# preflight reads every argument spec and the catalogue once per role and host (0.23 s -> 0.02 s).
SAFE_LOADER = (getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader) if yaml is not None else None


def load_catalog_cached(path):
    """load_catalog, once per path and controller process (filters run for every host)."""
    key = str(path)
    if key not in _LOADED:
        _LOADED[key] = load_catalog(path)
    return _LOADED[key]


def load_catalog(path):
    """Read, validate and return the ``models`` mapping of the catalog at ``path``."""
    if yaml is None:
        raise CatalogError("reading the model catalog needs PyYAML on the controller")
    try:
        with open(str(path), "r") as handle:
            data = yaml.load(handle, Loader=SAFE_LOADER)
    except (IOError, OSError) as exc:
        raise CatalogError("cannot read model catalog %s: %s" % (path, exc))
    except yaml.YAMLError as exc:
        raise CatalogError("model catalog %s is not valid YAML: %s" % (path, exc))
    return validate_catalog(data, source=str(path))


def validate_catalog(data, source="catalog"):
    """Check the whole catalog; returns ``data['models']``. Raises CatalogError listing every problem."""
    if not isinstance(data, dict):
        raise CatalogError("%s: top level must be a mapping with schema_version and models" % source)
    problems = []
    if data.get("schema_version") != SCHEMA_VERSION:
        problems.append("schema_version must be %d, got %r" % (SCHEMA_VERSION, data.get("schema_version")))
    models = data.get("models")
    if not isinstance(models, dict) or not models:
        problems.append("models must be a non-empty mapping")
        models = {}
    for name, entry in models.items():
        problems.extend("%s: %s" % (name, p) for p in entry_problems(name, entry))
    if problems:
        raise CatalogError("%s has %d problem(s):\n- %s" % (source, len(problems), "\n- ".join(problems)))
    return models


def _is_int(value, minimum=1):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


# Long on purpose: one schema check per catalog field, in the file's field order.
def entry_problems(name, entry):
    """List of schema/consistency problems of one catalog entry (empty when it is fine)."""
    out = []
    if not isinstance(name, str) or not _NAME.match(name):
        out.append("name must be lower-case letters, digits, '.' and '-'")
    if not isinstance(entry, dict):
        return out + ["entry must be a mapping"]
    missing = [key for key in REQUIRED if key not in entry]
    if missing:
        out.append("missing field(s): %s" % ", ".join(missing))
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        out.append("unknown field(s): %s" % ", ".join(unknown))
    if missing:
        return out
    if not isinstance(entry["display_name"], str) or not entry["display_name"]:
        out.append("display_name must be a non-empty string")
    if not isinstance(entry["hf_repo"], str) or not _REPO.match(entry["hf_repo"]):
        out.append("hf_repo must look like owner/name, got %r" % (entry["hf_repo"],))
    ollama = entry["ollama"]
    if not isinstance(ollama, list) or not all(isinstance(t, str) and _OLLAMA.match(t) for t in ollama):
        out.append("ollama must be a list of name:tag strings")
    tasks = entry["tasks"]
    if not isinstance(tasks, list) or not tasks or not set(tasks) <= set(TASKS):
        out.append("tasks must be a non-empty list from %s" % ", ".join(TASKS))
    arch = entry["architecture"]
    if arch not in ARCHITECTURES:
        out.append("architecture must be one of %s" % ", ".join(ARCHITECTURES))
    params, active = entry["parameter_count"], entry["active_parameter_count"]
    if not _is_int(params, 10 ** 8):
        out.append("parameter_count must be an integer count of parameters (>= 1e8), got %r" % (params,))
    if arch == "moe":
        if not _is_int(active, 10 ** 8) or (_is_int(params) and active >= params):
            out.append("active_parameter_count must be an integer smaller than parameter_count for MoE")
    elif active is not None:
        out.append("active_parameter_count must be null for dense models")
    try:
        normalize_dtype(entry["dtype"])
    except SizingError as exc:
        out.append("dtype: %s" % exc)
    mpe, ctx = entry["max_position_embeddings"], entry["context_length"]
    if not _is_int(mpe, 512) or not _is_int(ctx, 512):
        out.append("max_position_embeddings and context_length must be integers >= 512")
    elif ctx > mpe:
        out.append("context_length %d exceeds max_position_embeddings %d" % (ctx, mpe))
    out.extend(_config_problems(entry["config"]))
    lic = entry["license"]
    if not isinstance(lic, dict) or not all(isinstance(lic.get(k), str) and lic.get(k) for k in ("id", "name", "url")) \
            or not _URL.match(lic.get("url", "")):
        out.append("license must have id, name and an https url")
    korean = entry["korean"]
    if korean is not None and (not isinstance(korean, dict) or not isinstance(korean.get("note"), str)
                               or not _URL.match(str(korean.get("source", "")))):
        out.append("korean must be null or have a note and an https source")
    quantized = entry["quantized"]
    if not isinstance(quantized, list):
        out.append("quantized must be a list")
    else:
        for index, variant in enumerate(quantized):
            if not isinstance(variant, dict) or variant.get("method") not in QUANT_METHODS \
                    or not _is_int(variant.get("bits")) \
                    or not isinstance(variant.get("bits_per_weight"), (int, float)) \
                    or not variant.get("bits") <= variant.get("bits_per_weight") < variant.get("bits") + 2 \
                    or not _REPO.match(str(variant.get("hf_repo", ""))):
                out.append("quantized[%d] needs method (%s), bits, bits_per_weight in [bits, bits+2) and "
                           "hf_repo" % (index, ", ".join(QUANT_METHODS)))
    sources = entry["sources"]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and _URL.match(s) for s in sources):
        out.append("sources must be a non-empty list of https URLs")
    if not isinstance(entry["unverified"], list):
        out.append("unverified must be a list of field names")
    return out


def _config_problems(config):
    if not isinstance(config, dict):
        return ["config must be a mapping"]
    out = []
    missing = [key for key in CONFIG_REQUIRED if key not in config]
    if config.get("attention") == "mla":
        missing += [key for key in MLA_REQUIRED if key not in config]
    if missing:
        return ["config is missing %s" % ", ".join(missing)]
    if config["attention"] not in ATTENTIONS:
        out.append("config.attention must be one of %s" % ", ".join(ATTENTIONS))
    try:
        check_config(config)
    except SizingError as exc:
        out.append(str(exc))
        return out
    for key in ("num_key_value_heads", "head_dim", "hidden_size"):
        if not _is_int(config[key]):
            out.append("config.%s must be a positive integer" % key)
    if out:
        return out
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    if heads % kv_heads:
        out.append("config.num_attention_heads %d is not a multiple of num_key_value_heads %d" % (heads, kv_heads))
    if config["attention"] == "mla":
        if kv_heads != heads:
            out.append("config: MLA models list num_key_value_heads equal to num_attention_heads")
        if config["head_dim"] != config["qk_nope_head_dim"] + config["qk_rope_head_dim"]:
            out.append("config.head_dim must be qk_nope_head_dim + qk_rope_head_dim for MLA")
    elif "sliding_window" not in config and config["hidden_size"] != heads * config["head_dim"]:
        # Gemma 2 (sliding-window models) sets head_dim independently of hidden_size.
        out.append("config.hidden_size %d != num_attention_heads %d x head_dim %d"
                   % (config["hidden_size"], heads, config["head_dim"]))
    return out


def catalog_entry(models, name):
    """The entry called ``name`` (case-insensitive, also matches hf_repo or an Ollama tag)."""
    if not isinstance(name, str) or not name.strip():
        raise CatalogError("model name must be a non-empty string; got %r" % (name,))
    key = name.strip().lower()
    if key in models:
        return dict(models[key], name=key)
    for entry_name, entry in models.items():
        if entry["hf_repo"].lower() == key or key in [t.lower() for t in entry["ollama"]]:
            return dict(entry, name=entry_name)
    raise CatalogError("unknown model %r; the catalog has: %s" % (name, ", ".join(sorted(models))))

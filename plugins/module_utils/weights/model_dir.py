# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate a model: a Hugging Face safetensors directory or a GGUF file (single or split).

``validate_model`` is what ``onprem.llm.model_validate`` runs. It reads headers only; file data is
read only to compute sha256 digests (a manifest with digests, or ``checksums=True``).
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.onprem.llm.plugins.module_utils.weights import WeightsError
from ansible_collections.onprem.llm.plugins.module_utils.weights import gguf_format
from ansible_collections.onprem.llm.plugins.module_utils.weights import manifest as manifest_mod
from ansible_collections.onprem.llm.plugins.module_utils.weights import safetensors_format

INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"
CONFIG_NAME = "config.json"

# Any one of these makes a usable tokenizer (a tuple means all of its files).
TOKENIZER_CHOICES = (
    ("tokenizer.json",),
    ("tokenizer.model",),
    ("tekken.json",),
    ("vocab.json", "merges.txt"),
    ("vocab.txt",),
)
TOKENIZER_DESCRIPTION = "tokenizer.json, tokenizer.model, tekken.json, vocab.json + merges.txt, or vocab.txt"
# Reported in ``files`` when present; not required.
SUPPORT_FILES = (
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "generation_config.json",
    "chat_template.jinja",
    "chat_template.json",
    "preprocessor_config.json",
    "processor_config.json",
)
JSON_FILES = ("tokenizer.json", "tekken.json", "vocab.json", "tokenizer_config.json", "generation_config.json")

_SPLIT_RE = re.compile(r"^(?P<prefix>.*)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$")

# Hugging Face config keys (and common aliases) for the numbers that size the KV cache.
_HF_KEYS = {
    "num_hidden_layers": ("num_hidden_layers", "n_layer", "num_layers", "n_layers"),
    "num_attention_heads": ("num_attention_heads", "n_head", "num_heads", "n_heads"),
    "num_key_value_heads": ("num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num"),
    "head_dim": ("head_dim",),
    "hidden_size": ("hidden_size", "n_embd", "d_model", "dim"),
    "max_position_embeddings": ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length",
                                "max_sequence_length"),
    "vocab_size": ("vocab_size", "padded_vocab_size"),
    # multi-head latent attention (DeepSeek V2/V3): the KV cache holds kv_lora_rank + qk_rope_head_dim
    "kv_lora_rank": ("kv_lora_rank",),
    "qk_rope_head_dim": ("qk_rope_head_dim",),
}


def _read_json(path, what):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (IOError, OSError) as exc:
        raise WeightsError("%s: cannot be read: %s" % (path, exc.strerror or exc))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WeightsError("%s: %s is not valid JSON (%s)" % (path, what, exc))


def _int_or_none(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return None


def hf_config_summary(cfg):
    """Architecture numbers from a parsed Hugging Face ``config.json``.

    Returns ``{"architecture", "model_type", "context_length", "config": {"num_hidden_layers",
    "num_attention_heads", "num_key_value_heads", "head_dim", "hidden_size", "vocab_size",
    "max_position_embeddings", "kv_lora_rank", "qk_rope_head_dim"}}``; a value is None when the
    config does not say (the last two are set for multi-head latent attention models only). Keys missing at
    the top level are looked up in ``text_config`` (multimodal models). ``num_key_value_heads``
    defaults to ``num_attention_heads`` and ``head_dim`` to ``hidden_size // num_attention_heads``,
    as transformers does.
    """
    scopes = [cfg]
    for nested in ("text_config", "llm_config", "language_config"):
        if isinstance(cfg.get(nested), dict):
            scopes.append(cfg[nested])

    def pick(name):
        for scope in scopes:
            for key in _HF_KEYS[name]:
                value = _int_or_none(scope.get(key))
                if value is not None:
                    return value
        return None

    out = dict((name, pick(name)) for name in _HF_KEYS)
    if out["num_key_value_heads"] is None and out["num_attention_heads"] is not None:
        mq = any(scope.get("multi_query") is True for scope in scopes)
        out["num_key_value_heads"] = 1 if mq else out["num_attention_heads"]
    if out["head_dim"] is None and out["hidden_size"] and out["num_attention_heads"]:
        out["head_dim"] = out["hidden_size"] // out["num_attention_heads"]
    architectures = cfg.get("architectures")
    model_type = cfg.get("model_type") if isinstance(cfg.get("model_type"), str) else None
    if isinstance(architectures, list) and architectures and isinstance(architectures[0], str):
        architecture = architectures[0]
    else:
        architecture = model_type
    return {"architecture": architecture, "model_type": model_type,
            "context_length": out["max_position_embeddings"], "config": out}


def gguf_config_summary(metadata):
    """The same numbers from GGUF metadata (``<arch>.block_count`` ...); see hf_config_summary.

    ``head_dim`` is ``<arch>.attention.key_length`` when present, else embedding / heads;
    ``value_head_dim`` is ``<arch>.attention.value_length`` (defaults to head_dim). Per-layer
    arrays (some architectures vary heads by layer) are returned as lists.
    """
    arch = metadata.get("general.architecture")
    arch = arch if isinstance(arch, str) else None

    def get(suffix):
        if arch is None:
            return None
        value = metadata.get("%s.%s" % (arch, suffix))
        if isinstance(value, list):
            return value
        return _int_or_none(value)

    heads = get("attention.head_count")
    kv_heads = get("attention.head_count_kv")
    if kv_heads is None:
        kv_heads = heads
    hidden = get("embedding_length")
    head_dim = get("attention.key_length")
    if head_dim is None and isinstance(hidden, int) and isinstance(heads, int) and heads:
        head_dim = hidden // heads
    value_dim = get("attention.value_length")
    vocab = get("vocab_size")
    if vocab is None:
        vocab = gguf_format.array_length(metadata.get("tokenizer.ggml.tokens"))
    context = get("context_length")
    kv_lora_rank = get("attention.kv_lora_rank")
    config = {
        "num_hidden_layers": get("block_count"),
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "value_head_dim": value_dim if value_dim is not None else head_dim,
        "hidden_size": hidden,
        "vocab_size": vocab,
        "max_position_embeddings": context,
        "kv_lora_rank": kv_lora_rank,
        # deepseek2 GGUFs carry the decoupled RoPE width as rope.dimension_count
        "qk_rope_head_dim": get("rope.dimension_count") if kv_lora_rank else None,
    }
    return {"architecture": arch, "model_type": arch, "context_length": context, "config": config}


def find_tokenizer(directory):
    """Tokenizer files present in ``directory`` (relative names), or [] when there is none."""
    for choice in TOKENIZER_CHOICES:
        if all(os.path.isfile(os.path.join(directory, name)) for name in choice):
            return list(choice)
    return []


def _file_entry(root, rel, role):
    full = os.path.join(root, *rel.split("/"))
    return {"path": rel, "size": os.path.getsize(full), "role": role}


# Long on purpose: checks a sharded safetensors directory in order (index, shards, headers, totals) and collects
# every problem.
def _validate_safetensors_dir(directory, require_tokenizer):
    config_path = os.path.join(directory, CONFIG_NAME)
    if not os.path.isfile(config_path):
        raise WeightsError("%s: config.json is missing" % directory)
    cfg = _read_json(config_path, "config.json")
    if not isinstance(cfg, dict):
        raise WeightsError("%s: config.json is not a JSON object" % config_path)

    warnings = []
    files = [_file_entry(directory, CONFIG_NAME, "config")]
    index_path = os.path.join(directory, INDEX_NAME)
    if os.path.isfile(index_path):
        index = safetensors_format.read_index(index_path)
        weight_map = index["weight_map"]
        shards = sorted(set(weight_map.values()))
        if not shards:
            raise WeightsError("%s: weight_map is empty" % index_path)
        missing = [s for s in shards if not os.path.isfile(os.path.join(directory, s))]
        if missing:
            raise WeightsError("%s: %s named by %s %s missing" % (
                directory, ", ".join(missing), INDEX_NAME, "is" if len(missing) == 1 else "are"))
        headers = dict((s, safetensors_format.read_header(os.path.join(directory, s))) for s in shards)
        absent = {}
        for tensor, shard in sorted(weight_map.items()):
            if tensor not in headers[shard]["tensors"]:
                absent.setdefault(shard, []).append(tensor)
        if absent:
            shard = sorted(absent)[0]
            names = absent[shard]
            more = sum(len(v) for v in absent.values()) - min(len(names), 5)
            raise WeightsError("%s: %d tensor(s) listed in %s are not in this shard: %s%s" % (
                os.path.join(directory, shard), len(names), INDEX_NAME, ", ".join(names[:5]),
                " (and %d more)" % more if more > 0 else ""))
        extra = sorted(t for s, h in headers.items() for t in h["tensors"] if weight_map.get(t) != s)
        if extra:
            warnings.append("%d tensor(s) in the shards are not mapped to them by %s: %s" % (
                len(extra), INDEX_NAME, ", ".join(extra[:5])))
        files.append(_file_entry(directory, INDEX_NAME, "index"))
        weight_files = shards
        total_size = index["metadata"].get("total_size")
        data_bytes = sum(h["data_bytes"] for h in headers.values())
        if isinstance(total_size, int) and not isinstance(total_size, bool) and total_size != data_bytes:
            warnings.append("%s metadata.total_size is %d but the shards hold %d bytes of tensor data" % (
                INDEX_NAME, total_size, data_bytes))
    else:
        candidates = sorted(n for n in os.listdir(directory)
                            if n.endswith(".safetensors") and os.path.isfile(os.path.join(directory, n)))
        if SINGLE_NAME in candidates:
            weight_files = [SINGLE_NAME]
        elif len(candidates) == 1:
            weight_files = candidates
        else:
            raise WeightsError("%s: %d .safetensors files (%s) but no %s" % (
                directory, len(candidates), ", ".join(candidates[:5]), INDEX_NAME))
        headers = dict((s, safetensors_format.read_header(os.path.join(directory, s))) for s in weight_files)

    tokenizer = find_tokenizer(directory)
    if require_tokenizer and not tokenizer:
        raise WeightsError("%s: no tokenizer: expected %s" % (directory, TOKENIZER_DESCRIPTION))
    for name in tokenizer:
        files.append(_file_entry(directory, name, "tokenizer"))
    for name in SUPPORT_FILES:
        if name not in tokenizer and os.path.isfile(os.path.join(directory, name)):
            files.append(_file_entry(directory, name, "other"))
    for entry in files:
        if entry["path"] in JSON_FILES:
            _read_json(os.path.join(directory, entry["path"]), entry["path"])
    for name in weight_files:
        files.append(_file_entry(directory, name, "weights"))

    dtype_elements = {}
    for h in headers.values():
        for dtype, n in h["dtype_elements"].items():
            dtype_elements[dtype] = dtype_elements.get(dtype, 0) + n
    summary = hf_config_summary(cfg)
    qcfg = cfg.get("quantization_config") if isinstance(cfg.get("quantization_config"), dict) else {}
    quant = qcfg.get("quant_method") if isinstance(qcfg.get("quant_method"), str) else None
    result = {
        "format": "safetensors",
        "parameter_count": sum(h["parameter_count"] for h in headers.values()),
        "tensor_count": sum(len(h["tensors"]) for h in headers.values()),
        "dtype": safetensors_format.dominant_dtype(dtype_elements),
        "dtypes": dtype_elements,
        "quantization": quant,
        "size_bytes": sum(os.path.getsize(os.path.join(directory, s)) for s in weight_files),
        "tokenizer": tokenizer,
        "files": files,
        "warnings": warnings,
    }
    result.update(summary)
    return result


def split_gguf_parts(path, count):
    """Paths of all parts of the split GGUF that ``path`` belongs to (``*-00001-of-0000N.gguf``)."""
    directory, name = os.path.split(path)
    m = _SPLIT_RE.match(name)
    if not m or int(m.group("count")) != count:
        raise WeightsError("%s: split.count is %d but the name does not follow <name>-%05d-of-%05d.gguf"
                           % (path, count, 1, count))
    return [os.path.join(directory, "%s-%05d-of-%05d.gguf" % (m.group("prefix"), i, count))
            for i in range(1, count + 1)]


def _validate_gguf(path, require_tokenizer):
    info = gguf_format.read_gguf(path)
    parts = [path]
    infos = [info]
    count = info["metadata"].get("split.count")
    if isinstance(count, int) and count > 1:
        parts = split_gguf_parts(path, count)
        missing = [os.path.basename(p) for p in parts if not os.path.isfile(p)]
        if missing:
            raise WeightsError("%s: split GGUF part(s) %s of %d missing" % (
                os.path.dirname(path) or ".", ", ".join(missing), count))
        infos = [info if p == path else gguf_format.read_gguf(p) for p in parts]
        info = infos[0]
        expected = info["metadata"].get("split.tensors.count")
        found = sum(len(i["tensors"]) for i in infos)
        if isinstance(expected, int) and expected != found:
            raise WeightsError("%s: split.tensors.count is %d but the %d parts hold %d tensors" % (
                parts[0], expected, count, found))
    metadata = info["metadata"]
    if not isinstance(metadata.get("general.architecture"), str):
        raise WeightsError("%s: general.architecture is missing from the GGUF metadata" % parts[0])
    has_tokenizer = "tokenizer.ggml.model" in metadata and "tokenizer.ggml.tokens" in metadata
    if require_tokenizer and not has_tokenizer:
        raise WeightsError("%s: no embedded tokenizer (tokenizer.ggml.model / tokenizer.ggml.tokens missing)" % parts[0])
    type_elements = {}
    for i in infos:
        for t, n in i["type_elements"].items():
            type_elements[t] = type_elements.get(t, 0) + n
    root = os.path.dirname(path)
    result = {
        "format": "gguf",
        "parameter_count": sum(i["parameter_count"] for i in infos),
        "tensor_count": sum(len(i["tensors"]) for i in infos),
        "dtype": gguf_format.dominant_type(type_elements),
        "dtypes": type_elements,
        "quantization": gguf_format.quantization({"metadata": metadata, "type_elements": type_elements}),
        "size_bytes": sum(i["file_size"] for i in infos),
        "tokenizer": ["embedded"] if has_tokenizer else [],
        "files": [{"path": os.path.basename(p), "size": i["file_size"], "role": "weights"} for p, i in zip(parts, infos)],
        "warnings": [],
        "gguf_version": info["version"],
    }
    result.update(gguf_config_summary(metadata))
    return root, result


def _is_gguf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == gguf_format.GGUF_MAGIC
    except (IOError, OSError):
        return False


def _pick_gguf(directory):
    ggufs = sorted(n for n in os.listdir(directory) if n.endswith(".gguf") and os.path.isfile(os.path.join(directory, n)))
    if not ggufs:
        return None
    if len(ggufs) == 1:
        return os.path.join(directory, ggufs[0])
    firsts = [n for n in ggufs if _SPLIT_RE.match(n) and _SPLIT_RE.match(n).group("no") == "00001"]
    if len(firsts) == 1:
        prefix = _SPLIT_RE.match(firsts[0]).group("prefix")
        if all(_SPLIT_RE.match(n) and _SPLIT_RE.match(n).group("prefix") == prefix for n in ggufs):
            return os.path.join(directory, firsts[0])
    raise WeightsError("%s: %d GGUF files (%s): set path to the one to use" % (directory, len(ggufs), ", ".join(ggufs[:5])))


def validate_model(path, manifest=None, checksums=False, require_tokenizer=None, bufsize=None):
    """Validate the model at ``path`` (a directory, or a GGUF file) and describe it.

    ``manifest``: path of a manifest file (see manifest.py), entries relative to the model
    directory (the GGUF file's directory for a file). Sizes are always checked; digests are checked
    for every entry that has one. ``checksums``: also compute the sha256 of every model file and
    report it in ``files``. ``require_tokenizer``: None means required for safetensors (a tokenizer
    file) and not for GGUF; True for GGUF requires the embedded tokenizer.

    Returns ``{"format": "safetensors"|"gguf", "path", "architecture", "model_type",
    "parameter_count", "tensor_count", "dtype", "dtypes": {dtype: elements}, "quantization",
    "size_bytes", "context_length", "config": {...}, "tokenizer": [names], "files": [{"path",
    "size", "role", "sha256"?}], "warnings": [str], "manifest": {"path", "entries", "verified_sha256"}
    or None}``. Raises WeightsError with a message naming the file and the problem.
    """
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(path):
        raise WeightsError("%s: does not exist" % path)
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, INDEX_NAME)) or any(
                n.endswith(".safetensors") for n in os.listdir(path)):
            root = path
            result = _validate_safetensors_dir(path, True if require_tokenizer is None else require_tokenizer)
        else:
            gguf = _pick_gguf(path)
            if gguf is None:
                if os.path.isfile(os.path.join(path, "consolidated.00.pth")) or any(n.endswith(".bin") for n in os.listdir(path)):
                    raise WeightsError("%s: no .safetensors or .gguf weights (only PyTorch .bin/.pth, which are not supported)" % path)
                raise WeightsError("%s: no model weights: expected %s, %s or a .gguf file" % (path, SINGLE_NAME, INDEX_NAME))
            root, result = _validate_gguf(gguf, bool(require_tokenizer))
    elif path.endswith(".gguf") or _is_gguf(path):
        root, result = _validate_gguf(path, bool(require_tokenizer))
    elif path.endswith(".safetensors"):
        raise WeightsError("%s: a single .safetensors file is not a model: set path to its directory" % path)
    else:
        raise WeightsError("%s: neither a model directory nor a GGUF file" % path)
    result["path"] = path
    result["manifest"] = None

    hashed = {}
    if manifest:
        entries = manifest_mod.load_manifest(manifest)
        results = manifest_mod.verify_manifest(root, entries, hash_files=True, bufsize=bufsize)
        manifest_mod.raise_for_problems(results, root)
        for r in results:
            if r["sha256"]:
                hashed[r["path"]] = r["sha256"]
        listed = set(e["path"] for e in entries)
        unlisted = [f["path"] for f in result["files"] if f["path"] not in listed]
        if unlisted:
            result["warnings"].append("not covered by manifest %s: %s" % (manifest, ", ".join(unlisted)))
        result["manifest"] = {"path": manifest, "entries": len(entries), "verified_sha256": len(hashed)}
    for f in result["files"]:
        if f["path"] not in hashed and checksums:
            hashed[f["path"]] = manifest_mod.sha256_file(os.path.join(root, *f["path"].split("/")), bufsize)
        if f["path"] in hashed:
            f["sha256"] = hashed[f["path"]]
    return result

# -*- coding: utf-8 -*-
# Copyright: onprem.llm maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Does a model fit the GPUs of a host? Pure arithmetic, no I/O.

The model is the vLLM memory picture, per GPU, at tensor-parallel size ``tp``::

    gpu_memory_bytes * gpu_memory_utilization
        >= weights_bytes / tp + PER_GPU_OVERHEAD_BYTES + kv_cache_bytes_per_gpu

* ``weights_bytes = parameter_count * bits_per_weight / 8`` (``BITS_PER_WEIGHT``).
* KV cache per token, whole model: ``2 * layers * kv_heads * head_dim * kv_bytes`` (K and V);
  per GPU the KV heads are split ``tp`` ways but never below one head per GPU (vLLM replicates
  KV heads when ``tp > kv_heads``).
  MLA (DeepSeek V2/V3): ``layers * (kv_lora_rank + qk_rope_head_dim) * kv_bytes``, and the latent
  cache is replicated on every TP rank (not split).
* ``PER_GPU_OVERHEAD_BYTES`` (2 GiB) stands for what vLLM keeps besides weights and KV cache: the
  CUDA context and NCCL buffers, CUDA graphs and the activation peak of the profiling run. vLLM's
  own figure varies with version, ``max_num_seqs`` and ``max_num_batched_tokens``; 2 GiB is on the
  safe side for the defaults on 24-80 GiB GPUs.
* Heterogeneous GPUs: the smallest one decides (tensor parallelism shards evenly). MIG is ignored.
* Gemma 2's sliding-window layers are sized as full-attention layers (conservative).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

MIB = 1024 ** 2
GIB = 1024 ** 3

DEFAULT_GPU_MEMORY_UTILIZATION = 0.9
PER_GPU_OVERHEAD_BYTES = 2 * GIB
# Without an explicit max_model_len, a plan must leave KV-cache room for at least one sequence of
# this many tokens (or the model's whole context when that is shorter).
DEFAULT_MIN_CONTEXT = 4096
TP_SIZES = (1, 2, 4, 8)
# Beyond one node: tensor parallel 8 inside a node x pipeline parallel across nodes.
MULTI_NODE_GPU_COUNTS = (16, 32, 64)
# max_model_len proposals are rounded down to this many tokens (when below the model's maximum).
CONTEXT_GRANULARITY = 256

# Effective bits per weight, whole checkpoint. 4-bit AWQ/GPTQ: 4 bits + group-128 scales/zeros
# (~0.25) + embeddings and lm_head left in 16 bit (~0.25 on 8B-70B models): ~4.5, which puts
# Llama-3.1-70B at ~40 GB, as the published AWQ-INT4 repos are. GGUF figures are llama.cpp's.
BITS_PER_WEIGHT = {
    "fp32": 32.0,
    "bf16": 16.0,
    "fp16": 16.0,
    "fp8": 8.0,
    "int8": 8.0,
    "awq": 4.5,
    "gptq": 4.5,
    "int4": 4.5,
    "gguf_q8_0": 8.5,
    "gguf_q6_k": 6.56,
    "gguf_q5_k_m": 5.69,
    "gguf_q4_k_m": 4.85,
    "gguf_q4_0": 4.55,
}

_DTYPE_ALIASES = {
    # safetensors header dtypes, as model_validate reports them (F32, F16, BF16, F8_E4M3, I8).
    "f32": "fp32",
    "f8_e4m3": "fp8",
    "f8_e5m2": "fp8",
    "i8": "int8",
    # GGUF general.file_type names for unquantized files.
    "all_f32": "fp32",
    "mostly_f16": "fp16",
    "mostly_bf16": "bf16",
    "float32": "fp32",
    "float": "fp32",
    "bfloat16": "bf16",
    "float16": "fp16",
    "half": "fp16",
    "f16": "fp16",
    "fp8_e4m3": "fp8",
    "fp8_e5m2": "fp8",
    "float8_e4m3fn": "fp8",
    "float8": "fp8",
    "e4m3": "fp8",
    "awq_marlin": "awq",
    "awq-int4": "awq",
    "gptq_marlin": "gptq",
    "gptq-int4": "gptq",
    "w4a16": "int4",
    "w8a8": "int8",
    "w8a16": "int8",
    "bitsandbytes-8bit": "int8",
    "q8_0": "gguf_q8_0",
    "q6_k": "gguf_q6_k",
    "q5_k_m": "gguf_q5_k_m",
    "q4_k_m": "gguf_q4_k_m",
    "q4_0": "gguf_q4_0",
}

_KV_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4, "fp8": 1}

_LABELS = {
    "fp32": "fp32",
    "bf16": "bf16",
    "fp16": "fp16",
    "fp8": "FP8",
    "int8": "INT8",
    "awq": "AWQ 4-bit",
    "gptq": "GPTQ 4-bit",
    "int4": "4-bit",
    "gguf_q8_0": "GGUF Q8_0",
    "gguf_q6_k": "GGUF Q6_K",
    "gguf_q5_k_m": "GGUF Q5_K_M",
    "gguf_q4_k_m": "GGUF Q4_K_M",
    "gguf_q4_0": "GGUF Q4_0",
}


class SizingError(ValueError):
    """Bad input to the sizing functions; the text names the field."""


def normalize_dtype(value):
    """Canonical weight dtype/quantization name (a key of BITS_PER_WEIGHT)."""
    if not isinstance(value, str) or not value.strip():
        raise SizingError("dtype must be a non-empty string such as bf16, fp8, awq or gguf_q4_k_m; got %r" % (value,))
    key = value.strip().lower().replace(" ", "")
    key = key[6:] if key.startswith("torch.") else key
    key = _DTYPE_ALIASES.get(key, key)
    if key.startswith("gguf") and key not in BITS_PER_WEIGHT:
        key = _DTYPE_ALIASES.get(key[5:], key)
    if key not in BITS_PER_WEIGHT:
        raise SizingError(
            "unknown dtype/quantization %r; known: %s" % (value, ", ".join(sorted(BITS_PER_WEIGHT)))
        )
    return key


def dtype_label(dtype):
    return _LABELS.get(dtype, dtype)


def weights_bytes(parameter_count, dtype):
    """Bytes the weights take in ``dtype`` (canonical or alias)."""
    return int(parameter_count * BITS_PER_WEIGHT[normalize_dtype(dtype)] / 8)


def kv_dtype_bytes(kv_cache_dtype, weight_dtype):
    """Bytes per KV element: ``auto`` follows the weights (16 bit for quantized weights)."""
    if kv_cache_dtype in (None, "", "auto"):
        dtype = normalize_dtype(weight_dtype)
        return 4 if dtype == "fp32" else 2
    key = normalize_dtype(kv_cache_dtype)
    if key not in _KV_BYTES:
        raise SizingError("kv_cache_dtype must be auto, bf16, fp16, fp32 or fp8; got %r" % (kv_cache_dtype,))
    return _KV_BYTES[key]


def _positive_int(config, key, where="config"):
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SizingError("%s.%s must be a positive integer; got %r" % (where, key, value))
    return value


def is_mla(config):
    return config.get("attention") == "mla" or config.get("kv_lora_rank") not in (None, 0)


def check_config(config):
    """Validate the architecture numbers sizing needs; returns the dict unchanged."""
    if not isinstance(config, dict):
        raise SizingError("config must be a mapping with num_hidden_layers, num_attention_heads, "
                          "num_key_value_heads and head_dim; got %r" % (type(config).__name__,))
    _positive_int(config, "num_hidden_layers")
    heads = _positive_int(config, "num_attention_heads")
    if is_mla(config):
        _positive_int(config, "kv_lora_rank")
        _positive_int(config, "qk_rope_head_dim")
    else:
        kv_heads = _positive_int(config, "num_key_value_heads")
        if config.get("head_dim") is None and config.get("hidden_size"):
            hidden = _positive_int(config, "hidden_size")
            if hidden % heads:
                raise SizingError("config.head_dim is missing and hidden_size %d is not divisible by "
                                  "num_attention_heads %d" % (hidden, heads))
        else:
            _positive_int(config, "head_dim")
        if heads % kv_heads:
            raise SizingError("config.num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)"
                              % (heads, kv_heads))
    return config


def _head_dim(config):
    if config.get("head_dim"):
        return config["head_dim"]
    return config["hidden_size"] // config["num_attention_heads"]


def kv_bytes_per_token(config, kv_bytes=2):
    """KV-cache bytes one token takes across the whole model (all layers, all GPUs together)."""
    check_config(config)
    layers = config["num_hidden_layers"]
    if is_mla(config):
        return layers * (config["kv_lora_rank"] + config["qk_rope_head_dim"]) * kv_bytes
    return 2 * layers * config["num_key_value_heads"] * _head_dim(config) * kv_bytes


def kv_bytes_per_token_per_gpu(config, tp, kv_bytes=2, pp=1):
    """KV-cache bytes one token takes on one GPU at tensor-parallel ``tp`` x pipeline ``pp``."""
    check_config(config)
    layers = int(math.ceil(config["num_hidden_layers"] / float(pp)))
    if is_mla(config):
        return layers * (config["kv_lora_rank"] + config["qk_rope_head_dim"]) * kv_bytes
    kv_heads = max(1, int(math.ceil(config["num_key_value_heads"] / float(tp))))
    return 2 * layers * kv_heads * _head_dim(config) * kv_bytes


def tp_allowed(config, tp):
    """vLLM's rule: tp divides the attention heads, and KV heads split or replicate evenly."""
    heads = config["num_attention_heads"]
    if heads % tp:
        return False
    if is_mla(config):
        return True
    kv_heads = config["num_key_value_heads"]
    return kv_heads % tp == 0 if tp <= kv_heads else tp % kv_heads == 0


def normalize_gpus(gpu_facts):
    """List of per-GPU memory in MiB from ``ansible_facts.onprem_gpu`` (or a list of GPUs/ints)."""
    if gpu_facts is None:
        return []
    gpus = gpu_facts
    if isinstance(gpu_facts, dict):
        if "gpus" not in gpu_facts:
            raise SizingError("GPU facts must have a 'gpus' list (ansible_facts.onprem_gpu); got keys %s"
                              % (sorted(gpu_facts),))
        gpus = gpu_facts["gpus"] or []
    if not isinstance(gpus, (list, tuple)):
        raise SizingError("GPU facts 'gpus' must be a list; got %r" % (type(gpus).__name__,))
    out = []
    for index, gpu in enumerate(gpus):
        mib = gpu.get("memory_mib") if isinstance(gpu, dict) else gpu
        if isinstance(mib, str) and mib.strip().isdigit():
            mib = int(mib)
        if isinstance(mib, bool) or not isinstance(mib, (int, float)) or mib <= 0:
            raise SizingError("gpus[%d].memory_mib must be a positive number; got %r" % (index, mib))
        out.append(int(mib))
    return out


def normalize_model(model):
    """Check a model description and return the shape the planner uses.

    Accepts the ``model_validate`` result shape (parameter_count, dtype or quantization,
    context_length, config) or a catalog entry (same keys, plus display_name/hf_repo/quantized).
    """
    if not isinstance(model, dict):
        raise SizingError("model must be a mapping; got %r" % (type(model).__name__,))
    params = model.get("parameter_count")
    if isinstance(params, bool) or not isinstance(params, (int, float)) or params <= 0:
        raise SizingError("model.parameter_count must be a positive number; got %r" % (params,))
    dtype = model.get("quantization") or model.get("dtype")
    if not dtype:
        raise SizingError("model needs dtype (bf16, fp8 ...) or quantization (awq, gptq, gguf_q4_k_m ...)")
    config = model.get("config")
    check_config(config)
    context = model.get("context_length") or model.get("max_position_embeddings") or config.get(
        "max_position_embeddings")
    if isinstance(context, bool) or not isinstance(context, int) or context <= 0:
        raise SizingError("model.context_length must be a positive integer; got %r" % (context,))
    name = (model.get("display_name") or model.get("name") or model.get("hf_repo")
            or model.get("repo_id") or "the model")
    return {
        "name": name,
        "parameter_count": int(params),
        "dtype": normalize_dtype(dtype),
        "context_length": context,
        "config": config,
        "quantized": list(model.get("quantized") or []),
        "ollama": list(model.get("ollama") or []),
    }


def _gib(value):
    return value / float(GIB)


def _fmt_gib(value):
    gib = _gib(value)
    return "%.0f" % gib if gib >= 10 else "%.1f" % gib


def _fmt_gpu(mib):
    gib = mib / 1024.0
    return "%.0f" % gib if abs(gib - round(gib)) < 0.05 or gib >= 10 else "%.1f" % gib


def _tokens_that_fit(weights, config, tp, pp, gpu_bytes, util, overhead, kv_bytes):
    room = gpu_bytes * util - overhead - weights / float(tp * pp)
    if room <= 0:
        return 0
    return int(room // kv_bytes_per_token_per_gpu(config, tp, kv_bytes, pp))


def _round_context(tokens, cap):
    if tokens >= cap:
        return cap
    if tokens >= CONTEXT_GRANULARITY:
        return tokens - tokens % CONTEXT_GRANULARITY
    return tokens


def _best_single_node(weights, config, gpu_bytes, gpu_count, util, overhead, kv_bytes, required):
    """(tp, tokens) for the smallest allowed tp <= gpu_count that holds ``required`` tokens."""
    for tp in TP_SIZES:
        if tp > gpu_count or not tp_allowed(config, tp):
            continue
        tokens = _tokens_that_fit(weights, config, tp, 1, gpu_bytes, util, overhead, kv_bytes)
        if tokens >= required:
            return tp, tokens
    return None, 0


def gpus_needed(weights, config, gpu_bytes, util, overhead, kv_bytes, required):
    """Smallest GPU count of this size that would hold the model (multi-node past 8), or None."""
    tp, _tokens = _best_single_node(weights, config, gpu_bytes, max(TP_SIZES), util, overhead, kv_bytes, required)
    if tp:
        return tp
    for count in MULTI_NODE_GPU_COUNTS:
        pp = count // 8
        if not tp_allowed(config, 8):
            return None
        if _tokens_that_fit(weights, config, 8, pp, gpu_bytes, util, overhead, kv_bytes) >= required:
            return count
    return None


def _variant_repo(model, dtype):
    for variant in model["quantized"]:
        method = variant.get("method")
        try:
            canonical = normalize_dtype(method)
        except SizingError:
            continue
        if canonical == dtype or (dtype == "int4" and canonical in ("awq", "gptq")):
            return variant.get("hf_repo")
    return None


# Long on purpose: the fit decision in the order docs/model-selection.md explains it (weights, KV cache, overhead,
# context), returning the numbers the message shows.
def plan(model, gpu_facts, gpu_memory_utilization=DEFAULT_GPU_MEMORY_UTILIZATION, dtype=None,
         max_model_len=None, min_context=DEFAULT_MIN_CONTEXT, kv_cache_dtype="auto",
         overhead_bytes=PER_GPU_OVERHEAD_BYTES, host_memory_mib=None, suggest=True):
    """Decide whether ``model`` fits the GPUs in ``gpu_facts``; see module docstring for the model.

    Returns a dict: fits, tensor_parallel_size, weights_bytes, kv_bytes_per_token, max_model_len,
    gpus_needed, message, plus dtype, gpu_count, gpu_memory_mib (smallest GPU) and kv_cache_tokens
    (tokens the KV cache holds at the chosen tensor_parallel_size).
    """
    spec = normalize_model(model)
    if dtype:
        spec["dtype"] = normalize_dtype(dtype)
    util = gpu_memory_utilization
    if isinstance(util, bool) or not isinstance(util, (int, float)) or not 0 < util <= 1:
        raise SizingError("gpu_memory_utilization must be a number in (0, 1]; got %r" % (util,))
    context = spec["context_length"]
    if max_model_len is not None:
        if isinstance(max_model_len, bool) or not isinstance(max_model_len, int) or max_model_len <= 0:
            raise SizingError("max_model_len must be a positive integer; got %r" % (max_model_len,))
        if max_model_len > context:
            raise SizingError("max_model_len %d is longer than %s supports (%d tokens)"
                              % (max_model_len, spec["name"], context))
        required = max_model_len
    else:
        if isinstance(min_context, bool) or not isinstance(min_context, int) or min_context <= 0:
            raise SizingError("min_context must be a positive integer; got %r" % (min_context,))
        required = min(min_context, context)
    gpus = normalize_gpus(gpu_facts)
    config = spec["config"]
    kv_bytes = kv_dtype_bytes(kv_cache_dtype, spec["dtype"])
    weights = weights_bytes(spec["parameter_count"], spec["dtype"])
    result = {
        "fits": False,
        "tensor_parallel_size": None,
        "weights_bytes": weights,
        "kv_bytes_per_token": kv_bytes_per_token(config, kv_bytes),
        "max_model_len": None,
        "gpus_needed": None,
        "message": "",
        "dtype": spec["dtype"],
        "gpu_count": len(gpus),
        "gpu_memory_mib": min(gpus) if gpus else 0,
        "kv_cache_tokens": 0,
    }
    what = "%s in %s needs ~%s GiB for weights" % (spec["name"], dtype_label(spec["dtype"]), _fmt_gib(weights))
    if not gpus:
        result["message"] = _no_gpu_message(spec, what, host_memory_mib)
        return result

    gpu_mib = min(gpus)
    gpu_bytes = gpu_mib * MIB
    tp, tokens = _best_single_node(weights, config, gpu_bytes, len(gpus), util, overhead_bytes, kv_bytes, required)
    needed = gpus_needed(weights, config, gpu_bytes, util, overhead_bytes, kv_bytes, required)
    result["gpus_needed"] = needed
    host = "%d x %s GiB GPU%s" % (len(gpus), _fmt_gpu(gpu_mib), "" if len(gpus) == 1 else "s")
    if len(set(gpus)) > 1:
        host += " (sized by the smallest)"
    usable = "%s GiB usable per GPU at gpu_memory_utilization %s" % (_fmt_gib(gpu_bytes * util), util)
    if tp:
        fit_len = max_model_len if max_model_len is not None else _round_context(tokens, context)
        result.update(fits=True, tensor_parallel_size=tp, max_model_len=fit_len, kv_cache_tokens=tokens)
        result["message"] = (
            "%s in %s fits on %s: tensor_parallel_size %d, ~%s GiB of weights per GPU, "
            "KV cache for ~%d tokens, max_model_len %d."
            % (spec["name"], dtype_label(spec["dtype"]), host, tp, _fmt_gib(weights / float(tp)), tokens, fit_len))
        return result

    advice = []
    # Weights fit but the KV cache is too small for the requested/minimum context?
    short = _best_single_node(weights, config, gpu_bytes, len(gpus), util, overhead_bytes, kv_bytes, 1)
    if short[0]:
        advice.append("lower max_model_len to %d (what fits at tensor_parallel_size %d)"
                      % (_round_context(short[1], context), short[0]))
        if kv_bytes > 1:
            advice.append("set kv_cache_dtype fp8 (halves the KV cache)")
    if needed and needed > len(gpus):
        if needed <= max(TP_SIZES):
            advice.append("use %d GPUs of this size (tensor_parallel_size %d)" % (needed, needed))
        else:
            advice.append("use %d GPUs of this size across %d nodes (tensor_parallel_size 8 x "
                          "pipeline_parallel_size %d)" % (needed, needed // 8, needed // 8))
    if suggest:
        advice.extend(_cheaper_variants(spec, gpus, util, max_model_len, min_context, kv_cache_dtype,
                                        overhead_bytes))
    if not advice:
        advice.append("pick a smaller model")
    result["message"] = "%s; this host has %s (%s): %s." % (what, host, usable, ", or ".join(advice))
    return result


def _cheaper_variants(spec, gpus, util, max_model_len, min_context, kv_cache_dtype, overhead):
    out = []
    current_bits = BITS_PER_WEIGHT[spec["dtype"]]
    for alt in ("fp8", "int4"):
        if BITS_PER_WEIGHT[alt] >= current_bits:
            continue
        alt_model = dict(spec, dtype=alt, display_name=spec["name"])
        alt_plan = plan(alt_model, gpus, util, alt, max_model_len, min_context, kv_cache_dtype, overhead,
                        suggest=False)
        repo = _variant_repo(spec, alt)
        kind = "an FP8 variant" if alt == "fp8" else "an AWQ/GPTQ 4-bit variant"
        size = "~%s GiB" % _fmt_gib(alt_plan["weights_bytes"])
        if repo:
            size += ", e.g. %s" % repo
        elif alt == "fp8":
            size += ", or vLLM --quantization fp8 on the fly"
        if alt_plan["fits"]:
            count = alt_plan["tensor_parallel_size"]
            out.append("%s (%s) on %s GPU%s" % (kind, size, count, "" if count == 1 else "s"))
        elif alt_plan["gpus_needed"]:
            out.append("%s (%s) on %s GPUs" % (kind, size, alt_plan["gpus_needed"]))
    return out


def _no_gpu_message(spec, what, host_memory_mib):
    gguf = weights_bytes(spec["parameter_count"], "gguf_q4_k_m")
    tag = " (Ollama %s)" % spec["ollama"][0] if spec["ollama"] else ""
    text = ("%s; this host reports no GPU in ansible_facts.onprem_gpu, so it cannot be served by vLLM "
            "on GPU here. CPU inference with a GGUF Q4_K_M build%s needs ~%s GiB of RAM plus the KV cache"
            % (what, tag, _fmt_gib(gguf)))
    if host_memory_mib:
        ram = host_memory_mib * MIB
        text += "; this host has %s GiB RAM, %s" % (
            _fmt_gib(ram), "enough for that" if ram * 0.9 > gguf + 2 * GIB else "not enough for that")
    return text + "."

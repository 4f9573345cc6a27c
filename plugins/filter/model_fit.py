# -*- coding: utf-8 -*-
# Copyright: onprem.llm maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter onprem.llm.model_fit."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: model_fit
short_description: Tell whether a model fits the GPUs of a host, and with which tensor-parallel size
version_added: 0.1.0
author: onprem.llm contributors (@onprem-llm)
description:
  - Sizes the weights and the KV cache of a model against the GPUs in C(ansible_facts.onprem_gpu)
    the way vLLM lays them out, and returns whether it fits, the smallest tensor-parallel size that
    fits, the longest context that fits there, and a message a person can act on.
  - Per GPU it needs C(memory * gpu_memory_utilization >= weights / tp + 2 GiB overhead + KV cache).
    The 2 GiB stand for the CUDA context, CUDA graphs and the activation peak. With GPUs of
    different sizes the smallest one decides. MIG slices are not considered.
  - Weight sizes use effective bits per weight - bf16/fp16 16, fp8/int8 8, AWQ/GPTQ 4-bit 4.5,
    GGUF Q4_K_M 4.85. The KV cache per token is C(2 x layers x kv_heads x head_dim x bytes); for
    MLA models (DeepSeek) it is C(layers x [kv_lora_rank + qk_rope_head_dim] x bytes).
  - Catalog models are read from C(data/models.yml) in this collection, on the controller.
  - The estimate is deliberately conservative; vLLM's own profiling at start-up has the last word.
positional: _input, gpus
options:
  _input:
    description:
      - A catalog name such as V(llama-3.1-70b-instruct) (an C(hf_repo) or Ollama tag of a catalog
        entry also works), or a mapping shaped like the result of the C(onprem.llm.model_validate) module with
        C(parameter_count), C(dtype) or C(quantization), C(context_length) and C(config)
        (C(num_hidden_layers), C(num_attention_heads), C(num_key_value_heads), C(head_dim),
        C(hidden_size); C(kv_lora_rank) and C(qk_rope_head_dim) for MLA models).
    type: raw
    required: true
  gpus:
    description:
      - The GPU facts, normally C(ansible_facts.onprem_gpu) (a mapping with a C(gpus) list whose
        items have C(memory_mib)). A plain list of such items or of MiB numbers also works.
      - No GPUs (empty list, V(null)) gives C(fits=false) and advice for CPU inference.
    type: raw
    required: true
  gpu_memory_utilization:
    description: Share of each GPU's memory vLLM may use, as its C(--gpu-memory-utilization).
    type: float
    default: 0.9
  dtype:
    description:
      - Weight dtype or quantization to size for, overriding the model's own, for example V(bf16),
        V(fp8), V(awq), V(gptq), V(int8), V(gguf_q4_k_m).
    type: str
  max_model_len:
    description:
      - Context length that must fit (one full sequence in the KV cache). Without it the filter
        requires O(min_context) tokens and proposes the longest context that fits.
    type: int
  min_context:
    description: Tokens of KV cache a plan must leave room for when O(max_model_len) is not given.
    type: int
    default: 4096
  kv_cache_dtype:
    description: KV-cache element type, as vLLM's C(--kv-cache-dtype); V(auto) follows the weights.
    type: str
    default: auto
    choices: [auto, bf16, fp16, fp8]
  host_memory_mib:
    description: Host RAM in MiB (for example C(ansible_facts.memtotal_mb)); used only to advise on CPU inference without GPUs.
    type: int
"""

EXAMPLES = r"""
- name: Check that the model fits before starting vLLM
  ansible.builtin.assert:
    that: __fit.fits
    fail_msg: "{{ __fit.message }}"
  vars:
    __fit: "{{ 'llama-3.1-70b-instruct' | onprem.llm.model_fit(ansible_facts.onprem_gpu) }}"

- name: Size a model whose metadata model_validate returned, at 32k context
  ansible.builtin.set_fact:
    vllm_tensor_parallel_size: "{{ __fit.tensor_parallel_size }}"
  vars:
    __fit: >-
      {{ model_validate_result | onprem.llm.model_fit(ansible_facts.onprem_gpu,
         gpu_memory_utilization=0.92, max_model_len=32768) }}

- name: Would a 4-bit variant fit?
  ansible.builtin.debug:
    msg: "{{ ('qwen2.5-72b-instruct' | onprem.llm.model_fit(ansible_facts.onprem_gpu, dtype='awq')).message }}"
"""

RETURN = r"""
_value:
  description: The sizing verdict.
  type: dict
  contains:
    fits:
      description: Whether the model fits on this host's GPUs at some tensor-parallel size.
      type: bool
    tensor_parallel_size:
      description: Smallest of 1, 2, 4, 8 that fits (divides the attention heads, at most the GPU count); null when it does not fit.
      type: int
    weights_bytes:
      description: Bytes of weights in the sized dtype.
      type: int
    kv_bytes_per_token:
      description: KV-cache bytes per token for the whole model (all layers, all GPUs together).
      type: int
    max_model_len:
      description: O(max_model_len) when given, else the longest context that fits, capped by the model's; null when it does not fit.
      type: int
    gpus_needed:
      description: GPUs of this host's (smallest) size the model needs, more than 8 meaning several nodes; null without GPUs or when even 64 are not enough.
      type: int
    message:
      description: One sentence for a person, with what to change when it does not fit.
      type: str
    dtype:
      description: The canonical dtype that was sized.
      type: str
    gpu_count:
      description: GPUs found in the facts.
      type: int
    gpu_memory_mib:
      description: Memory of the smallest GPU, in MiB.
      type: int
    kv_cache_tokens:
      description: Tokens the KV cache holds at O(tensor_parallel_size) (0 when it does not fit).
      type: int
"""

from pathlib import Path

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.onprem.llm.plugins.module_utils.weights.catalog import (
    CatalogError,
    catalog_entry,
    load_catalog_cached,
)
from ansible_collections.onprem.llm.plugins.module_utils.weights.sizing import (
    DEFAULT_GPU_MEMORY_UTILIZATION,
    DEFAULT_MIN_CONTEXT,
    SizingError,
    plan,
)

# plugins/filter/model_fit.py -> collection root -> data/models.yml
CATALOG_PATH = Path(__file__).resolve().parents[2] / "data" / "models.yml"


def model_fit(model, gpus, gpu_memory_utilization=DEFAULT_GPU_MEMORY_UTILIZATION, dtype=None,
              max_model_len=None, min_context=DEFAULT_MIN_CONTEXT, kv_cache_dtype="auto",
              host_memory_mib=None, catalog_path=None):
    """See DOCUMENTATION."""
    try:
        if isinstance(model, str):
            model = catalog_entry(load_catalog_cached(catalog_path or CATALOG_PATH), model)
        elif not isinstance(model, dict):
            raise SizingError("the input must be a catalog model name or a mapping of model metadata; got %s"
                              % type(model).__name__)
        return plan(
            model,
            gpus,
            gpu_memory_utilization=_number(gpu_memory_utilization, "gpu_memory_utilization", float),
            dtype=dtype or None,
            max_model_len=_number(max_model_len, "max_model_len", int),
            min_context=_number(min_context, "min_context", int),
            kv_cache_dtype=kv_cache_dtype or "auto",
            host_memory_mib=_number(host_memory_mib, "host_memory_mib", int),
        )
    except (SizingError, CatalogError) as exc:
        raise AnsibleFilterError("onprem.llm.model_fit: %s" % to_native(exc))


def _number(value, name, kind):
    """Templated values arrive as strings ("0.9", "32768"); convert, naming the option on failure."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise SizingError("%s must be a number; got %r" % (name, value))
    if isinstance(value, (int, float)) and not (kind is int and isinstance(value, float)):
        return value
    try:
        return kind(str(value).strip())
    except ValueError:
        raise SizingError("%s must be %s; got %r" % (name, "an integer" if kind is int else "a number", value))


class FilterModule(object):
    def filters(self):
        return {
            "model_fit": model_fit,
        }

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: model_validate
short_description: Check that model weights on disk are complete and describe them
version_added: 0.1.0
description:
  - Validates a Hugging Face model directory (safetensors, single file or sharded with
    C(model.safetensors.index.json)) or a GGUF file (single or split C(*-00001-of-0000N.gguf)), and
    reports what serving it needs to know - format, architecture, exact parameter count, dtype or
    quantization, context length and the numbers that size the KV cache.
  - Reads file headers only, so a 140 GB model is checked in well under a second. File data is read
    only to compute sha256 digests, when O(manifest) carries digests or O(checksums=true).
  - Fails, naming the file and the problem, on a missing shard, a truncated or corrupt safetensors
    header (header longer than the file, JSON that does not parse, offsets past the end of the
    file, overlapping or non-contiguous tensor data, dtype and shape not matching the byte range),
    a tensor that the index maps to a shard which does not contain it, a GGUF with a bad magic, an
    unsupported version or tensor data that runs past the end of the file, a missing C(config.json)
    or tokenizer, and a size or sha256 that differs from the manifest.
  - Parses both formats with the Python standard library; the target node needs neither the
    C(safetensors) nor the C(gguf) package.
  - This module never changes anything; RV(ignore:changed) is always V(false).
author:
  - onprem.llm contributors (@onprem-llm)
options:
  path:
    description:
      - A model directory, or a GGUF file.
      - A directory with C(model.safetensors.index.json), C(model.safetensors) or one other
        C(.safetensors) file is checked as a Hugging Face checkpoint. A directory with no
        safetensors but one GGUF file (or the parts of one split GGUF) is checked as GGUF.
      - For a split GGUF give any part; all parts are checked.
    type: path
    required: true
  manifest:
    description:
      - A manifest of the model's files, relative to the model directory (for a GGUF file, to the
        directory that holds it).
      - >-
        JSON C({"files": [{"path": ..., "size": ..., "sha256": ...}]}) where C(size) and C(sha256)
        are each optional, or C(sha256sum) output (C(<sha256>  <path>) lines, or the BSD form that
        C(sha256sum --tag) writes).
      - Every listed file must exist with the listed size; every listed sha256 is verified, which
        reads those files in full. All mismatches are reported together.
      - Model files the manifest does not list are reported as warnings.
    type: path
  checksums:
    description:
      - Compute the sha256 of every model file and return it in RV(files), whether or not a
        manifest lists it. Reads every file in full.
      - Digests listed in O(manifest) are verified regardless of this option.
    type: bool
    default: false
  require_tokenizer:
    description:
      - For safetensors directories, require a tokenizer file (C(tokenizer.json),
        C(tokenizer.model), C(tekken.json), C(vocab.json) with C(merges.txt), or C(vocab.txt)).
        Unset means V(true).
      - For GGUF, require the embedded tokenizer (C(tokenizer.ggml.model) and
        C(tokenizer.ggml.tokens)). Unset means V(false).
    type: bool
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode runs the same checks and returns the same result.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
  platform:
    support: full
    platforms: posix
    description: Runs on the node that holds the files; needs only the Python standard library.
notes:
  - C(parameter_count) is the sum of the element counts of all tensors as stored. For checkpoints
    quantized by packing several values into one integer (GPTQ, AWQ) it counts the packed elements.
  - C(size_bytes) is the size of the weight files (shards or GGUF parts), not of the whole directory.
seealso:
  - name: safetensors format
    description: Header layout checked by this module.
    link: https://huggingface.co/docs/safetensors/index
  - name: GGUF format
    description: GGUF specification in the ggml repository.
    link: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

EXAMPLES = r"""
- name: Check the downloaded checkpoint before starting vLLM
  onprem.llm.model_validate:
    path: /srv/models/meta-llama/Llama-3.1-8B-Instruct
  register: model

- name: Show what will be served
  ansible.builtin.debug:
    msg: >-
      {{ model.architecture }} {{ model.parameter_count }} params {{ model.dtype }},
      context {{ model.context_length }}, {{ model.config.num_key_value_heads }} KV heads

- name: Verify a GGUF against the digests recorded at download time
  onprem.llm.model_validate:
    path: /srv/models/qwen2.5-7b-instruct-q4_k_m.gguf
    manifest: /srv/models/qwen2.5-7b-instruct-q4_k_m.manifest.json

- name: Record the sha256 of every file of an air-gapped copy
  onprem.llm.model_validate:
    path: /srv/models/mistral-7b
    checksums: true
  register: model_sums
"""

RETURN = r"""
model_path:
  description:
    - The absolute path that was validated (named so because a C(path) key would make Ansible add
      file attributes such as C(size) and C(owner) to the result).
  returned: success
  type: str
  sample: /srv/models/meta-llama/Llama-3.1-8B-Instruct
format:
  description: The weight format.
  returned: success
  type: str
  choices: [safetensors, gguf]
  sample: safetensors
architecture:
  description: C(architectures[0]) from C(config.json) (else C(model_type)), or GGUF C(general.architecture).
  returned: success
  type: str
  sample: LlamaForCausalLM
model_type:
  description: C(model_type) from C(config.json), or GGUF C(general.architecture).
  returned: success
  type: str
  sample: llama
parameter_count:
  description: Exact number of elements over all tensors, from the headers.
  returned: success
  type: int
  sample: 8030261248
tensor_count:
  description: Number of tensors over all files.
  returned: success
  type: int
  sample: 291
dtype:
  description:
    - The dtype holding the most elements (safetensors names such as C(BF16), C(F8_E4M3); GGML type
      names such as C(Q4_K) for GGUF).
  returned: success
  type: str
  sample: BF16
dtypes:
  description: Elements per dtype (safetensors) or per GGML tensor type (GGUF).
  returned: success
  type: dict
  sample: {"BF16": 8030261248}
quantization:
  description:
    - GGUF C(general.file_type) as its llama.cpp name (C(Q4_K_M), C(Q8_0), C(F16) ...), or, without
      it, the dominant tensor type.
    - For safetensors, C(quantization_config.quant_method) from C(config.json) (C(fp8), C(awq),
      C(gptq) ...) or null.
  returned: success
  type: str
  sample: Q4_K_M
size_bytes:
  description: Total size of the weight files (shards or GGUF parts).
  returned: success
  type: int
  sample: 16060556376
context_length:
  description: C(max_position_embeddings) from C(config.json), or GGUF C(<arch>.context_length).
  returned: success
  type: int
  sample: 131072
config:
  description:
    - Architecture numbers for KV-cache sizing. A value is null when the model does not say.
    - The keys are the ones the collection's KV-cache sizing reads.
    - From C(config.json) (or its C(text_config)); for GGUF from C(<arch>.block_count),
      C(<arch>.attention.head_count), C(<arch>.attention.head_count_kv),
      C(<arch>.embedding_length), C(<arch>.attention.key_length) and C(value_length).
  returned: success
  type: dict
  contains:
    num_hidden_layers:
      description: Transformer blocks.
      type: int
    num_attention_heads:
      description: Query heads (a list per layer for GGUF models that vary them).
      type: raw
    num_key_value_heads:
      description: KV heads; defaults to the attention heads.
      type: raw
    head_dim:
      description: Per-head key dimension; defaults to hidden_size / num_attention_heads.
      type: int
    value_head_dim:
      description: Per-head value dimension (GGUF only).
      type: int
    hidden_size:
      description: Embedding width.
      type: int
    vocab_size:
      description: Vocabulary size (GGUF without C(<arch>.vocab_size) - the token list length).
      type: int
    max_position_embeddings:
      description: Same as RV(context_length).
      type: int
    kv_lora_rank:
      description:
        - Multi-head latent attention (DeepSeek V2/V3) latent width; null for other models.
        - From C(kv_lora_rank), or GGUF C(<arch>.attention.kv_lora_rank).
      type: int
    qk_rope_head_dim:
      description:
        - Multi-head latent attention decoupled RoPE width; null for other models.
        - From C(qk_rope_head_dim), or GGUF C(<arch>.rope.dimension_count).
      type: int
  sample:
    num_hidden_layers: 32
    num_attention_heads: 32
    num_key_value_heads: 8
    head_dim: 128
    hidden_size: 4096
    vocab_size: 128256
    max_position_embeddings: 131072
tokenizer:
  description: Tokenizer files found, or C([embedded]) for a GGUF that carries one.
  returned: success
  type: list
  elements: str
  sample: [tokenizer.json]
files:
  description: The model's files, relative to the model directory (GGUF - to the file's directory).
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: Relative path.
      type: str
    size:
      description: Size in bytes.
      type: int
    role:
      description: What the file is.
      type: str
      choices: [weights, index, config, tokenizer, other]
    sha256:
      description: Digest, when computed (O(checksums) or a manifest digest).
      type: str
      returned: when computed
  sample:
    - {path: config.json, size: 855, role: config}
    - {path: model-00001-of-00004.safetensors, size: 4976698672, role: weights}
gguf_version:
  description: GGUF format version.
  returned: when format is gguf
  type: int
  sample: 3
manifest:
  description: What the manifest check covered; null without O(manifest).
  returned: success
  type: dict
  contains:
    path:
      description: The manifest file.
      type: str
    entries:
      description: Files listed.
      type: int
    verified_sha256:
      description: Files whose sha256 was computed and matched.
      type: int
problems:
  description: On failure, every problem found (several only for manifest checks).
  returned: failure
  type: list
  elements: str
  sample: ["model-00002-of-00004.safetensors: sha256 3f... expected 9a..."]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.llm.plugins.module_utils.weights import WeightsError
from ansible_collections.onprem.llm.plugins.module_utils.weights.model_dir import validate_model


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            manifest=dict(type="path"),
            checksums=dict(type="bool", default=False),
            require_tokenizer=dict(type="bool"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        result = validate_model(p["path"], manifest=p["manifest"], checksums=p["checksums"],
                                require_tokenizer=p["require_tokenizer"])
    except WeightsError as exc:
        module.fail_json(msg=str(exc), problems=exc.problems)
    for warning in result.pop("warnings"):
        module.warn(warning)
    # a "path" key would make AnsibleModule add file attributes (size, owner ...) to the result
    result["model_path"] = result.pop("path")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

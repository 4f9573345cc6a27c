"""Unit tests for plugins/module_utils/weights/sizing.py (pure arithmetic)."""

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.llm.plugins.module_utils.weights import sizing
from ansible_collections.onprem.llm.plugins.module_utils.weights.sizing import GIB, SizingError, plan

ROOT = Path(__file__).resolve().parents[5]
MODELS = yaml.safe_load((ROOT / "data" / "models.yml").read_text())["models"]

H100_MIB = 81559  # what nvidia-smi reports for an H100 80GB
H200_MIB = 143771


def host(count, gib):
    """ansible_facts.onprem_gpu shape with ``count`` GPUs of ``gib`` GiB."""
    return {"gpus": [{"index": i, "memory_mib": gib * 1024} for i in range(count)]}


def m(name):
    return copy.deepcopy(MODELS[name])


# ---------------------------------------------------------------- weights and dtypes

@pytest.mark.parametrize("alias,canonical", [
    ("bfloat16", "bf16"), ("torch.bfloat16", "bf16"), ("float16", "fp16"), ("FP8", "fp8"),
    ("fp8_e4m3", "fp8"), ("awq_marlin", "awq"), ("GPTQ", "gptq"), ("Q4_K_M", "gguf_q4_k_m"),
    ("gguf_q4_k_m", "gguf_q4_k_m"), ("int8", "int8"), ("float32", "fp32"),
])
def test_normalize_dtype_aliases(alias, canonical):
    assert sizing.normalize_dtype(alias) == canonical


@pytest.mark.parametrize("bad", ["", None, "int3", 16])
def test_normalize_dtype_rejects_unknown_and_lists_known(bad):
    with pytest.raises(SizingError, match="bf16"):
        sizing.normalize_dtype(bad)


def test_weights_bytes_per_dtype():
    params = 70553706496
    assert sizing.weights_bytes(params, "bf16") == params * 2
    assert sizing.weights_bytes(params, "fp8") == params
    assert sizing.weights_bytes(params, "int8") == params
    assert sizing.weights_bytes(params, "awq") == int(params * 4.5 / 8)
    assert sizing.weights_bytes(params, "gguf_q4_k_m") == int(params * 4.85 / 8)
    # The figures people quote: ~141 GB bf16, ~40 GB 4-bit for a 70B model.
    assert round(sizing.weights_bytes(params, "bf16") / 1e9) == 141
    assert round(sizing.weights_bytes(params, "awq") / 1e9) == 40


def test_kv_dtype_bytes():
    assert sizing.kv_dtype_bytes("auto", "bf16") == 2
    assert sizing.kv_dtype_bytes("auto", "awq") == 2
    assert sizing.kv_dtype_bytes("auto", "fp32") == 4
    assert sizing.kv_dtype_bytes("fp8", "bf16") == 1
    with pytest.raises(SizingError, match="kv_cache_dtype"):
        sizing.kv_dtype_bytes("awq", "bf16")


# ---------------------------------------------------------------- KV cache

@pytest.mark.parametrize("name,expected", [
    ("llama-3.1-8b-instruct", 2 * 32 * 8 * 128 * 2),       # 128 KiB
    ("llama-3.1-70b-instruct", 2 * 80 * 8 * 128 * 2),      # 320 KiB
    ("qwen2.5-7b-instruct", 2 * 28 * 4 * 128 * 2),
    ("gemma-2-9b-it", 2 * 42 * 8 * 256 * 2),
    ("deepseek-v3", 61 * (512 + 64) * 2),                  # MLA latent + rope key
    ("deepseek-v2-lite-chat", 27 * (512 + 64) * 2),
])
def test_kv_bytes_per_token(name, expected):
    assert sizing.kv_bytes_per_token(MODELS[name]["config"], 2) == expected


def test_kv_per_gpu_splits_heads_but_replicates_below_one_head():
    config = MODELS["llama-3.1-70b-instruct"]["config"]  # 8 KV heads
    full = sizing.kv_bytes_per_token(config, 2)
    assert sizing.kv_bytes_per_token_per_gpu(config, 2, 2) == full // 2
    assert sizing.kv_bytes_per_token_per_gpu(config, 8, 2) == full // 8
    qwen = MODELS["qwen2.5-7b-instruct"]["config"]  # 4 KV heads: at tp 8 each GPU still holds one head
    assert sizing.kv_bytes_per_token_per_gpu(qwen, 8, 2) == sizing.kv_bytes_per_token(qwen, 2) // 4


def test_mla_cache_is_replicated_on_every_rank():
    config = MODELS["deepseek-v3"]["config"]
    assert sizing.kv_bytes_per_token_per_gpu(config, 8, 2) == sizing.kv_bytes_per_token(config, 2)


def test_tp_must_divide_heads():
    qwen7 = MODELS["qwen2.5-7b-instruct"]["config"]  # 28 heads
    assert [tp for tp in (1, 2, 4, 8) if sizing.tp_allowed(qwen7, tp)] == [1, 2, 4]
    llama3b = MODELS["llama-3.2-3b-instruct"]["config"]  # 24 heads, 8 KV heads
    assert [tp for tp in (1, 2, 4, 8) if sizing.tp_allowed(llama3b, tp)] == [1, 2, 4, 8]
    odd = {"num_hidden_layers": 2, "num_attention_heads": 12, "num_key_value_heads": 3, "head_dim": 64}
    assert [tp for tp in (1, 2, 4, 8) if sizing.tp_allowed(odd, tp)] == [1]  # 3 KV heads do not split


# ---------------------------------------------------------------- tensor-parallel choices

# (model, dtype, GPUs, GiB each) -> expected tensor_parallel_size (None: does not fit), gpus_needed
CASES = [
    ("llama-3.1-8b-instruct", None, 1, 24, 1, 1),
    ("llama-3.1-8b-instruct", None, 8, 80, 1, 1),
    ("llama-3.1-70b-instruct", None, 1, 80, None, 2),
    ("llama-3.1-70b-instruct", None, 2, 80, 2, 2),
    ("llama-3.1-70b-instruct", None, 2, 48, None, 4),
    ("llama-3.1-70b-instruct", None, 4, 48, 4, 4),
    ("llama-3.1-70b-instruct", None, 4, 24, None, 8),
    ("llama-3.1-70b-instruct", None, 8, 24, 8, 8),       # 16.4 GiB/GPU of 21.6 usable
    ("llama-3.1-70b-instruct", "awq", 1, 80, 1, 1),
    ("llama-3.1-70b-instruct", "awq", 1, 48, 1, 1),
    ("llama-3.1-70b-instruct", "awq", 2, 24, 2, 2),
    ("llama-3.1-405b-instruct", None, 8, 80, None, 16),  # ~756 GiB: two nodes
    ("llama-3.1-405b-instruct", "fp8", 8, 80, 8, 8),
    ("llama-3.1-405b-instruct", "awq", 8, 80, 4, 4),
    ("llama-3.2-1b-instruct", None, 1, 24, 1, 1),
    ("llama-3.2-3b-instruct", None, 1, 24, 1, 1),
    ("mistral-7b-instruct-v0.3", None, 1, 24, 1, 1),
    ("mixtral-8x7b-instruct-v0.1", None, 2, 80, 2, 2),
    ("mixtral-8x7b-instruct-v0.1", None, 4, 24, None, 8),
    ("qwen2.5-7b-instruct", None, 1, 24, 1, 1),
    ("qwen2.5-32b-instruct", None, 1, 80, 1, 1),
    ("qwen2.5-32b-instruct", None, 2, 48, 2, 2),
    ("qwen2.5-72b-instruct", None, 2, 80, 2, 2),
    ("deepseek-v2-lite-chat", None, 1, 24, None, 2),
    ("deepseek-v2-lite-chat", None, 2, 24, 2, 2),
    ("deepseek-coder-v2-lite-instruct", None, 1, 48, 1, 1),
    ("deepseek-v3", None, 8, 80, None, 16),              # FP8 671B: 8 x H100 is not enough
    ("gemma-2-9b-it", None, 1, 24, 1, 1),
    ("gemma-2-27b-it", None, 1, 48, None, 2),
    ("gemma-2-27b-it", None, 2, 48, 2, 2),
    ("gemma-2-27b-it", None, 1, 80, 1, 1),
]


@pytest.mark.parametrize("name,dtype,count,gib,tp,needed", CASES)
def test_tensor_parallel_size(name, dtype, count, gib, tp, needed):
    result = plan(m(name), host(count, gib), dtype=dtype)
    assert result["tensor_parallel_size"] == tp, result["message"]
    assert result["fits"] is (tp is not None)
    assert result["gpus_needed"] == needed
    if tp:
        assert 0 < result["max_model_len"] <= MODELS[name]["context_length"]
        assert result["kv_cache_tokens"] >= 4096


def test_deepseek_v3_fits_eight_h200():
    result = plan(m("deepseek-v3"), {"gpus": [{"memory_mib": H200_MIB}] * 8})
    assert result["fits"] and result["tensor_parallel_size"] == 8


def test_real_h100_size_behaves_like_80_gib():
    facts = {"gpus": [{"memory_mib": H100_MIB}] * 2}
    assert plan(m("llama-3.1-70b-instruct"), facts)["tensor_parallel_size"] == 2


def test_max_model_len_capped_by_model():
    assert plan(m("llama-3.1-8b-instruct"), host(1, 80))["max_model_len"] == 131072
    assert plan(m("gemma-2-9b-it"), host(1, 80))["max_model_len"] == 8192


def test_max_model_len_from_kv_budget():
    result = plan(m("llama-3.1-8b-instruct"), host(1, 24))
    usable = 24 * GIB * 0.9 - 2 * GIB - 8030261248 * 2
    tokens = int(usable // (128 * 1024))
    assert result["kv_cache_tokens"] == tokens
    assert result["max_model_len"] == tokens - tokens % 256
    assert 30000 < result["max_model_len"] < 40000


def test_gpu_memory_utilization_changes_the_answer():
    assert plan(m("llama-3.1-70b-instruct"), host(2, 80), gpu_memory_utilization=0.8)["fits"] is False
    assert plan(m("llama-3.1-70b-instruct"), host(2, 80), gpu_memory_utilization=0.95)["fits"] is True


def test_requested_max_model_len_must_fit_one_sequence():
    ok = plan(m("llama-3.1-8b-instruct"), host(1, 24), max_model_len=16384)
    assert ok["fits"] and ok["max_model_len"] == 16384
    full = plan(m("llama-3.1-8b-instruct"), host(1, 24), max_model_len=131072)
    assert not full["fits"]
    assert "lower max_model_len to 37888" in full["message"]
    assert "kv_cache_dtype fp8" in full["message"]
    assert plan(m("llama-3.1-8b-instruct"), host(1, 24), max_model_len=131072, kv_cache_dtype="fp8")["fits"] is False
    assert plan(m("llama-3.1-8b-instruct"), host(1, 48), max_model_len=131072)["fits"] is True


def test_kv_cache_fp8_doubles_the_tokens():
    auto = plan(m("llama-3.1-8b-instruct"), host(1, 24))["kv_cache_tokens"]
    fp8 = plan(m("llama-3.1-8b-instruct"), host(1, 24), kv_cache_dtype="fp8")["kv_cache_tokens"]
    assert fp8 in (2 * auto, 2 * auto + 1)


# ---------------------------------------------------------------- messages

def test_message_for_70b_on_one_80gb_gpu_is_actionable():
    result = plan(m("llama-3.1-70b-instruct"), host(1, 80))
    msg = result["message"]
    assert msg.startswith("Llama-3.1-70B-Instruct in bf16 needs ~131 GiB for weights; this host has 1 x 80 GiB GPU")
    assert "use 2 GPUs of this size (tensor_parallel_size 2)" in msg
    assert "AWQ/GPTQ 4-bit variant (~37 GiB, e.g. hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4) on 1 GPU" in msg
    assert msg.count("FP8 variant") == 1 and msg.count("4-bit variant") == 1
    assert msg.endswith("on 1 GPU.")


def test_message_for_405b_suggests_fp8_and_multi_node():
    msg = plan(m("llama-3.1-405b-instruct"), host(8, 80))["message"]
    assert "16 GPUs of this size across 2 nodes" in msg
    assert "meta-llama/Llama-3.1-405B-Instruct-FP8) on 8 GPUs" in msg


def test_message_when_it_fits():
    msg = plan(m("llama-3.1-70b-instruct"), host(2, 80))["message"]
    assert msg.startswith("Llama-3.1-70B-Instruct in bf16 fits on 2 x 80 GiB GPUs: tensor_parallel_size 2")


def test_message_names_the_gpu_count_shortfall():
    # 3 GPUs: tp 4 is not possible, the model needs 4 of them.
    result = plan(m("llama-3.1-70b-instruct"), host(3, 48))
    assert not result["fits"] and result["gpus_needed"] == 4
    assert "use 4 GPUs" in result["message"]


# ---------------------------------------------------------------- GPU facts shapes

def test_no_gpus_gives_cpu_advice():
    for facts in (None, {"gpus": []}, [], {"gpus": None}):
        result = plan(m("llama-3.1-70b-instruct"), facts)
        assert result["fits"] is False
        assert result["tensor_parallel_size"] is None and result["gpus_needed"] is None
        assert result["gpu_count"] == 0
        assert "no GPU" in result["message"] and "llama3.1:70b" in result["message"]
    small = plan(m("llama-3.1-8b-instruct"), [], host_memory_mib=32768)["message"]
    assert "32 GiB RAM, enough for that" in small
    big = plan(m("llama-3.1-70b-instruct"), [], host_memory_mib=32768)["message"]
    assert "not enough for that" in big


def test_heterogeneous_gpus_use_the_smallest():
    facts = {"gpus": [{"memory_mib": H100_MIB}, {"memory_mib": 24564}]}
    result = plan(m("llama-3.1-70b-instruct"), facts)
    assert result["gpu_memory_mib"] == 24564 and not result["fits"]
    assert "sized by the smallest" in result["message"]
    assert plan(m("llama-3.1-8b-instruct"), facts)["tensor_parallel_size"] == 1


def test_plain_lists_of_gpus_are_accepted():
    assert plan(m("llama-3.1-70b-instruct"), [81920, 81920])["tensor_parallel_size"] == 2
    assert plan(m("llama-3.1-70b-instruct"), [{"memory_mib": "81920"}] * 2)["tensor_parallel_size"] == 2


@pytest.mark.parametrize("facts,match", [
    ({"count": 2}, "'gpus' list"),
    ({"gpus": "two"}, "must be a list"),
    ({"gpus": [{"memory_mib": 0}]}, r"gpus\[0\].memory_mib"),
    ({"gpus": [{"name": "H100"}]}, r"gpus\[0\].memory_mib"),
    ([True], r"gpus\[0\].memory_mib"),
])
def test_bad_gpu_facts(facts, match):
    with pytest.raises(SizingError, match=match):
        plan(m("llama-3.1-8b-instruct"), facts)


# ---------------------------------------------------------------- model_validate-shaped input

VALIDATED = {
    "repo_id": "acme/llama-like-8b",
    "parameter_count": 8030261248,
    "dtype": "bfloat16",
    "context_length": 131072,
    "config": {"num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
               "head_dim": 128, "hidden_size": 4096},
}


def test_validated_metadata_is_sized_like_the_catalog_entry():
    mine = plan(VALIDATED, host(1, 24))
    cat = plan(m("llama-3.1-8b-instruct"), host(1, 24))
    for key in ("fits", "tensor_parallel_size", "weights_bytes", "kv_bytes_per_token", "max_model_len"):
        assert mine[key] == cat[key]
    assert mine["message"].startswith("acme/llama-like-8b in bf16 fits")


def test_quantization_wins_over_dtype_and_dtype_argument_wins_over_both():
    model = dict(VALIDATED, quantization="awq")
    assert plan(model, host(1, 24))["dtype"] == "awq"
    assert plan(model, host(1, 24), dtype="fp8")["dtype"] == "fp8"


def test_head_dim_derived_from_hidden_size_when_missing():
    model = copy.deepcopy(VALIDATED)
    del model["config"]["head_dim"]
    assert plan(model, host(1, 24))["kv_bytes_per_token"] == 131072


@pytest.mark.parametrize("change,match", [
    ({"parameter_count": 0}, "parameter_count"),
    ({"parameter_count": "8B"}, "parameter_count"),
    ({"dtype": None}, "dtype"),
    ({"dtype": "int3"}, "unknown dtype"),
    ({"context_length": None}, "context_length"),
    ({"config": None}, "config must be a mapping"),
    ({"config": {"num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 5,
                 "head_dim": 128}}, "multiple of num_key_value_heads"),
    ({"config": {"num_hidden_layers": 32, "num_attention_heads": 32, "head_dim": 128}},
     "num_key_value_heads"),
    ({"config": {"attention": "mla", "num_hidden_layers": 27, "num_attention_heads": 16}}, "kv_lora_rank"),
])
def test_bad_model_metadata_names_the_field(change, match):
    model = dict(VALIDATED, **change)
    with pytest.raises(SizingError, match=match):
        plan(model, host(1, 24))


@pytest.mark.parametrize("kwargs,match", [
    ({"gpu_memory_utilization": 0}, "gpu_memory_utilization"),
    ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization"),
    ({"max_model_len": 0}, "max_model_len"),
    ({"max_model_len": 262144}, "longer than acme/llama-like-8b supports"),
    ({"min_context": -1}, "min_context"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(SizingError, match=match):
        plan(VALIDATED, host(1, 24), **kwargs)


@pytest.mark.parametrize("reported, canonical", [
    ("F32", "fp32"), ("F16", "fp16"), ("BF16", "bf16"), ("F8_E4M3", "fp8"), ("I8", "int8"),
    ("ALL_F32", "fp32"), ("MOSTLY_F16", "fp16"), ("Q8_0", "gguf_q8_0"), ("Q4_K_M", "gguf_q4_k_m"),
])
def test_dtype_names_reported_by_model_validate_are_understood(reported, canonical):
    # model_validate reports safetensors header dtypes and GGUF file-type names verbatim.
    assert sizing.normalize_dtype(reported) == canonical

"""validate_model on real model directories and GGUF files, and on broken ones."""

import hashlib
import json
import os
import subprocess

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import weights_factory as wf
from ansible_collections.onprem.llm.plugins.module_utils.weights import WeightsError
from ansible_collections.onprem.llm.plugins.module_utils.weights import model_dir as md

SHARD1, SHARD2, SHARD3 = ("model-%05d-of-00003.safetensors" % i for i in (1, 2, 3))
LLAMA_CONFIG = {"num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
                "hidden_size": 64, "vocab_size": 96, "max_position_embeddings": 2048,
                "kv_lora_rank": None, "qk_rope_head_dim": None}


@pytest.fixture
def single(tmp_path):
    d = str(tmp_path / "tiny-llama")
    tensors = wf.make_safetensors_model(d)
    return d, tensors


@pytest.fixture
def sharded(tmp_path):
    d = str(tmp_path / "tiny-llama-sharded")
    tensors = wf.make_safetensors_model(d, shards=3)
    return d, tensors


def _error(path, **kwargs):
    with pytest.raises(WeightsError) as err:
        md.validate_model(path, **kwargs)
    return str(err.value)


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_single_file_model(single):
    d, tensors = single
    r = md.validate_model(d)
    assert r["format"] == "safetensors"
    assert r["path"] == d
    assert r["architecture"] == "LlamaForCausalLM" and r["model_type"] == "llama"
    assert r["parameter_count"] == wf.param_count(tensors) == 86336
    assert r["tensor_count"] == 21
    assert r["dtype"] == "F16" and r["dtypes"] == {"F16": 86336}
    assert r["quantization"] is None
    assert r["context_length"] == 2048
    assert r["config"] == LLAMA_CONFIG
    assert r["tokenizer"] == ["tokenizer.json"]
    assert r["size_bytes"] == os.path.getsize(os.path.join(d, "model.safetensors"))
    assert [(f["path"], f["role"]) for f in r["files"]] == [
        ("config.json", "config"), ("tokenizer.json", "tokenizer"), ("tokenizer_config.json", "other"),
        ("model.safetensors", "weights")]
    assert all("sha256" not in f for f in r["files"])
    assert r["warnings"] == [] and r["manifest"] is None


def test_sharded_model(sharded):
    d, tensors = sharded
    r = md.validate_model(d)
    assert r["parameter_count"] == 86336 and r["tensor_count"] == 21
    weights = [f["path"] for f in r["files"] if f["role"] == "weights"]
    assert weights == [SHARD1, SHARD2, SHARD3]
    assert [f["path"] for f in r["files"] if f["role"] == "index"] == ["model.safetensors.index.json"]
    assert r["size_bytes"] == sum(os.path.getsize(os.path.join(d, s)) for s in weights)
    assert r["warnings"] == []


def test_missing_shard(sharded):
    d, _tensors = sharded
    os.remove(os.path.join(d, SHARD2))
    assert _error(d) == "%s: %s named by model.safetensors.index.json is missing" % (d, SHARD2)
    os.remove(os.path.join(d, SHARD3))
    assert _error(d) == "%s: %s, %s named by model.safetensors.index.json are missing" % (d, SHARD2, SHARD3)


def test_tensor_missing_from_shard(sharded):
    """Shard 1 re-saved by the library without one tensor, while the index still maps it there."""
    d, _tensors = sharded
    path = os.path.join(d, SHARD1)
    tensors = load_file(path)
    dropped = sorted(tensors)[0]
    del tensors[dropped]
    save_file(tensors, path, metadata={"format": "pt"})
    assert _error(d) == "%s: 1 tensor(s) listed in model.safetensors.index.json are not in this shard: %s" % (
        path, dropped)


def test_truncated_shard(sharded):
    d, _tensors = sharded
    path = os.path.join(d, SHARD3)
    wf.truncate(path, 1000)
    msg = _error(d)
    assert msg.startswith("%s: truncated: tensor " % path)
    assert msg.endswith("(file is %d bytes, needs at least %d)" % (os.path.getsize(path), os.path.getsize(path) + 1000))


def test_corrupt_shard_header(sharded):
    d, _tensors = sharded
    path = os.path.join(d, SHARD2)
    wf.patch_bytes(path, 8, b"[")
    assert _error(d).startswith("%s: corrupt header: not valid JSON (" % path)


def test_unmapped_tensor_and_total_size_are_warnings(sharded):
    d, _tensors = sharded
    index_path = os.path.join(d, "model.safetensors.index.json")
    with open(index_path) as f:
        index = json.load(f)
    gone = sorted(index["weight_map"])[0]
    del index["weight_map"][gone]
    index["metadata"]["total_size"] += 1
    with open(index_path, "w") as f:
        json.dump(index, f)
    r = md.validate_model(d)
    assert r["warnings"] == [
        "1 tensor(s) in the shards are not mapped to them by model.safetensors.index.json: %s" % gone,
        "model.safetensors.index.json metadata.total_size is 172673 but the shards hold 172672 bytes of tensor data"]
    assert r["parameter_count"] == 86336


def test_missing_config(single):
    d, _tensors = single
    os.remove(os.path.join(d, "config.json"))
    assert _error(d) == "%s: config.json is missing" % d


def test_corrupt_config(single):
    d, _tensors = single
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write('{"architectures": ["LlamaForCausalLM"],')
    assert _error(d).startswith("%s/config.json: config.json is not valid JSON (" % d)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write("[]")
    assert _error(d) == "%s/config.json: config.json is not a JSON object" % d


def test_missing_tokenizer(single):
    d, _tensors = single
    os.remove(os.path.join(d, "tokenizer.json"))
    assert _error(d) == ("%s: no tokenizer: expected tokenizer.json, tokenizer.model, tekken.json, vocab.json + "
                         "merges.txt, or vocab.txt" % d)
    r = md.validate_model(d, require_tokenizer=False)
    assert r["tokenizer"] == []
    # a sentencepiece model alone is a tokenizer
    with open(os.path.join(d, "tokenizer.model"), "wb") as f:
        f.write(b"\n\x0b\n\x05<unk>\x15\x00\x00\x00\x00\x18\x02")
    assert md.validate_model(d)["tokenizer"] == ["tokenizer.model"]


def test_vocab_and_merges_tokenizer(single):
    d, _tensors = single
    os.remove(os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "vocab.json"), "w") as f:
        json.dump({"a": 0}, f)
    assert _error(d).startswith("%s: no tokenizer" % d)  # vocab.json needs merges.txt
    with open(os.path.join(d, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")
    assert md.validate_model(d)["tokenizer"] == ["vocab.json", "merges.txt"]


def test_truncated_tokenizer_json(single):
    d, _tensors = single
    wf.truncate(os.path.join(d, "tokenizer.json"), 100)
    assert _error(d).startswith("%s/tokenizer.json: tokenizer.json is not valid JSON (" % d)


def test_bf16_and_quantization_config(tmp_path):
    d = str(tmp_path / "bf16")
    os.makedirs(d)
    wf.write_bf16_safetensors(os.path.join(d, "model.safetensors"), {"w": [16, 8], "n": [8]})
    cfg = wf.llama_config(quantization_config={"quant_method": "fp8", "fmt": "e4m3"})
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)
    wf.write_tokenizer(d)
    r = md.validate_model(d)
    assert r["dtype"] == "BF16" and r["quantization"] == "fp8" and r["parameter_count"] == 136


def test_unusual_single_file_name(tmp_path):
    d = str(tmp_path / "m")
    wf.make_safetensors_model(d)
    os.rename(os.path.join(d, "model.safetensors"), os.path.join(d, "weights.safetensors"))
    r = md.validate_model(d)
    assert [f["path"] for f in r["files"] if f["role"] == "weights"] == ["weights.safetensors"]
    save_file({"x": np.zeros(2, np.float32)}, os.path.join(d, "extra.safetensors"))
    assert _error(d) == ("%s: 2 .safetensors files (extra.safetensors, weights.safetensors) but no "
                         "model.safetensors.index.json" % d)


def test_not_a_model(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _error(str(empty)) == ("%s: no model weights: expected model.safetensors, model.safetensors.index.json "
                                  "or a .gguf file" % empty)
    (empty / "pytorch_model.bin").write_bytes(b"PK")
    assert _error(str(empty)) == ("%s: no .safetensors or .gguf weights (only PyTorch .bin/.pth, which are not "
                                  "supported)" % empty)
    assert _error(str(tmp_path / "nope")) == "%s: does not exist" % (tmp_path / "nope")
    other = tmp_path / "notes.txt"
    other.write_text("hi")
    assert _error(str(other)) == "%s: neither a model directory nor a GGUF file" % other


def test_single_safetensors_file_path(single):
    d, _tensors = single
    p = os.path.join(d, "model.safetensors")
    assert _error(p) == "%s: a single .safetensors file is not a model: set path to its directory" % p


def test_checksums_without_manifest(single):
    d, _tensors = single
    r = md.validate_model(d, checksums=True)
    assert dict((f["path"], f["sha256"]) for f in r["files"]) == dict(
        (f["path"], _sha(os.path.join(d, f["path"]))) for f in r["files"])


def test_manifest_ok(sharded, tmp_path):
    d, _tensors = sharded
    manifest = wf.write_manifest(d)
    r = md.validate_model(d, manifest=manifest)
    assert r["manifest"] == {"path": manifest, "entries": 7, "verified_sha256": 7}
    assert all(f["sha256"] == _sha(os.path.join(d, f["path"])) for f in r["files"])
    assert r["warnings"] == []


def test_manifest_from_real_sha256sum_partial(sharded, tmp_path):
    d, _tensors = sharded
    out = subprocess.run(["sha256sum", SHARD1, SHARD2, SHARD3], cwd=d, check=True, capture_output=True,
                         text=True).stdout
    manifest = str(tmp_path / "SHA256SUMS")
    with open(manifest, "w") as f:
        f.write(out)
    r = md.validate_model(d, manifest=manifest)
    assert r["manifest"]["verified_sha256"] == 3
    assert [f["path"] for f in r["files"] if "sha256" in f] == [SHARD1, SHARD2, SHARD3]
    assert r["warnings"] == ["not covered by manifest %s: config.json, model.safetensors.index.json, tokenizer.json, "
                             "tokenizer_config.json" % manifest]


def test_manifest_sha256_mismatch(sharded):
    d, _tensors = sharded
    manifest = wf.write_manifest(d, corrupt=SHARD2)
    with pytest.raises(WeightsError) as err:
        md.validate_model(d, manifest=manifest)
    problem = "%s: sha256 %s, expected %s" % (SHARD2, _sha(os.path.join(d, SHARD2)), "0" * 64)
    assert str(err.value) == "manifest check failed in %s: %s" % (d, problem)
    assert err.value.problems == [problem]


def test_manifest_size_mismatch_and_missing_file(sharded):
    d, _tensors = sharded
    manifest = wf.write_manifest(d)
    with open(manifest) as f:
        data = json.load(f)
    for item in data["files"]:
        if item["path"] == SHARD1:
            item["size"] += 4096
    data["files"].append({"path": "generation_config.json", "size": 10})
    with open(manifest, "w") as f:
        json.dump(data, f)
    size = os.path.getsize(os.path.join(d, SHARD1))
    with pytest.raises(WeightsError) as err:
        md.validate_model(d, manifest=manifest)
    assert err.value.problems == [
        "%s: size %d bytes, expected %d (incomplete download?)" % (SHARD1, size, size + 4096),
        "generation_config.json: missing"]


def test_hf_config_summary_variants():
    nested = {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
              "text_config": {"hidden_size": 2560, "num_hidden_layers": 34, "num_attention_heads": 8,
                              "num_key_value_heads": 4, "head_dim": 256, "max_position_embeddings": 131072,
                              "vocab_size": 262208}}
    s = md.hf_config_summary(nested)
    assert s["architecture"] == "Gemma3ForConditionalGeneration" and s["context_length"] == 131072
    assert s["config"]["head_dim"] == 256 and s["config"]["num_key_value_heads"] == 4
    falcon = {"model_type": "falcon", "hidden_size": 4544, "n_head": 71, "n_layer": 32, "multi_query": True}
    s = md.hf_config_summary(falcon)
    assert s["architecture"] == "falcon"
    assert s["config"]["num_key_value_heads"] == 1 and s["config"]["head_dim"] == 64
    assert s["config"]["num_hidden_layers"] == 32 and s["context_length"] is None
    deepseek = {"architectures": ["DeepseekV3ForCausalLM"], "num_hidden_layers": 61, "num_attention_heads": 128,
                "num_key_value_heads": 128, "kv_lora_rank": 512, "qk_rope_head_dim": 64, "hidden_size": 7168}
    assert md.hf_config_summary(deepseek)["config"]["kv_lora_rank"] == 512
    assert md.hf_config_summary(deepseek)["config"]["qk_rope_head_dim"] == 64
    mha = md.hf_config_summary({"hidden_size": 4096, "num_attention_heads": 32})
    assert mha["config"]["num_key_value_heads"] == 32 and mha["architecture"] is None


# GGUF


def test_gguf_file(tmp_path):
    path = str(tmp_path / "tiny-Q8_0.gguf")
    count, ntensors = wf.make_gguf(path)
    r = md.validate_model(path)
    assert r["format"] == "gguf" and r["gguf_version"] == 3
    assert r["architecture"] == "llama" and r["quantization"] == "Q8_0" and r["dtype"] == "Q8_0"
    assert r["parameter_count"] == count and r["tensor_count"] == ntensors
    assert r["context_length"] == 2048
    assert r["config"] == dict(LLAMA_CONFIG, value_head_dim=16)
    assert r["files"] == [{"path": "tiny-Q8_0.gguf", "size": os.path.getsize(path), "role": "weights"}]
    assert r["size_bytes"] == os.path.getsize(path)
    assert r["tokenizer"] == ["embedded"]


def test_gguf_config_summary_mla():
    meta = {"general.architecture": "deepseek2", "deepseek2.block_count": 61, "deepseek2.attention.head_count": 128,
            "deepseek2.attention.head_count_kv": 128, "deepseek2.embedding_length": 7168,
            "deepseek2.attention.key_length": 192, "deepseek2.attention.value_length": 128,
            "deepseek2.attention.kv_lora_rank": 512, "deepseek2.rope.dimension_count": 64,
            "deepseek2.context_length": 163840,
            "tokenizer.ggml.tokens": {"type": "array", "element_type": "string", "length": 129280}}
    s = md.gguf_config_summary(meta)
    assert s["context_length"] == 163840
    assert s["config"] == {"num_hidden_layers": 61, "num_attention_heads": 128, "num_key_value_heads": 128,
                           "head_dim": 192, "value_head_dim": 128, "hidden_size": 7168, "vocab_size": 129280,
                           "max_position_embeddings": 163840, "kv_lora_rank": 512, "qk_rope_head_dim": 64}


def test_gguf_file_types(tmp_path):
    for ft, name in ((1, "F16"), (15, "Q4_K_M"), (0, "F32")):
        path = str(tmp_path / ("m%d.gguf" % ft))
        wf.make_gguf(path, file_type=ft, quantize=(ft == 15))
        assert md.validate_model(path)["quantization"] == name


def test_gguf_in_directory(tmp_path):
    d = tmp_path / "g"
    d.mkdir()
    wf.make_gguf(str(d / "a.gguf"))
    assert md.validate_model(str(d))["files"][0]["path"] == "a.gguf"
    wf.make_gguf(str(d / "b.gguf"))
    assert _error(str(d)) == "%s: 2 GGUF files (a.gguf, b.gguf): set path to the one to use" % d


def test_gguf_tokenizer_requirement(tmp_path):
    path = str(tmp_path / "notok.gguf")
    wf.make_gguf(path, tokenizer=False)
    assert md.validate_model(path)["tokenizer"] == []
    assert _error(path, require_tokenizer=True) == (
        "%s: no embedded tokenizer (tokenizer.ggml.model / tokenizer.ggml.tokens missing)" % path)


def test_gguf_truncated(tmp_path):
    path = str(tmp_path / "t.gguf")
    wf.make_gguf(path)
    wf.truncate(path, 4096)
    assert _error(path).startswith("%s: truncated GGUF: tensor data must end at byte " % path)


def test_gguf_manifest(tmp_path):
    d = tmp_path / "g"
    d.mkdir()
    path = str(d / "m.gguf")
    wf.make_gguf(path)
    manifest = wf.write_manifest(str(d))
    assert md.validate_model(path, manifest=manifest)["files"][0]["sha256"] == _sha(path)
    wf.patch_bytes(path, os.path.getsize(path) - 40, b"\x7f")  # flip data, header still valid
    with pytest.raises(WeightsError) as err:
        md.validate_model(path, manifest=manifest)
    assert err.value.problems == ["m.gguf: sha256 %s, expected %s" % (_sha(path), json.load(open(manifest))["files"][0]["sha256"])]


def test_split_gguf(tmp_path):
    d = tmp_path / "split"
    d.mkdir()
    count, ntensors = wf.make_gguf(str(d / "tiny.gguf"), split_max_tensors=8)
    parts = sorted(os.listdir(str(d)))
    assert parts == ["tiny-00001-of-00003.gguf", "tiny-00002-of-00003.gguf", "tiny-00003-of-00003.gguf"]
    for target in (str(d), str(d / parts[0]), str(d / parts[2])):
        r = md.validate_model(target)
        assert r["parameter_count"] == count and r["tensor_count"] == ntensors
        assert [f["path"] for f in r["files"]] == parts
        assert r["architecture"] == "llama" and r["quantization"] == "Q8_0"
        assert r["size_bytes"] == sum(os.path.getsize(str(d / p)) for p in parts)
    os.remove(str(d / parts[1]))
    assert _error(str(d / parts[0])) == "%s: split GGUF part(s) %s of 3 missing" % (d, parts[1])
    os.rename(str(d / parts[0]), str(d / "renamed.gguf"))
    assert _error(str(d / "renamed.gguf")) == ("%s: split.count is 3 but the name does not follow "
                                               "<name>-00001-of-00003.gguf" % (d / "renamed.gguf"))

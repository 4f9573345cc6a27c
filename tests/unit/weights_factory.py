"""Build real, tiny model files with the real libraries, for the weights tests.

safetensors files come from ``safetensors.numpy.save_file`` (BF16 through ``safetensors.serialize_file``
since numpy has no bfloat16), the tokenizer is a BPE trained by ``tokenizers``, GGUF files come from
``gguf.GGUFWriter`` with Q8_0 data from ``gguf.quants.quantize``. Shapes follow a Hugging Face Llama
checkpoint (q/k/v/o, gate/up/down, norms, embed, lm_head) scaled down.
"""

import json
import os

import numpy as np

LLAMA = dict(layers=2, hidden=64, heads=4, kv_heads=2, inter=128, vocab=96, context=2048)


def llama_config(**overrides):
    """A config.json in the Hugging Face Llama format."""
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": LLAMA["hidden"],
        "intermediate_size": LLAMA["inter"],
        "num_hidden_layers": LLAMA["layers"],
        "num_attention_heads": LLAMA["heads"],
        "num_key_value_heads": LLAMA["kv_heads"],
        "max_position_embeddings": LLAMA["context"],
        "vocab_size": LLAMA["vocab"],
        "rms_norm_eps": 1e-05,
        "rope_theta": 500000.0,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "bos_token_id": 1,
        "eos_token_id": 2,
        "transformers_version": "4.46.0",
    }
    cfg.update(overrides)
    return cfg


def llama_tensors(dtype=np.float16, seed=0):
    """HF Llama tensor names -> arrays (rows, cols as in PyTorch)."""
    rng = np.random.default_rng(seed)
    h, inter, vocab = LLAMA["hidden"], LLAMA["inter"], LLAMA["vocab"]
    kv = LLAMA["kv_heads"] * (h // LLAMA["heads"])

    def w(*shape):
        return rng.standard_normal(shape).astype(dtype)

    t = {"model.embed_tokens.weight": w(vocab, h)}
    for i in range(LLAMA["layers"]):
        p = "model.layers.%d." % i
        t[p + "self_attn.q_proj.weight"] = w(h, h)
        t[p + "self_attn.k_proj.weight"] = w(kv, h)
        t[p + "self_attn.v_proj.weight"] = w(kv, h)
        t[p + "self_attn.o_proj.weight"] = w(h, h)
        t[p + "mlp.gate_proj.weight"] = w(inter, h)
        t[p + "mlp.up_proj.weight"] = w(inter, h)
        t[p + "mlp.down_proj.weight"] = w(h, inter)
        t[p + "input_layernorm.weight"] = np.ones(h, dtype=dtype)
        t[p + "post_attention_layernorm.weight"] = np.ones(h, dtype=dtype)
    t["model.norm.weight"] = np.ones(h, dtype=dtype)
    t["lm_head.weight"] = w(vocab, h)
    return t


def param_count(tensors):
    return sum(int(a.size) for a in tensors.values())


def write_tokenizer(directory):
    """Train a tiny byte-level BPE with ``tokenizers`` and save tokenizer.json (+ tokenizer_config.json)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=LLAMA["vocab"] + 200, special_tokens=["<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    corpus = ["the quick brown fox jumps over the lazy dog",
              "an on-prem server turns weights into an endpoint",
              "ansible validates the model before serving it"] * 20
    tok.train_from_iterator(corpus, trainer=trainer)
    tok.save(os.path.join(directory, "tokenizer.json"))
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<s>", "eos_token": "</s>", "model_max_length": LLAMA["context"]}, f)


def make_safetensors_model(directory, shards=1, dtype=np.float16, tokenizer=True, config=True):
    """Write a tiny HF Llama checkpoint into ``directory``; return its tensors dict.

    ``shards=1`` writes model.safetensors; more writes model-0000i-of-0000n.safetensors and a
    model.safetensors.index.json as transformers does (metadata.total_size = tensor bytes).
    """
    from safetensors.numpy import save_file

    os.makedirs(directory, exist_ok=True)
    tensors = llama_tensors(dtype)
    if shards == 1:
        save_file(tensors, os.path.join(directory, "model.safetensors"), metadata={"format": "pt"})
    else:
        names = list(tensors)
        groups = [names[i::shards] for i in range(shards)]
        weight_map = {}
        for i, group in enumerate(groups, 1):
            shard = "model-%05d-of-%05d.safetensors" % (i, shards)
            save_file(dict((n, tensors[n]) for n in group), os.path.join(directory, shard), metadata={"format": "pt"})
            weight_map.update((n, shard) for n in group)
        index = {"metadata": {"total_size": sum(int(a.nbytes) for a in tensors.values())},
                 "weight_map": dict(sorted(weight_map.items()))}
        with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, indent=2)
    if config:
        with open(os.path.join(directory, "config.json"), "w") as f:
            json.dump(llama_config(), f, indent=2)
    if tokenizer:
        write_tokenizer(directory)
    return tensors


def write_bf16_safetensors(path, shapes):
    """Write a BF16 safetensors file through the library's raw serializer (numpy has no bfloat16)."""
    import safetensors

    buffers = {}
    specs = {}
    for name, shape in shapes.items():
        n = int(np.prod(shape)) if shape else 1
        buffers[name] = np.zeros(n * 2, dtype=np.uint8)
        specs[name] = safetensors.TensorSpec(dtype="bfloat16", shape=list(shape),
                                             data_ptr=buffers[name].ctypes.data, data_len=n * 2)
    safetensors.serialize_file(specs, path, metadata={"format": "pt"})
    return buffers


def make_gguf(path, file_type=7, quantize=True, tokens=None, arch="llama", split_max_tensors=0,
              tokenizer=True, extra=None, alignment=None, endian="little"):
    """Write a tiny Llama GGUF with F32 norms, F16 embeddings and Q8_0 (or F16) matrices.

    Returns ``(parameter_count, tensor_count)``. ``tokens`` overrides the vocabulary (to test big
    arrays); ``extra`` is a dict of additional string/int metadata.
    """
    import gguf

    h, inter, vocab = LLAMA["hidden"], LLAMA["inter"], LLAMA["vocab"]
    heads, kv_heads = LLAMA["heads"], LLAMA["kv_heads"]
    kv = kv_heads * (h // heads)
    rng = np.random.default_rng(1)
    w = gguf.GGUFWriter(path, arch, split_max_tensors=split_max_tensors,
                        endianess=gguf.GGUFEndian.BIG if endian == "big" else gguf.GGUFEndian.LITTLE)
    if alignment:
        w.add_custom_alignment(alignment)
    w.add_name("tiny-llama")
    w.add_block_count(LLAMA["layers"])
    w.add_context_length(LLAMA["context"])
    w.add_embedding_length(h)
    w.add_feed_forward_length(inter)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_key_length(h // heads)
    w.add_value_length(h // heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(500000.0)
    if file_type is not None:
        w.add_file_type(file_type)
    if tokenizer:
        toks = tokens if tokens is not None else ["<s>", "</s>"] + ["t%d" % i for i in range(vocab - 2)]
        w.add_tokenizer_model("gpt2")
        w.add_token_list(toks)
        w.add_token_types([1] * len(toks))
        w.add_bos_token_id(0)
    for key, value in (extra or {}).items():
        if isinstance(value, str):
            w.add_string(key, value)
        else:
            w.add_uint32(key, value)

    count = 0
    ntensors = 0

    def add(name, array, quant):
        nonlocal count, ntensors
        count += int(array.size)
        ntensors += 1
        if quant and quantize:
            q = gguf.quants.quantize(array.astype(np.float32), gguf.GGMLQuantizationType.Q8_0)
            w.add_tensor(name, q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        elif array.ndim == 1:
            w.add_tensor(name, array.astype(np.float32))
        else:
            w.add_tensor(name, array.astype(np.float16))

    def mat(rows, cols):
        return rng.standard_normal((rows, cols)).astype(np.float32)

    add("token_embd.weight", mat(vocab, h), False)
    for i in range(LLAMA["layers"]):
        p = "blk.%d." % i
        add(p + "attn_norm.weight", np.ones(h, dtype=np.float32), False)
        add(p + "attn_q.weight", mat(h, h), True)
        add(p + "attn_k.weight", mat(kv, h), True)
        add(p + "attn_v.weight", mat(kv, h), True)
        add(p + "attn_output.weight", mat(h, h), True)
        add(p + "ffn_norm.weight", np.ones(h, dtype=np.float32), False)
        add(p + "ffn_gate.weight", mat(inter, h), True)
        add(p + "ffn_up.weight", mat(inter, h), True)
        add(p + "ffn_down.weight", mat(h, inter), True)
    add("output_norm.weight", np.ones(h, dtype=np.float32), False)
    add("output.weight", mat(vocab, h), True)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return count, ntensors


def truncate(path, nbytes):
    """Cut ``nbytes`` off the end of the file."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - nbytes)


def patch_bytes(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def rewrite_safetensors_header(path, mutate):
    """Load the header JSON, let ``mutate(header)`` change it in place, write it back (same data).

    The header is re-padded with spaces to a multiple of 8 like the library does.
    """
    import struct

    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    mutate(header)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-(len(raw)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        f.write(data)


def write_manifest(directory, name="manifest.json", corrupt=None, sizes=True):
    """Write a JSON manifest of every file in ``directory`` (sha256 from hashlib.file_digest-free code).

    ``corrupt`` names a file whose sha256 is replaced by a wrong one.
    """
    import hashlib

    files = []
    for fn in sorted(os.listdir(directory)):
        full = os.path.join(directory, fn)
        if fn == name or not os.path.isfile(full):
            continue
        with open(full, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if fn == corrupt:
            digest = "0" * 64
        item = {"path": fn, "sha256": digest}
        if sizes:
            item["size"] = os.path.getsize(full)
        files.append(item)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump({"files": files}, f, indent=2)
    return path

"""tests/tools/make_tiny_llama.py: the tokenizer part (needs only `tokenizers`) and, when torch and
transformers are importable, the whole model."""

import importlib.util
import json
from pathlib import Path


SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "make_tiny_llama.py"
spec = importlib.util.spec_from_file_location("make_tiny_llama", SCRIPT)
tiny = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tiny)


def test_head_dim_is_one_vllm_supports():
    assert tiny.head_dim() == 32 and tiny.head_dim() in tiny.SUPPORTED_HEAD_DIMS


def test_tokenizer_is_deterministic_and_round_trips():
    first, second = tiny.train_tokenizer(), tiny.train_tokenizer()
    assert first.to_str() == second.to_str()
    text = "Hello! What is the capital of France?"
    assert first.decode(first.encode(text).ids) == text
    for token in tiny.SPECIAL_TOKENS:
        assert first.token_to_id(token) is not None


def test_tokenizer_files_carry_chat_template():
    files = tiny.tokenizer_files(tiny.train_tokenizer())
    config = json.loads(files["tokenizer_config.json"])
    assert config["chat_template"] == tiny.CHAT_TEMPLATE
    assert config["eos_token"] == tiny.EOS
    assert json.loads(files["tokenizer.json"])["model"]["type"] == "BPE"


def test_model_config_shape():
    config = tiny.model_config(tiny.train_tokenizer())
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (128, 2, 4)
    assert config["vocab_size"] <= tiny.VOCAB

# The whole model (torch + transformers) is built for real by molecule/vllm_cpu's prepare, from
# the tools venv, and served by vLLM there; the unit venv carries neither library.

#!/usr/bin/env python
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make a tiny, random, deterministic Llama checkpoint that vLLM can serve (tests only).

No model can be downloaded in CI, so the vLLM scenarios serve this: transformers
``LlamaForCausalLM`` (hidden 128, 2 layers, 4 heads of 32, random weights from a fixed seed) saved
as safetensors, with a byte-level BPE tokenizer trained here with ``tokenizers`` and a chat template.
About 2.5 MB. Its answers are gibberish; the point is that every API route really runs a model.

    make_tiny_llama.py OUT_DIR [--seed 0]

The tokenizer part needs only ``tokenizers``; the model part also needs ``torch`` and
``transformers`` (the Molecule prepare step runs this in a tools venv built from the wheelhouse).
"""

import argparse
import json
import sys
from pathlib import Path

HIDDEN = 128
LAYERS = 2
HEADS = 4
INTERMEDIATE = 256
MAX_POSITIONS = 2048
VOCAB = 512
# vLLM's attention kernels support these head sizes only.
SUPPORTED_HEAD_DIMS = (32, 64, 80, 96, 112, 128, 192, 256)

BOS, EOS, PAD = "<s>", "</s>", "<pad>"
SPECIAL_TOKENS = [BOS, EOS, PAD]
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}{{ eos_token }}\n"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

# A small fixed corpus: the tokenizer only has to cover bytes and a few merges.
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "On-premises inference servers answer OpenAI compatible requests.",
    "vLLM serves large language models with paged attention.",
    "Ansible turns bare GPU servers into language model endpoints.",
    "Hello! How are you today? I am a tiny random Llama.",
    "user assistant system: what is the capital of France? Paris.",
    "0123456789 + - * / = ( ) [ ] { } < > | _ # @ ! ? , . ; :",
]


def head_dim():
    dim, rest = divmod(HIDDEN, HEADS)
    if rest or dim not in SUPPORTED_HEAD_DIMS:
        raise ValueError("head_dim %s is not one vLLM supports %s" % (HIDDEN / HEADS, SUPPORTED_HEAD_DIMS))
    return dim


def train_tokenizer():
    """A byte-level BPE tokenizer (tokenizers.Tokenizer); deterministic for the fixed corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS * 4, trainer=trainer)
    return tokenizer


def tokenizer_files(tokenizer):
    """{file name: text} for the tokenizer as transformers' AutoTokenizer loads it."""
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS,
        "eos_token": EOS,
        "pad_token": PAD,
        "model_max_length": MAX_POSITIONS,
        "clean_up_tokenization_spaces": False,
        "chat_template": CHAT_TEMPLATE,
    }
    special = {"bos_token": BOS, "eos_token": EOS, "pad_token": PAD}
    return {
        "tokenizer.json": tokenizer.to_str(),
        "tokenizer_config.json": json.dumps(config, indent=2, sort_keys=True) + "\n",
        "special_tokens_map.json": json.dumps(special, indent=2, sort_keys=True) + "\n",
    }


def model_config(tokenizer):
    return {
        "vocab_size": tokenizer.get_vocab_size(),
        "hidden_size": HIDDEN,
        "intermediate_size": INTERMEDIATE,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "num_key_value_heads": HEADS,
        "head_dim": head_dim(),
        "max_position_embeddings": MAX_POSITIONS,
        "bos_token_id": tokenizer.token_to_id(BOS),
        "eos_token_id": tokenizer.token_to_id(EOS),
        "pad_token_id": tokenizer.token_to_id(PAD),
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
    }


def make(out_dir, seed=0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer()
    for name, text in tokenizer_files(tokenizer).items():
        (out / name).write_text(text, encoding="utf-8")
    torch.manual_seed(seed)
    config = LlamaConfig(**model_config(tokenizer))
    model = LlamaForCausalLM(config).to(torch.float32)
    model.generation_config.do_sample = False
    model.save_pretrained(out, safe_serialization=True)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args(argv)
    print(make(opts.out_dir, opts.seed))


if __name__ == "__main__":
    sys.exit(main())

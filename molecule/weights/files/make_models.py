"""Build the weights scenario's upstream repositories on the controller (real files, real libraries).

    python make_models.py OUT

OUT/tiny-llama    2-shard fp16 Llama + index + config + tokenizer (tests/unit/weights_factory.py)
OUT/tiny-gguf     tiny Llama GGUF (Q8_0) + manifest.json, served as a static http source
OUT/big-llama     one ~16 MiB shard (wider layers), for the kill-and-resume test
OUT/broken-llama  tiny-llama with its second shard truncated (consistently: the Hub lists the
                  truncated bytes, so the transfer verifies and only the validator can refuse it)
Deterministic (fixed seeds), so a re-run produces the same bytes.
"""

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "unit"))

import weights_factory as wf  # noqa: E402


def main(out):
    if os.path.isdir(out):
        shutil.rmtree(out)
    wf.make_safetensors_model(os.path.join(out, "tiny-llama"), shards=2)
    gguf_dir = os.path.join(out, "tiny-gguf")
    os.makedirs(gguf_dir)
    wf.make_gguf(os.path.join(gguf_dir, "tiny-llama-q8_0.gguf"))
    wf.write_manifest(gguf_dir)
    broken = os.path.join(out, "broken-llama")
    shutil.copytree(os.path.join(out, "tiny-llama"), broken)
    wf.truncate(os.path.join(broken, "model-00002-of-00002.safetensors"), 4096)
    saved = dict(wf.LLAMA)
    wf.LLAMA.update(hidden=512, inter=1536, layers=4, heads=8, kv_heads=4, vocab=2048)
    try:
        wf.make_safetensors_model(os.path.join(out, "big-llama"), shards=1)
    finally:
        wf.LLAMA.clear()
        wf.LLAMA.update(saved)


if __name__ == "__main__":
    main(sys.argv[1])

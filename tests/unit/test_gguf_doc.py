"""docs/gguf-and-quantization.md: its memory table is what sizing.py computes for data/models.yml,
so a changed catalog or bits-per-weight figure cannot leave the page wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.llm.plugins.module_utils.weights import sizing

ROOT = Path(__file__).resolve().parents[2]
GIB = 1024 ** 3
FORMATS = [("bf16", "BF16"), ("fp8", "FP8"), ("awq", "AWQ/GPTQ 4-bit"), ("gguf_q8_0", "Q8_0"), ("gguf_q6_k", "Q6_K"),
           ("gguf_q5_k_m", "Q5_K_M"), ("gguf_q4_k_m", "Q4_K_M")]


def expected_table():
    models = yaml.safe_load((ROOT / "data" / "models.yml").read_text())["models"]
    rows = ["| model | parameters | " + " | ".join(fmt[1] for fmt in FORMATS) + " | KV cache, 4096 tokens |",
            "|---|---:|" + "---:|" * len(FORMATS) + "---:|"]
    for name in sorted(models):
        model = models[name]
        cells = ["%.1f" % (sizing.weights_bytes(model["parameter_count"], fmt[0]) / GIB) for fmt in FORMATS]
        kv = sizing.kv_bytes_per_token(model["config"], 2) * 4096 / GIB
        rows.append("| %s | %.1f B | %s | %.2f |" % (name, model["parameter_count"] / 1e9, " | ".join(cells), kv))
    return "\n".join(rows)


@pytest.mark.parametrize("path", ["docs/gguf-and-quantization.md", "docs/ko/gguf-and-quantization.md"])
def test_the_memory_table_is_computed_from_the_catalog(path):
    page = (ROOT / path).read_text()
    start = page.index("-->\n", page.index("<!-- memory-table")) + 4
    table = page[start:page.index("\n<!-- end memory-table -->")]
    assert table == expected_table(), "regenerate the table:\n" + expected_table()


def test_the_bits_per_weight_in_the_page_are_sizing_s():
    page = (ROOT / "docs" / "gguf-and-quantization.md").read_text()
    for dtype, label in (("gguf_q8_0", "Q8_0"), ("gguf_q6_k", "Q6_K"), ("gguf_q5_k_m", "Q5_K_M"),
                         ("gguf_q4_k_m", "Q4_K_M")):
        assert "| %s | GGUF | %s |" % (label, ("%g" % sizing.BITS_PER_WEIGHT[dtype])) in page

"""docs/examples/curl.md is what tests/tools/render_curl_examples.py renders from inventories/example."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[5]


def load_tool():
    spec = importlib.util.spec_from_file_location("render_curl_examples", ROOT / "tests" / "tools" / "render_curl_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_page_is_current():
    tool = load_tool()
    assert tool.main(["--check"]) == 0, "run: .venv/bin/python tests/tools/render_curl_examples.py"


def test_page_covers_every_endpoint_and_no_secret():
    tool = load_tool()
    text = tool.render()
    # 2 vLLM servers x 1 instance, 2 Ollama models, 3 distinct models through the gateway.
    assert text.count("\n## ") == 7
    assert "https://llm.example.internal:8443/v1/chat/completions" in text
    assert "http://10.20.0.11:8000/v1/models" in text and "http://10.20.0.13:11434/v1/models" in text
    for secret in ("example-ops-key", "example-vllm-backend-key", "hf_example"):
        assert secret not in text

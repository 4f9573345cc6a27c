"""A running ollama double (tests/doubles/ollama_double) with one model, for client tests."""

from __future__ import annotations

import pytest

from ollama_double_helper import start_double


@pytest.fixture
def ollama_double(tmp_path):
    proc, url = start_double(tmp_path, OLLAMA_NUM_PARALLEL="4")
    yield url
    proc.terminate()
    proc.wait(timeout=10)

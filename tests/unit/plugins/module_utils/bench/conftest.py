"""The ollama double one request at a time, for the client's queueing tests.

(ollama_double, the usual one, is in tests/unit/conftest.py.)
"""

from __future__ import annotations

import pytest

from ollama_double_helper import start_double


@pytest.fixture
def ollama_double_serial(tmp_path):
    """One request at a time (OLLAMA_NUM_PARALLEL=1), slower tokens: queueing shows in TTFT."""
    proc, url = start_double(tmp_path, OLLAMA_NUM_PARALLEL="1", OLLAMA_DOUBLE_TOKEN_SECONDS="0.005")
    yield url
    proc.terminate()
    proc.wait(timeout=10)

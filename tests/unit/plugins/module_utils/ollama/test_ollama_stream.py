# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/ollama/stream.py: the pull stream's summary and its errors."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.ollama import OllamaError
from ansible_collections.onprem.llm.plugins.module_utils.ollama import stream

HEX = "a" * 64


PULL_OK = [
    b'{"status":"pulling manifest"}\n',
    b'{"status":"pulling 6a0746a1ec1a","digest":"sha256:%s","total":100,"completed":0}\n' % HEX.encode(),
    b'{"status":"pulling 6a0746a1ec1a","digest":"sha256:%s","total":100,"completed":60}\n' % HEX.encode(),
    b"\n",
    b'{"status":"pulling 6a0746a1ec1a","digest":"sha256:%s","total":100,"completed":100}\n' % HEX.encode(),
    b'{"status":"verifying sha256 digest"}\n',
    b'{"status":"writing manifest"}\n',
    b'{"status":"success"}\n',
]


def test_pull_stream_summary():
    progress = stream.PullProgress().consume(stream.iter_ndjson(PULL_OK))
    assert progress.success and progress.bytes_total == progress.bytes_completed == 100
    assert progress.statuses == ["pulling manifest", "pulling 6a0746a1ec1a", "verifying sha256 digest",
                                 "writing manifest", "success"]


def test_pull_stream_error_is_verbatim_and_permanent():
    lines = [b'{"status":"pulling manifest"}\n', b'{"error":"pull model manifest: file does not exist"}\n']
    with pytest.raises(OllamaError) as exc:
        stream.PullProgress().consume(stream.iter_ndjson(lines))
    assert str(exc.value) == "pull model manifest: file does not exist"
    assert exc.value.kind == "unknown_model" and not exc.value.transient


def test_cut_stream_line_is_transient():
    with pytest.raises(OllamaError) as exc:
        list(stream.iter_ndjson([b'{"status":"pulli']))
    assert exc.value.transient

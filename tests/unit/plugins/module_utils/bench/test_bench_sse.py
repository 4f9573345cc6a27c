from __future__ import annotations

import json

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.bench.sse import SSEDecoder, chunk_fields

STREAM = (b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
          b': keep-alive comment\n\n'
          b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\r\n\r\n'
          b'data: {"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"length"}]}\n\n'
          b'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}\n\n'
          b'data: [DONE]\n\n')


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(STREAM)])
def test_decoder_is_independent_of_chunking(size):
    decoder = SSEDecoder()
    events = []
    for i in range(0, len(STREAM), size):
        events += decoder.feed(STREAM[i:i + size])
    events += decoder.close()
    assert len(events) == 5
    assert events[-1] == "[DONE]"
    assert json.loads(events[1])["choices"][0]["delta"]["content"] == "Hel"


def test_multiline_data_and_missing_final_blank_line():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\ndata: b\n\ndata: c") == ["a\nb"]
    assert decoder.close() == ["c"]


def test_chunk_fields():
    assert chunk_fields("[DONE]")["done"] is True
    chat = chunk_fields('{"choices":[{"delta":{"content":"x"},"finish_reason":null}]}')
    assert chat["text"] == "x" and chat["finish_reason"] is None
    completion = chunk_fields('{"choices":[{"text":"y","finish_reason":"stop"}]}')
    assert completion["text"] == "y" and completion["finish_reason"] == "stop"
    usage = chunk_fields('{"choices":[],"usage":{"completion_tokens":3}}')
    assert usage["usage"] == {"completion_tokens": 3} and usage["text"] == ""
    assert chunk_fields('{"error":{"message":"boom"}}')["error"] == "boom"
    assert "unparsable" in chunk_fields("{not json")["error"]

"""The ollama double's OpenAI-compatible API behaves as Ollama documents it (see its README)."""

from __future__ import annotations

import http.client
import json

import pytest

from ollama_double_helper import start_double  # tests/unit is on sys.path (rootdir conftest)


@pytest.fixture
def double(tmp_path):
    proc, url = start_double(tmp_path, OLLAMA_NUM_PARALLEL="2", OLLAMA_MAX_QUEUE="1")
    host, port = url.split("//")[1].split(":")
    yield host, int(port)
    proc.terminate()
    proc.wait(timeout=10)


def call(double, method, path, body=None):
    conn = http.client.HTTPConnection(*double, timeout=10)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read().decode()
    conn.close()
    return resp.status, resp.getheader("Content-Type"), data


def events(text):
    return [line[len("data: "):] for line in text.split("\n") if line.startswith("data: ")]


def test_models_list_and_one(double):
    status, _ctype, body = call(double, "GET", "/v1/models")
    doc = json.loads(body)
    assert status == 200 and doc["object"] == "list"
    assert [(m["id"], m["object"], m["owned_by"]) for m in doc["data"]] == [("tiny:latest", "model", "library")]
    status, _ctype, body = call(double, "GET", "/v1/models/tiny")
    assert status == 200 and json.loads(body)["id"] == "tiny:latest"
    assert call(double, "GET", "/v1/models/nope")[0] == 404


def test_chat_completion_is_deterministic_with_usage(double):
    req = {"model": "tiny", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 5}
    first = json.loads(call(double, "POST", "/v1/chat/completions", req)[2])
    second = json.loads(call(double, "POST", "/v1/chat/completions", req)[2])
    assert first["object"] == "chat.completion" and first["model"] == "tiny:latest"
    assert first["choices"][0]["message"]["role"] == "assistant"
    assert first["choices"][0]["message"]["content"] == second["choices"][0]["message"]["content"]
    assert first["choices"][0]["finish_reason"] == "length"
    assert first["usage"]["completion_tokens"] == 5
    assert first["usage"]["total_tokens"] == first["usage"]["prompt_tokens"] + 5


def test_stream_with_usage_chunk_and_done(double):
    req = {"model": "tiny:latest", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "stream": True,
           "stream_options": {"include_usage": True}}
    status, ctype, body = call(double, "POST", "/v1/chat/completions", req)
    data = events(body)
    assert status == 200 and ctype == "text/event-stream"
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert [c["choices"][0]["finish_reason"] for c in chunks[:4]] == [None, None, None, "length"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3
    # Without include_usage no usage chunk.
    req.pop("stream_options")
    assert all("usage" not in json.loads(d) for d in events(call(double, "POST", "/v1/chat/completions", req)[2])[:-1])


def test_completions_stream(double):
    req = {"model": "tiny", "prompt": "Once", "max_tokens": 2, "stream": True}
    data = events(call(double, "POST", "/v1/completions", req)[2])
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[0]["object"] == "text_completion" and chunks[0]["choices"][0]["text"]
    assert data[-1] == "[DONE]"


def test_unknown_model_and_bad_body(double):
    status, _ctype, body = call(double, "POST", "/v1/chat/completions",
                                {"model": "nope:1b", "messages": [{"role": "user", "content": "x"}]})
    assert status == 404
    assert json.loads(body)["error"]["message"] == 'model "nope:1b" not found, try pulling it first'
    assert call(double, "POST", "/v1/chat/completions", {"model": "tiny", "messages": []})[0] == 400

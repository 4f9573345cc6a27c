"""tests/tools/fixed_latency_server.py answers like vLLM on the routes the gateway and the client use."""

import http.client
import importlib.util
import json
import threading
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "fixed_latency_server.py"
spec = importlib.util.spec_from_file_location("fixed_latency_server", SCRIPT)
server_mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(server_mod)


@pytest.fixture
def port():
    httpd = server_mod.make_server(ttft_ms=30, gap_ms=5, model="fixed-m")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _call(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_health_and_models_answer_as_vllm_does(port):
    assert _call(port, "GET", "/health") == (200, "")
    status, text = _call(port, "GET", "/v1/models")
    assert status == 200
    assert [m["id"] for m in json.loads(text)["data"]] == ["fixed-m"]
    assert _call(port, "GET", "/nothing")[0] == 404


@pytest.mark.parametrize("path, field", [("/v1/chat/completions", "message"), ("/v1/completions", "text")])
def test_a_plain_answer_has_max_tokens_tokens_after_the_whole_schedule(port, path, field):
    body = {"model": "fixed-m", "max_tokens": 3, "messages": [{"role": "user", "content": "a b"}], "prompt": "a b"}
    start = time.perf_counter()
    status, text = _call(port, "POST", path, body)
    elapsed = time.perf_counter() - start
    answer = json.loads(text)
    assert status == 200
    assert answer["usage"]["completion_tokens"] == 3
    assert field in answer["choices"][0]
    # 30 ms to the first token, then two gaps of 5 ms.
    assert elapsed >= 0.040


def test_a_stream_ends_with_usage_and_done(port):
    body = {"model": "fixed-m", "max_tokens": 4, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    status, text = _call(port, "POST", "/v1/chat/completions", body)
    events = [line[len("data: "):] for line in text.splitlines() if line.startswith("data: ")]
    assert status == 200
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["usage"]["completion_tokens"] == 4
    assert [json.loads(e)["choices"][0]["delta"]["content"] for e in events[:-2]] == ["tok0 ", "tok1 ", "tok2 ",
                                                                                      "tok3 "]


def test_other_post_routes_are_not_found(port):
    assert _call(port, "POST", "/v1/embeddings", {"input": "x"})[0] == 404

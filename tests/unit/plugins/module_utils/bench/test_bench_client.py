"""The load generator against a real HTTP server streaming SSE: the ollama double."""

from __future__ import annotations

import json

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.bench import client
from ansible_collections.onprem.llm.plugins.module_utils.bench.stats import summarize


def endpoint(url, **extra):
    out = {"name": "ollama/t", "url": url, "model": "tiny:latest", "api": "chat"}
    out.update(extra)
    return out


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_level_counts_every_request_and_token(ollama_double, api):
    samples, wall = client.run_level(endpoint(ollama_double, api=api), 4, 12, client.make_prompt(40), 16)
    out = summarize(samples, wall)
    assert out["requests"] == 12 and out["errors"] == 0, out["error_messages"]
    # max_tokens 16 < the double's natural length: exactly 16 tokens each, from usage.
    assert out["mean_output_tokens"] == 16.0
    assert out["output_tokens"] == 192
    assert out["mean_prompt_tokens"] > 40
    assert 0 < out["ttft_ms"]["p50"] < out["latency_ms"]["p50"]
    assert out["output_tokens_per_s"] == pytest.approx(192 / wall, rel=0.01)


def test_keep_alive_connections_are_reused_without_errors(ollama_double):
    samples, _wall = client.run_level(endpoint(ollama_double), 2, 30, "hi", 2)
    assert [s["error"] for s in samples if not s["ok"]] == []


def test_queueing_behind_one_slot_shows_in_ttft(ollama_double_serial):
    # OLLAMA_NUM_PARALLEL=1: of four clients the last waits for three whole requests before its first
    # token. Measured against a whole request at c=1 (both stretch alike on a loaded machine); in
    # parallel the c=4 TTFT would stay near a single request's TTFT, far below one request's latency.
    client.run_level(endpoint(ollama_double_serial), 1, 1, "hi", 10)   # the first request pays the start-up
    one, wall1 = client.run_level(endpoint(ollama_double_serial), 1, 4, "hi", 10)
    four, wall4 = client.run_level(endpoint(ollama_double_serial), 4, 4, "hi", 10)
    one_request = summarize(one, wall1)["latency_ms"]["p50"]
    assert summarize(four, wall4)["ttft_ms"]["p95"] > 1.5 * one_request


def test_http_errors_are_counted_with_the_message(ollama_double):
    samples, wall = client.run_level(endpoint(ollama_double, model="missing:1b"), 2, 3, "hi", 4)
    out = summarize(samples, wall)
    assert out["errors"] == 3 and out["completed"] == 0
    assert out["error_messages"][0].startswith('HTTP 404: {"error": {"message": "model \\"missing:1b\\" not found')


def test_connection_refused_is_an_error_not_a_crash():
    samples, _wall = client.run_level(endpoint("http://127.0.0.1:9"), 1, 2, "hi", 4, timeout=2)
    assert all(not s["ok"] and "ConnectionRefusedError" in s["error"] for s in samples)


def test_request_bodies():
    path, body, headers = client.request_for(endpoint("http://h:1/v1", api_key="k"), "p", 8, ignore_eos=True)
    doc = json.loads(body)
    assert path == "/v1/chat/completions"
    assert doc == {"model": "tiny:latest", "max_tokens": 8, "temperature": 0, "messages": [{"role": "user", "content": "p"}],
                   "stream": True, "stream_options": {"include_usage": True}, "ignore_eos": True}
    assert headers["Authorization"] == "Bearer k"
    path, body, headers = client.request_for(endpoint("https://h/base", api="completions"), "p", 8, stream=False)
    assert path == "/base/v1/completions" and "stream" not in json.loads(body) and "Authorization" not in headers


@pytest.mark.parametrize("url", ["ftp://h", "http://", "h:80"])
def test_bad_urls(url):
    with pytest.raises(client.BenchError):
        client.split_url(url)


def test_bad_url_names_the_first_endpoint_refused():
    good = {"name": "a", "url": "http://127.0.0.1:8000"}
    assert client.bad_url([good, dict(good, name="b", url="https://gw:8443/v1")]) == ""
    assert client.bad_url([]) == ""
    message = client.bad_url([good, {"name": "b", "url": "ftp://h"}, {"name": "c", "url": "h:80"}])
    assert message == "b: endpoint url must be http(s)://host[:port][/path], got 'ftp://h'"


def test_make_prompt_is_deterministic():
    assert client.make_prompt(20, seed=3) == client.make_prompt(20, seed=3)
    assert len(client.make_prompt(20).split()) == 20


def test_fifty_clients_at_once_are_all_served(ollama_double):
    # Ollama queues what it cannot serve yet; the double must not reset connections either.
    samples, wall = client.run_level(endpoint(ollama_double), 50, 50, "hi", 2)
    assert summarize(samples, wall)["error_messages"] == []

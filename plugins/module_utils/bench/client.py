# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small load generator for OpenAI-compatible servers (standard library only).

One thread per concurrent client, each with its own keep-alive connection, taking the next request
from a shared counter until ``num_requests`` have been sent, which is what ``vllm bench serve
--max-concurrency C --num-prompts N --request-rate inf`` does. Every request streams
(``stream: true``, ``stream_options.include_usage``) so the time to the first token is measured
where the first non-empty text arrives; the output token count is the server's ``usage`` when it
sends one, else the number of non-empty chunks.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

from ansible_collections.onprem.llm.plugins.module_utils.bench.sse import SSEDecoder, chunk_fields

# Short common English words: most BPE tokenizers give one token each (with the leading space).
WORDS = ("time", "data", "model", "server", "light", "water", "river", "stone", "green", "night",
         "paper", "music", "voice", "world", "house", "table", "field", "cloud", "north", "south",
         "plant", "metal", "glass", "train", "city", "road", "bird", "tree", "fire", "wind")


class BenchError(Exception):
    pass


def make_prompt(words, seed=0):
    """A deterministic prompt of ``words`` words (about as many tokens)."""
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _i in range(max(1, int(words))))


def split_url(url):
    """http(s)://host[:port][/base] -> (scheme, host, port, base path without trailing slash)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BenchError("endpoint url must be http(s)://host[:port][/path], got %r" % (url,))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    base = parts.path.rstrip("/")
    if base.endswith("/v1"):
        base = base[:-3]
    return parts.scheme, parts.hostname, port, base


def bad_url(endpoints):
    """``"<name>: <why>"`` for the first endpoint whose url :func:`split_url` refuses, else ""."""
    for ep in endpoints or []:
        try:
            split_url(ep["url"])
        except BenchError as exc:
            return "%s: %s" % (ep["name"], exc)
    return ""


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS to an address, checking the certificate against ``tls_name`` (SNI and hostname)."""

    def __init__(self, host, port, tls_name, context, timeout):
        http.client.HTTPSConnection.__init__(self, host, port, timeout=timeout, context=context)
        self._tls_name = tls_name
        self._ctx = context

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        # As http.client.HTTPConnection.connect does: without it, the request body waits behind
        # Nagle's algorithm for the ACK of the headers' TLS record (the server delays it up to 40 ms),
        # and every HTTPS time to first token came out about 40 ms too long.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self._tls_name or self.host)


def connection_factory(endpoint, timeout):
    scheme, host, port, _base = split_url(endpoint["url"])
    if scheme == "http":
        return lambda: http.client.HTTPConnection(host, port, timeout=timeout)
    context = ssl.create_default_context(cafile=endpoint.get("ca_path") or None)
    if not endpoint.get("validate_certs", True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    tls_name = endpoint.get("tls_server_name") or host
    return lambda: _TLSConnection(host, port, tls_name, context, timeout)


def request_for(endpoint, prompt, max_tokens, ignore_eos=False, stream=True):
    """-> (path, body bytes, headers) of one completion request."""
    _scheme, _host, _port, base = split_url(endpoint["url"])
    api = endpoint.get("api") or "chat"
    body = {"model": endpoint["model"], "max_tokens": int(max_tokens), "temperature": 0}
    if api == "chat":
        path = base + "/v1/chat/completions"
        body["messages"] = [{"role": "user", "content": prompt}]
    elif api == "completions":
        path = base + "/v1/completions"
        body["prompt"] = prompt
    else:
        raise BenchError("api must be chat or completions, got %r" % (api,))
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if ignore_eos:
        body["ignore_eos"] = True
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream" if stream else "application/json"}
    if endpoint.get("api_key"):
        headers["Authorization"] = "Bearer %s" % endpoint["api_key"]
    return path, json.dumps(body).encode("utf-8"), headers


def read_stream(response, t0, clock=time.perf_counter):
    """Consume one SSE completion stream -> partial sample {ttft, output_tokens, prompt_tokens, error, text}."""
    decoder = SSEDecoder()
    ttft = None
    chunks = 0
    usage = None
    error = None
    text = []
    done = False
    while not done:
        block = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
        events = decoder.feed(block) if block else decoder.close()
        now = clock()
        for data in events:
            fields = chunk_fields(data)
            if fields["error"]:
                error = fields["error"]
            if fields["done"]:
                done = True
            if fields["text"]:
                if ttft is None:
                    ttft = now - t0
                chunks += 1
                text.append(fields["text"])
            if fields["usage"]:
                usage = fields["usage"]
        if not block:
            break
    if done:
        # Consume the end of the body (the last chunk) so the keep-alive connection can be reused.
        response.read()
    if not done and error is None:
        error = "stream ended without [DONE]"
    if error is None and ttft is None:
        error = "no tokens received"
    out_tokens = chunks
    prompt_tokens = None
    if usage:
        out_tokens = int(usage.get("completion_tokens") or chunks)
        prompt_tokens = usage.get("prompt_tokens")
    return {"ttft": ttft, "output_tokens": out_tokens, "prompt_tokens": prompt_tokens, "error": error,
            "text": "".join(text)}


class Worker(object):
    """One concurrent client: a keep-alive connection, reopened after an error."""

    def __init__(self, factory):
        self.factory = factory
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def connect(self):
        """Open the connection now (TCP, and the TLS handshake for HTTPS); a failure is left for the
        first request to report, which reconnects."""
        try:
            self.conn = self.factory()
            self.conn.connect()
        except (OSError, http.client.HTTPException, ValueError):
            self.close()

    def run(self, path, body, headers, clock=time.perf_counter):
        start = clock()
        sample = {"ok": False, "error": None, "start": start, "end": start, "ttft": None,
                  "output_tokens": 0, "prompt_tokens": None}
        try:
            if self.conn is None:
                self.conn = self.factory()
            self.conn.request("POST", path, body=body, headers=headers)
            response = self.conn.getresponse()
            if response.status != 200:
                detail = response.read()[:300].decode("utf-8", "replace").strip()
                sample["error"] = "HTTP %d: %s" % (response.status, detail)
                self.close()
            else:
                part = read_stream(response, start, clock)
                part.pop("text")
                sample.update(part)
                sample["ok"] = part["error"] is None
                if response.will_close:
                    self.close()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            sample["error"] = "%s: %s" % (type(exc).__name__, exc)
            self.close()
        sample["end"] = clock()
        return sample


def run_level(endpoint, concurrency, num_requests, prompt, max_tokens, ignore_eos=False, timeout=300.0,
              connect_first=False):
    """Send ``num_requests`` with ``concurrency`` clients -> (samples, wall seconds).

    ``connect_first``: every client opens its connection before the level's clock starts, so no
    request's time includes a connect or TLS handshake (the figures of clients already connected).
    """
    concurrency = max(1, min(int(concurrency), int(num_requests)))
    factory = connection_factory(endpoint, timeout)
    path, body, headers = request_for(endpoint, prompt, max_tokens, ignore_eos)
    lock = threading.Lock()
    state = {"next": 0}
    samples = []
    gate = threading.Barrier(concurrency + 1) if connect_first else None

    def loop():
        worker = Worker(factory)
        try:
            if gate is not None:
                try:
                    worker.connect()
                finally:
                    gate.wait()
            while True:
                with lock:
                    if state["next"] >= num_requests:
                        return
                    state["next"] += 1
                sample = worker.run(path, body, headers)
                with lock:
                    samples.append(sample)
        finally:
            worker.close()

    threads = [threading.Thread(target=loop, name="bench-%d" % i) for i in range(concurrency)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    if gate is not None:
        gate.wait()
        t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    samples.sort(key=lambda s: s["start"])
    return samples, wall


def simple_request(endpoint, method, path_suffix, payload=None, timeout=60.0):
    """One non-streamed request -> (status, body text). For smoke tests and warm-up."""
    _scheme, _host, _port, base = split_url(endpoint["url"])
    conn = connection_factory(endpoint, timeout)()
    headers = {"Accept": "application/json"}
    data = None
    if payload is not None:
        data = json.dumps(payload).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if endpoint.get("api_key"):
        headers["Authorization"] = "Bearer %s" % endpoint["api_key"]
    try:
        conn.request(method, base + path_suffix, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()

#!/usr/bin/env python
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An OpenAI-style streaming server whose latency is known exactly: the measuring stick.

Every completion (``POST .../v1/chat/completions`` or ``.../v1/completions``) answers with
``max_tokens`` tokens (as vLLM does with ``ignore_eos``), the first ``--ttft-ms`` after the request
arrived and then one every ``--gap-ms``, on an absolute schedule so the server's own jitter does not
add up. Streamed requests get vLLM's SSE shape (a ``usage`` chunk, then ``data: [DONE]``); others
one JSON answer after the whole schedule. ``GET /health`` and ``GET /v1/models`` answer as vLLM's
do, so the gateway role's backend check and the smoke test accept it.

Used by the benchmark client's timing test (tests/unit/.../test_bench_client_timing.py) and by
benchmarks/gateway_overhead.sh, which puts the gateway in front of it. Standard library only, so it
runs on a bare node's /usr/bin/python3:

    fixed_latency_server.py --port 9100 --ttft-ms 20 --gap-ms 10 --model fixed
"""

from __future__ import annotations

import argparse
import http.server
import json
import socket
import time

DEFAULT_TTFT_MS = 20.0
DEFAULT_GAP_MS = 10.0
DEFAULT_MAX_TOKENS = 16


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Set by make_server.
    ttft_s = DEFAULT_TTFT_MS / 1000
    gap_s = DEFAULT_GAP_MS / 1000
    model = "fixed"

    def log_message(self, *args):  # one line per request would cost more than the answer
        pass

    def setup(self):
        # As vLLM's server (uvicorn) does: each chunk leaves at once, not behind Nagle's algorithm.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        http.server.BaseHTTPRequestHandler.setup(self)

    def _json(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self):
        if self.path == "/health":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.endswith("/v1/models"):
            self._json(200, {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "fixed"}]})
        else:
            self._json(404, {"error": {"message": "not found", "code": 404}})

    def do_POST(self):
        start = time.perf_counter()
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        chat = self.path.endswith("/chat/completions")
        if not (chat or self.path.endswith("/completions")):
            self._json(404, {"error": {"message": "not found", "code": 404}})
            return
        tokens = max(1, int(body.get("max_tokens") or DEFAULT_MAX_TOKENS))
        usage = {"prompt_tokens": len(str(body.get("prompt") or body.get("messages") or "").split()),
                 "completion_tokens": tokens}
        usage["total_tokens"] = usage["prompt_tokens"] + tokens
        if not body.get("stream"):
            time.sleep(max(0.0, start + self.ttft_s + (tokens - 1) * self.gap_s - time.perf_counter()))
            text = "".join("tok%d " % i for i in range(tokens))
            choice = {"index": 0, "finish_reason": "length"}
            choice.update({"message": {"role": "assistant", "content": text}} if chat else {"text": text})
            self._json(200, {"object": "chat.completion" if chat else "text_completion", "model": self.model,
                             "choices": [choice], "usage": usage})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        for i in range(tokens):
            time.sleep(max(0.0, start + self.ttft_s + i * self.gap_s - time.perf_counter()))
            text = "tok%d " % i
            choice = {"index": 0, "delta": {"content": text}} if chat else {"index": 0, "text": text}
            self._chunk(b"data: " + json.dumps({"model": self.model, "choices": [choice]}).encode() + b"\n\n")
        tail = {"model": self.model, "choices": [], "usage": usage}
        self._chunk(b"data: " + json.dumps(tail).encode() + b"\n\ndata: [DONE]\n\n")
        self._chunk(b"")


class FixedLatencyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # listen() backlog: 50 clients connecting at once overflow the default 5.
    request_queue_size = 256


def make_server(host="127.0.0.1", port=0, ttft_ms=DEFAULT_TTFT_MS, gap_ms=DEFAULT_GAP_MS, model="fixed"):
    """A ThreadingHTTPServer (not started) with its own Handler settings; port 0 picks a free one."""
    handler = type("FixedLatencyHandler", (Handler,), {"ttft_s": ttft_ms / 1000.0, "gap_s": gap_ms / 1000.0,
                                                       "model": model})
    return FixedLatencyServer((host, port), handler)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ttft-ms", type=float, default=DEFAULT_TTFT_MS)
    parser.add_argument("--gap-ms", type=float, default=DEFAULT_GAP_MS)
    parser.add_argument("--model", default="fixed")
    args = parser.parse_args(argv)
    httpd = make_server(args.host, args.port, args.ttft_ms, args.gap_ms, args.model)
    httpd.serve_forever()


if __name__ == "__main__":
    main()

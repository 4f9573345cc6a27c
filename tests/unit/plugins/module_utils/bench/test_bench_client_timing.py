"""The benchmark client reports what the server does, over HTTP and over HTTPS with keep-alive.

A local OpenAI-style streaming server (below, in this test: the thing measured must be known
exactly) answers every completion after a fixed time to first token and then one token per fixed
gap. The client's reported TTFT and TPOT must be within a few milliseconds of those, at 1 and at 4
concurrent keep-alive clients, over plain HTTP and over TLS (a certificate made here with
``cryptography``). Before TCP_NODELAY was set on the client's TLS socket, HTTPS added about 40 ms.
"""

from __future__ import annotations

import datetime
import http.server
import json
import socket
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.onprem.llm.plugins.module_utils.bench import client
from ansible_collections.onprem.llm.plugins.module_utils.bench.stats import summarize

TTFT_S = 0.020
GAP_S = 0.010
TOKENS = 8


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        # As vLLM's server (uvicorn) does: each chunk leaves at once, not behind Nagle's algorithm.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        http.server.BaseHTTPRequestHandler.setup(self)

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        start = time.perf_counter()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        for i in range(TOKENS):
            # Sleep to an absolute schedule, so the server's own jitter does not add up.
            time.sleep(max(0.0, start + TTFT_S + i * GAP_S - time.perf_counter()))
            delta = {"choices": [{"index": 0, "delta": {"content": "tok%d " % i}}]}
            self._chunk(b"data: " + json.dumps(delta).encode() + b"\n\n")
        usage = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": TOKENS}}
        self._chunk(b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n")
        self._chunk(b"")


def _certificate(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("bench.test")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(params=["http", "https"])
def server(request, tmp_path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    endpoint = {"url": "http://127.0.0.1:%d" % httpd.server_address[1], "model": "m", "api": "chat"}
    if request.param == "https":
        cert, key = _certificate(tmp_path)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        endpoint.update(url="https://127.0.0.1:%d" % httpd.server_address[1], ca_path=str(cert),
                        tls_server_name="bench.test")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield endpoint
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("concurrency", [1, 4])
def test_reported_ttft_and_tpot_are_the_servers(server, concurrency):
    samples, wall = client.run_level(server, concurrency, 8 * concurrency, "hello", TOKENS)
    out = summarize(samples, wall)
    assert out["errors"] == 0, out["error_messages"]
    assert out["mean_output_tokens"] == TOKENS
    # A few milliseconds for the loopback, TLS and two Python threads on a busy 2-core machine.
    assert TTFT_S * 1000 <= out["ttft_ms"]["p50"] <= TTFT_S * 1000 + 6, out["ttft_ms"]
    assert GAP_S * 1000 - 1 <= out["tpot_ms"]["p50"] <= GAP_S * 1000 + 3, out["tpot_ms"]


def test_the_tls_connection_disables_nagle(server):
    conn = client.connection_factory(server, 5)()
    conn.connect()
    try:
        assert conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        conn.close()

"""The benchmark client reports what the server does, over HTTP and over HTTPS with keep-alive.

A local OpenAI-style streaming server (tests/tools/fixed_latency_server.py, also the backend of
benchmarks/gateway_overhead.sh) answers every completion after a fixed time to first token and then
one token per fixed gap. The client's reported TTFT and TPOT must be within a few milliseconds of those, at 1 and at 4
concurrent keep-alive clients, over plain HTTP and over TLS (a certificate made here with
``cryptography``). Before TCP_NODELAY was set on the client's TLS socket, HTTPS added about 40 ms.
"""

from __future__ import annotations

import datetime
import importlib.util
import socket
import ssl
import threading
import time
from pathlib import Path

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

_SPEC = importlib.util.spec_from_file_location(
    "fixed_latency_server", Path(__file__).resolve().parents[5] / "tests" / "tools" / "fixed_latency_server.py")
fixed_latency_server = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fixed_latency_server)


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
    httpd = fixed_latency_server.make_server(ttft_ms=TTFT_S * 1000, gap_ms=GAP_S * 1000, model="m")
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


@pytest.fixture
def connected_at(monkeypatch):
    """When each of the client's connections finished connecting (TLS handshake included)."""
    times = []
    real_factory = client.connection_factory

    def factory(endpoint, timeout):
        make = real_factory(endpoint, timeout)

        def new_connection():
            conn = make()
            real_connect = conn.connect

            def connect():
                real_connect()
                times.append(time.perf_counter())

            conn.connect = connect
            return conn

        return new_connection

    monkeypatch.setattr(client, "connection_factory", factory)
    return times


def test_connect_first_opens_every_connection_before_the_clock_starts(server, connected_at):
    samples, wall = client.run_level(server, 4, 8, "hello", TOKENS, connect_first=True)
    out = summarize(samples, wall)
    assert out["errors"] == 0, out["error_messages"]
    assert len(connected_at) == 4
    assert max(connected_at) < min(s["start"] for s in samples)


def test_by_default_each_client_connects_on_its_first_request(server, connected_at):
    samples, _wall = client.run_level(server, 4, 8, "hello", TOKENS)
    first_request = min(s["start"] for s in samples)
    assert len(connected_at) == 4
    assert all(t > first_request for t in connected_at)

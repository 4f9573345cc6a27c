"""Requests to the gateway on g-gw1, sent there with its own Python (the gateway listens on its
loopback, TLS with the self-signed certificate the role made there, verified against it). Shared by
the scenario's test modules."""

import json
import shlex

KEY = "molecule-gateway-key-0001"
GATEWAY = "https://127.0.0.1:8443"
CA = "/etc/onprem-llm/gateway/tls/gateway.crt"

_CLIENT = r"""
import json, ssl, sys, urllib.error, urllib.request
url, header, body, ca = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
req = urllib.request.Request(url, data=body.encode() if body else None)
if header:
    req.add_header("Authorization", header)
if body:
    req.add_header("Content-Type", "application/json")
ctx = ssl.create_default_context(cafile=ca) if url.startswith("https") else None
try:
    with urllib.request.urlopen(req, timeout=60, context=ctx) as resp:
        code, text, headers = resp.status, resp.read().decode(), dict(resp.headers)
except urllib.error.HTTPError as exc:
    code, text, headers = exc.code, exc.read().decode(), dict(exc.headers)
print(json.dumps({"code": code, "text": text, "headers": headers}))
"""


def request(host, url, header=None, body=None):
    """One HTTP request from ``host``: {"code", "text", "headers"}."""
    cmd = ["python3", "-c", _CLIENT, url, header or "", json.dumps(body) if body is not None else "", CA]
    return json.loads(host.check_output(" ".join(shlex.quote(c) for c in cmd)))


def chat(**extra):
    """A short chat completion request body for the scenario's model."""
    body = {"model": "tiny-llama", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 8}
    body.update(extra)
    return body

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ollama HTTP API over ``urllib`` (target nodes may lack ``requests``).

Only what the collection uses: ``/``, ``/api/version``, ``/api/tags``, ``/api/show``,
``/api/pull`` (NDJSON stream), ``/api/delete``, ``HEAD``/``POST /api/blobs/<digest>``,
``/api/create`` (NDJSON stream). Every error becomes an OllamaError carrying the server's text.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request

from ansible_collections.onprem.llm.plugins.module_utils.ollama import OllamaError
from ansible_collections.onprem.llm.plugins.module_utils.ollama.errors import classify, error_from_body
from ansible_collections.onprem.llm.plugins.module_utils.ollama.stream import PullProgress, iter_ndjson

DEFAULT_HOST = "http://127.0.0.1:11434"


def base_url(host):
    """``OLLAMA_HOST``-style value (``127.0.0.1:11434``, ``0.0.0.0``, ``http://h:p``) -> URL."""
    host = (host or DEFAULT_HOST).strip().rstrip("/")
    if "://" not in host:
        host = "http://" + host
    scheme, rest = host.split("://", 1)
    hostport = rest.split("/", 1)[0]
    if hostport.startswith("["):
        has_port = "]:" in hostport
    else:
        has_port = ":" in hostport
    if not has_port:
        host = "%s://%s:%s" % (scheme, hostport, 443 if scheme == "https" else 11434)
    # 0.0.0.0 is where the server listens, not where a client connects.
    return host.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://[::1]:")


class _BlobBody:
    """File-like request body that is re-openable for each attempt."""

    def __init__(self, path, chunk=4 << 20):
        self.path, self.chunk = path, chunk

    def __iter__(self):
        with open(self.path, "rb") as handle:
            while True:
                block = handle.read(self.chunk)
                if not block:
                    return
                yield block


class OllamaClient:
    def __init__(self, host=DEFAULT_HOST, timeout=30.0, use_proxy=False, retries=3, backoff=1.0, sleep=time.sleep):
        self.url = base_url(host)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        handlers = [] if use_proxy else [urllib.request.ProxyHandler({})]
        self.opener = urllib.request.build_opener(*handlers)

    # -- transport ---------------------------------------------------------------------------
    def _open(self, method, path, body=None, headers=None, timeout=None):
        data = None
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        elif body is not None:
            data = body
        request = urllib.request.Request(self.url + path, data=data, headers=hdrs, method=method)
        try:
            return self.opener.open(request, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            message = error_from_body(raw, exc.code)
            kind, transient, _hint = classify(message, exc.code)
            raise OllamaError(message, status=exc.code, transient=transient, kind=kind)
        except (urllib.error.URLError, socket.timeout, ConnectionError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise OllamaError("cannot reach the Ollama server at %s: %s" % (self.url, reason), transient=True, kind="network")

    def _json(self, method, path, body=None):
        response = self._open(method, path, body)
        with response:
            raw = response.read()
        if not raw.strip():
            return {}
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            return {"text": raw.decode("utf-8", "replace")}

    def _retrying(self, action):
        """Run ``action()``; retry transient errors with exponential backoff."""
        attempt = 0
        while True:
            try:
                return action()
            except OllamaError as exc:
                if not exc.transient or attempt >= self.retries:
                    raise
                self.sleep(min(30.0, self.backoff * (2 ** attempt)))
                attempt += 1

    # -- endpoints ---------------------------------------------------------------------------
    def root(self):
        response = self._open("GET", "/")
        with response:
            return response.read().decode("utf-8", "replace").strip()

    def version(self):
        return self._retrying(lambda: self._json("GET", "/api/version")).get("version")

    def tags(self):
        return self._retrying(lambda: self._json("GET", "/api/tags")).get("models") or []

    def ps(self):
        return self._retrying(lambda: self._json("GET", "/api/ps")).get("models") or []

    def show(self, model):
        """``/api/show`` or None when the model does not exist."""
        try:
            return self._retrying(lambda: self._json("POST", "/api/show", {"model": model, "name": model}))
        except OllamaError as exc:
            if exc.status == 404:
                return None
            raise

    def delete(self, model):
        self._retrying(lambda: self._json("DELETE", "/api/delete", {"model": model, "name": model}))

    def _stream(self, path, body, on_event=None, timeout=None):
        progress = PullProgress()
        response = self._open("POST", path, body, timeout=timeout)
        try:
            with response:
                for event in iter_ndjson(response):
                    progress.feed(event)
                    if on_event:
                        on_event(event)
        except (socket.timeout, ConnectionError, http.client.HTTPException, OSError) as exc:
            if isinstance(exc, OllamaError):
                raise
            raise OllamaError("connection to %s lost during %s: %s" % (self.url, path, exc), transient=True, kind="network")
        if not progress.success:
            raise OllamaError("the %s stream ended before 'success' (last status: %s)"
                              % (path, progress.statuses[-1] if progress.statuses else "none"), transient=True, kind="network")
        return progress

    def pull(self, model, insecure=False, on_event=None, timeout=None):
        """Pull with retries; the server keeps partial layers, so each retry resumes them."""
        body = {"model": model, "name": model, "insecure": bool(insecure), "stream": True}
        return self._retrying(lambda: self._stream("/api/pull", body, on_event, timeout))

    def create(self, body, on_event=None, timeout=None):
        body = dict(body)
        body.setdefault("name", body.get("model"))
        return self._retrying(lambda: self._stream("/api/create", body, on_event, timeout))

    def blob_exists(self, digest):
        try:
            self._retrying(lambda: self._open("HEAD", "/api/blobs/" + digest).close())
            return True
        except OllamaError as exc:
            if exc.status == 404:
                return False
            raise

    def push_blob(self, digest, path, timeout=None):
        size = os.path.getsize(path)

        def send():
            response = self._open("POST", "/api/blobs/" + digest, _BlobBody(path),
                                  {"Content-Length": str(size), "Content-Type": "application/octet-stream"},
                                  timeout=timeout)
            response.close()

        self._retrying(send)

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Hugging Face Hub double: the subset of the Hub HTTP API that huggingface_hub 2.x and
model_fetch use, served by the standard library on loopback. See README-hf_hub_double.md.

Endpoints (``{type}`` is ``models`` or ``datasets``; ``{rev}`` is URL-quoted, ``%2F`` allowed):

- ``GET /api/{type}/{repo}`` and ``GET /api/{type}/{repo}/revision/{rev}`` (``?blobs=true``:
  siblings with size, blobId, lfs {size, sha256, pointerSize}) - HfApi.model_info / dataset_info
- ``GET /api/{type}/{repo}/tree/{rev}[/{path}]?recursive=&expand=`` with cursor pagination in a
  ``Link: <...>; rel="next"`` header - HfApi.list_repo_tree
- ``POST /api/{type}/{repo}/paths-info/{rev}`` (form: ``paths`` repeated, ``expand``) - get_paths_info
- ``GET /api/{type}/{repo}/refs`` - list_repo_refs
- ``HEAD|GET /[datasets/]{repo}/resolve/{rev}/{path}``: regular files answer 200 with ETag = git
  blob sha1; LFS files answer 302 to ``<cdn_url>/cdn-lfs/<sha256>`` (absolute URL on a second port, i.e.
  another origin, like the Hub's CDN redirect) with X-Linked-Etag / X-Linked-Size; both carry X-Repo-Commit.
- ``GET|HEAD /cdn-lfs/{sha256}``: the LFS bytes, with Range / 206 / 416 / ETag / Accept-Ranges.

Errors carry ``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound) as the Hub does, so
huggingface_hub raises its typed errors. ``StaticMirrorDouble`` serves a plain directory (an
nginx-like http mirror) with the same Range and fault knobs.

Faults and counters (all thread-safe, settable while serving):
``cut_after[path] = n`` drops the connection after n body bytes of the next response for that
path (``cut_after_all = n`` for every response), ``ignore_range = True`` answers 200 with the full
body to ranged requests, ``fail_next[path] = [status, ...]`` answers those statuses first,
``rate_limit = bytes_per_s`` throttles bodies, ``chunk_gate = threading.Semaphore(0)`` makes each
body chunk wait for one ``release()`` (a test steps a transfer), ``require_token = "hf_..."`` demands
``Authorization: Bearer``. ``body_bytes[path]`` / ``bytes_sent`` count body bytes sent,
``requests`` logs (method, path, range, authorization).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib import parse as urlparse

CHUNK = 1 << 20
POINTER_SIZE = 134


def git_blob_sha1(path):
    size = os.path.getsize(path)
    h = hashlib.sha1(b"blob %d\x00" % size)  # nosec - git object id
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def fake_commit(seed):
    return hashlib.sha1(seed.encode()).hexdigest()  # nosec - just a 40-hex id


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hf-hub-double/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    # ---- plumbing -------------------------------------------------------------------------

    @property
    def double(self):
        return self.server.double

    def _send_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status, code=None, message=None, extra=None):
        headers = dict(extra or {})
        if code:
            headers["X-Error-Code"] = code
        if message:
            headers["X-Error-Message"] = message
        self._send_json(status, {"error": message or code or "error"}, headers)

    def _log(self, path):
        d = self.double
        with d.lock:
            d.requests.append((self.command, path, self.headers.get("Range"), self.headers.get("Authorization")))

    def _authorised(self):
        tok = self.double.require_token
        return tok is None or self.headers.get("Authorization") == "Bearer %s" % tok

    def do_HEAD(self):
        self._dispatch()

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def _dispatch(self):
        try:
            self.double.route(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # ---- file bodies with Range and faults -------------------------------------------------

    def send_file(self, key, path, headers=None, etag=None):
        d = self.double
        self._log(key)
        with d.lock:
            pending = d.fail_next.get(key)
            status = pending.pop(0) if pending else None
        if status is not None:
            self._error(status, message="injected failure")
            return
        size = os.path.getsize(path)
        rng = self.headers.get("Range")
        start, end = 0, size - 1
        status = 200
        if rng and not d.ignore_range:
            parsed = _parse_range(rng, size)
            if parsed is None:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, end = parsed
            status = 206
        length = max(0, end - start + 1)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if etag:
            self.send_header("ETag", '"%s"' % etag)
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD" or length == 0:
            return
        with d.lock:
            cut = d.cut_after.pop(key, None)
            if cut is None:
                cut = d.cut_after_all
        rate = d.rate_limit
        gate = d.chunk_gate
        sent = 0
        with open(path, "rb") as f:
            f.seek(start)
            if cut is None and not rate and gate is None:
                self.wfile.flush()
                sent = self.connection.sendfile(f, start, length)
                d.count(key, sent)
                return
            t0 = time.monotonic()
            while sent < length:
                want = min(CHUNK if not rate else max(1, rate // 20), length - sent)
                if cut is not None:
                    want = min(want, cut - sent)
                    if want <= 0:
                        self._drop()
                        return
                if gate is not None:
                    gate.acquire()
                block = f.read(want)
                if not block:
                    break
                self.wfile.write(block)
                sent += len(block)
                d.count(key, len(block))
                if rate:
                    ahead = sent / float(rate) - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
            if cut is not None and sent >= cut:
                self._drop()

    def _drop(self):
        """Simulate a cut: close the connection before the body is complete.

        A FIN, not a RST: the client gets every byte sent so far, then a short body
        (http.client.IncompleteRead), so tests can count exactly what was sent."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _parse_range(value, size):
    """Single byte range ``bytes=a-``, ``bytes=a-b`` or ``bytes=-n``; None if unsatisfiable."""
    value = value.strip()
    if not value.startswith("bytes=") or "," in value:
        return 0, size - 1
    a, _dash, b = value[6:].partition("-")
    if a == "":
        n = int(b)
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else None
    start = int(a)
    end = int(b) if b else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _BaseDouble(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.body_bytes = {}
        self.bytes_sent = 0
        self.cut_after = {}
        self.cut_after_all = None
        self.ignore_range = False
        self.fail_next = {}
        self.rate_limit = None
        self.chunk_gate = None
        self.require_token = None
        self._server = None
        self._thread = None

    def count(self, key, n):
        with self.lock:
            self.body_bytes[key] = self.body_bytes.get(key, 0) + n
            self.bytes_sent += n

    def reset_counters(self):
        with self.lock:
            self.requests = []
            self.body_bytes = {}
            self.bytes_sent = 0

    def start(self, host="127.0.0.1", port=0):
        self._server = _Server((host, port), _Handler)
        self._server.double = self
        # A short poll interval: shutdown() waits up to one interval (0.5 s by default, per test).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="hf-hub-double", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return "http://%s:%d" % (host, port)

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.stop()


class HubRepo(object):
    """One repository: commits (sha -> {path: entry}), branches and tags (name -> sha)."""

    def __init__(self, repo_id, repo_type="model"):
        self.repo_id = repo_id
        self.repo_type = repo_type
        self.commits = {}
        self.refs = {"branches": {}, "tags": {}}

    def resolve(self, rev):
        if rev in self.commits:
            return rev
        for kind in ("branches", "tags"):
            if rev in self.refs[kind]:
                return self.refs[kind][rev]
        return None


class HubDouble(_BaseDouble):
    """``add_repo(...)`` then ``start()``; ``url`` is the endpoint to give HfApi / HF_ENDPOINT."""

    def __init__(self, lfs_threshold=10 * 1024, lfs_patterns=("*.safetensors", "*.bin", "*.gguf", "*.pt"),
                 page_size=1000, redirect_lfs=True):
        super(HubDouble, self).__init__()
        self.repos = {}
        self.lfs_threshold = lfs_threshold
        self.lfs_patterns = lfs_patterns
        self.page_size = page_size
        self.redirect_lfs = redirect_lfs
        self.blobs = {}  # sha256 -> file path (the "CDN")
        self.files_metadata_supported = True
        self._cdn_server = None

    def start(self, host="127.0.0.1", port=0):
        """Start the Hub on ``port`` and its "CDN" on another port (another origin, as on the Hub:
        huggingface_hub follows same-origin redirects but stops at a CDN redirect, reading the
        metadata from the 302 itself, and never sends the token there)."""
        super(HubDouble, self).start(host, port)
        self._cdn_server = _Server((host, 0), _Handler)
        self._cdn_server.double = self
        threading.Thread(target=self._cdn_server.serve_forever, kwargs={"poll_interval": 0.02},
                         name="hf-hub-double-cdn", daemon=True).start()
        return self

    @property
    def cdn_url(self):
        host, port = self._cdn_server.server_address[:2]
        return "http://%s:%d" % (host, port)

    def stop(self):
        if self._cdn_server is not None:
            self._cdn_server.shutdown()
            self._cdn_server.server_close()
            self._cdn_server = None
        super(HubDouble, self).stop()

    def add_repo(self, repo_id, source_dir, branch="main", tags=(), repo_type="model", commit=None):
        """Publish every file under ``source_dir`` as one commit on ``branch`` (and ``tags``)."""
        import fnmatch

        repo = self.repos.setdefault((repo_type, repo_id), HubRepo(repo_id, repo_type))
        entries = {}
        for dirpath, dirnames, filenames in os.walk(source_dir):
            dirnames.sort()
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, source_dir).replace(os.sep, "/")
                size = os.path.getsize(full)
                lfs = size >= self.lfs_threshold or any(fnmatch.fnmatch(name, p) for p in self.lfs_patterns)
                entry = {"path": rel, "size": size, "file": full, "blob_id": git_blob_sha1(full), "lfs": None}
                if lfs:
                    sha = sha256_of(full)
                    entry["lfs"] = {"oid": sha, "size": size, "pointerSize": POINTER_SIZE}
                    # the git blob of an LFS file is its pointer file, not the content
                    pointer = ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n" % (sha, size)).encode()
                    entry["blob_id"] = hashlib.sha1(b"blob %d\x00" % len(pointer) + pointer).hexdigest()  # nosec
                    self.blobs[sha] = full
                entries[rel] = entry
        commit = commit or fake_commit("%s/%s/%d/%s" % (repo_type, repo_id, len(repo.commits), sorted(entries)))
        repo.commits[commit] = entries
        repo.refs["branches"][branch] = commit
        for t in tags:
            repo.refs["tags"][t] = commit
        return commit

    # ---- routing ---------------------------------------------------------------------------

    def route(self, h):
        parsed = urlparse.urlsplit(h.path)
        raw_path = parsed.path
        query = urlparse.parse_qs(parsed.query, keep_blank_values=True)
        parts = raw_path.lstrip("/").split("/")
        if parts[0] == "cdn-lfs" and len(parts) == 2:
            self._cdn(h, parts[1])
        elif parts[0] == "api" and len(parts) >= 4 and parts[1] in ("models", "datasets"):
            if not h._authorised():
                return h._error(401, "RepoNotFound", "Invalid credentials in Authorization header"
                                if h.headers.get("Authorization") else "Repository not found")
            self._api(h, parts[1][:-1], parts[2:], query)
        elif "resolve" in parts:
            if not h._authorised():
                return h._error(401, "RepoNotFound", "Repository not found")
            self._resolve(h, parts)
        else:
            h._error(404, message="not found")

    def _repo_and_rest(self, repo_type, parts):
        """parts after /api/{type}s/: owner/name[/...]; repo ids may also be single-segment."""
        for n in (2, 1):
            key = (repo_type, "/".join(parts[:n]))
            if key in self.repos:
                return self.repos[key], parts[n:]
        return None, parts

    def _api(self, h, repo_type, parts, query):
        repo, rest = self._repo_and_rest(repo_type, parts)
        h._log("/api/" + "/".join(parts))
        if repo is None:
            return h._error(404, "RepoNotFound", "Repository not found")
        if rest == [] or (len(rest) == 2 and rest[0] == "revision"):
            rev = urlparse.unquote(rest[1]) if rest else "main"
            commit = repo.resolve(rev)
            if commit is None:
                return h._error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            blobs = _truthy(query.get("blobs"))
            return h._send_json(200, self._info(repo, commit, blobs and self.files_metadata_supported))
        if rest == ["refs"]:
            return h._send_json(200, {
                "branches": [{"name": n, "ref": "refs/heads/" + n, "targetCommit": c} for n, c in sorted(repo.refs["branches"].items())],
                "tags": [{"name": n, "ref": "refs/tags/" + n, "targetCommit": c} for n, c in sorted(repo.refs["tags"].items())],
                "converts": []})
        if rest and rest[0] == "tree" and len(rest) >= 2:
            commit = repo.resolve(urlparse.unquote(rest[1]))
            if commit is None:
                return h._error(404, "RevisionNotFound", "Invalid rev id")
            sub = urlparse.unquote("/".join(rest[2:])).strip("/")
            items = self._tree(repo.commits[commit], sub, _truthy(query.get("recursive")))
            if items is None:
                return h._error(404, "EntryNotFound", "%s does not exist" % sub)
            cursor = int(query.get("cursor", ["0"])[0] or 0)
            page = items[cursor:cursor + self.page_size]
            headers = {}
            if cursor + self.page_size < len(items):
                q = dict((k, v[0]) for k, v in query.items())
                q["cursor"] = str(cursor + self.page_size)
                nxt = "%s%s?%s" % (self.url, urlparse.urlsplit(h.path).path, urlparse.urlencode(q))
                headers["Link"] = '<%s>; rel="next"' % nxt
            return h._send_json(200, page, headers)
        if rest and rest[0] == "paths-info" and len(rest) == 2 and h.command == "POST":
            commit = repo.resolve(urlparse.unquote(rest[1]))
            if commit is None:
                return h._error(404, "RevisionNotFound", "Invalid rev id")
            length = int(h.headers.get("Content-Length") or 0)
            body = h.rfile.read(length).decode()
            if "json" in (h.headers.get("Content-Type") or ""):
                form = json.loads(body or "{}")
                paths = form.get("paths") or []
            else:
                paths = urlparse.parse_qs(body).get("paths", [])
            files = repo.commits[commit]
            out = []
            for p in paths:
                p = p.strip("/")
                if p in files:
                    out.append(self._file_json(files[p]))
                elif any(k.startswith(p + "/") for k in files):
                    out.append(self._dir_json(p))
            return h._send_json(200, out)
        return h._error(404, message="unknown API route")

    def _info(self, repo, commit, blobs):
        siblings = []
        for path, e in sorted(repo.commits[commit].items()):
            s = {"rfilename": path}
            if blobs:
                s["size"] = e["size"]
                s["blobId"] = e["blob_id"]
                if e["lfs"]:
                    s["lfs"] = {"size": e["size"], "sha256": e["lfs"]["oid"], "pointerSize": POINTER_SIZE}
            siblings.append(s)
        return {"_id": fake_commit(repo.repo_id)[:24], "id": repo.repo_id, "modelId": repo.repo_id,
                "author": repo.repo_id.split("/")[0], "sha": commit, "lastModified": "2025-01-01T00:00:00.000Z",
                "private": False, "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": [],
                "siblings": siblings, "createdAt": "2025-01-01T00:00:00.000Z"}

    @staticmethod
    def _file_json(e):
        out = {"type": "file", "oid": e["blob_id"], "size": e["size"], "path": e["path"]}
        if e["lfs"]:
            out["lfs"] = dict(e["lfs"])
        return out

    @staticmethod
    def _dir_json(path):
        return {"type": "directory", "oid": fake_commit("tree:" + path), "size": 0, "path": path}

    def _tree(self, files, sub, recursive):
        prefix = sub + "/" if sub else ""
        if sub and not any(k.startswith(prefix) for k in files):
            return None
        out, dirs = [], set()
        for path in sorted(files):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):]
            segs = rest.split("/")
            for i in range(1, len(segs)):
                d = prefix + "/".join(segs[:i])
                if (recursive or i == 1) and d not in dirs:
                    dirs.add(d)
                    out.append(self._dir_json(d))
            if recursive or len(segs) == 1:
                out.append(self._file_json(files[path]))
        return out

    def _resolve(self, h, parts):
        repo_type = "model"
        if parts[0] in ("datasets", "spaces"):
            repo_type = parts[0][:-1]
            parts = parts[1:]
        i = parts.index("resolve")
        repo = self.repos.get((repo_type, "/".join(parts[:i])))
        h._log("/" + "/".join(parts))
        if repo is None or len(parts) < i + 3:
            return h._error(404, "RepoNotFound", "Repository not found")
        rev = urlparse.unquote(parts[i + 1])
        commit = repo.resolve(rev)
        if commit is None:
            return h._error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
        path = urlparse.unquote("/".join(parts[i + 2:]))
        e = repo.commits[commit].get(path)
        if e is None:
            return h._error(404, "EntryNotFound", "%s does not exist at %s" % (path, rev),
                            {"X-Repo-Commit": commit})
        common = {"X-Repo-Commit": commit}
        if e["lfs"] and self.redirect_lfs:
            h.send_response(302)
            h.send_header("Location", "%s/cdn-lfs/%s" % (self.cdn_url, e["lfs"]["oid"]))
            h.send_header("X-Repo-Commit", commit)
            h.send_header("X-Linked-Etag", '"%s"' % e["lfs"]["oid"])
            h.send_header("X-Linked-Size", str(e["size"]))
            h.send_header("ETag", '"%s"' % e["blob_id"])
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        etag = e["lfs"]["oid"] if e["lfs"] else e["blob_id"]
        h.send_file(path, e["file"], common, etag=etag)

    def _cdn(self, h, sha):
        f = self.blobs.get(sha)
        if f is None:
            h._log("/cdn-lfs/" + sha)
            return h._error(404, message="no such object")
        # counters are keyed by repo path so tests can ask body_bytes["model.safetensors"]
        key = next((e["path"] for r in self.repos.values() for c in r.commits.values() for e in c.values()
                    if e["lfs"] and e["lfs"]["oid"] == sha), sha)
        h.send_file(key, f, etag=sha)


class StaticMirrorDouble(_BaseDouble):
    """A plain static file server over ``root`` (like nginx serving a mirror), with Range."""

    def __init__(self, root):
        super(StaticMirrorDouble, self).__init__()
        self.root = os.path.abspath(root)

    def route(self, h):
        if not h._authorised():
            return h._error(401, message="unauthorised")
        rel = urlparse.unquote(urlparse.urlsplit(h.path).path).lstrip("/")
        rel = posixpath.normpath(rel) if rel else ""
        full = os.path.join(self.root, *rel.split("/")) if rel and not rel.startswith("..") else None
        if h.command not in ("GET", "HEAD") or full is None or not os.path.isfile(full):
            h._log(rel)
            return h._error(404, message="not found")
        h.send_file(rel, full)


def _truthy(values):
    return bool(values) and values[0].lower() in ("1", "true", "yes")


def main(argv=None):
    """``python tests/doubles/hf_hub_double.py DIR REPO_ID [PORT]``: serve DIR as REPO_ID until killed."""
    import sys

    argv = sys.argv[1:] if argv is None else argv
    d = HubDouble()
    commit = d.add_repo(argv[1], argv[0])
    d.start(port=int(argv[2]) if len(argv) > 2 else 0)
    print(json.dumps({"endpoint": d.url, "repo_id": argv[1], "commit": commit}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        d.stop()


if __name__ == "__main__":
    main()

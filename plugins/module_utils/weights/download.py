# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resumable, verified staging of model files into a directory.

Layout kept under ``dest`` (all dot-names, ignored by validators and loaders):

- ``.partial/<path>.partial``   bytes received so far; survives kills and re-runs, so a re-run asks
  the server for ``Range: bytes=<size of partial>-`` and never starts a file from zero again.
- ``.partial/<path>.meta``      what the partial is a prefix of (size, sha256); a partial whose
  remote file changed is discarded instead of being completed with bytes of another file.
- ``.onprem-verified.json``     ``{"files": [{path, size, sha256, mtime_ns}]}`` for every file that
  was verified; a later run trusts a file whose size and mtime_ns still match (no re-hashing).
- ``.onprem-fetch-status.json`` progress for ``async`` callers, rewritten at least every second.
- ``.onprem-fetch.lock``        flock held during a run (two runs on one dest would corrupt partials).

A file is moved into place (``os.replace`` after ``fsync``) only after its size and sha256 (or, for
small non-LFS Hub files that have no sha256 in the Hub's metadata, its git blob sha1) matched.

This is the engine (threads, urllib, files); the planning it acts on is ``fetch_plan.py``
(pure, unit-tested without I/O). Only the standard library is used: target nodes may lack
``requests``.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib import error as urlerror
from urllib import request as urlrequest

from ansible_collections.onprem.llm.plugins.module_utils.weights.fetch_plan import (
    PARTIAL_DIR,
    VERIFIED_MANIFEST,
    LOCK_FILE,
    FetchError,
    VerificationError,
    DiskSpaceError,
    RemoteNotFound,
    TransientError,
    range_header,
    decide_response,
    backoff_delay,
    plan_files,
    bytes_needed,
    check_free_space,
    out_of_space_message,
)
from ansible_collections.onprem.llm.plugins.module_utils.weights.manifest import DEFAULT_BUFSIZE, sha256_file

CHUNK_SIZE = DEFAULT_BUFSIZE  # 1 MiB: see manifest.py for the measurement


# --------------------------------------------------------------------------------------------
# Hashing
# --------------------------------------------------------------------------------------------


class Hashers(object):
    """sha256 always; git blob sha1 too when the listing identifies the file by it."""

    def __init__(self, size, want_git_sha1):
        self.sha256 = hashlib.sha256()
        self.sha1 = None
        if want_git_sha1:
            self.sha1 = hashlib.sha1()  # nosec - git object id, not a security boundary on its own
            self.sha1.update(b"blob %d\x00" % size)

    def update(self, data):
        self.sha256.update(data)
        if self.sha1 is not None:
            self.sha1.update(data)

    def feed_file(self, path, limit=None):
        """Hash the first ``limit`` bytes (all if None) of ``path``; returns bytes read."""
        done = 0
        buf = bytearray(CHUNK_SIZE)
        view = memoryview(buf)
        with open(path, "rb") as f:
            while limit is None or done < limit:
                want = CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit - done)
                n = f.readinto(view[:want])
                if not n:
                    break
                self.update(view[:n])
                done += n
        return done


def hash_file(path, size, want_git_sha1=False):
    """(sha256, git_sha1 or None) of a file on disk. Indirection point counted by the tests."""
    if not want_git_sha1:
        return sha256_file(path), None
    h = Hashers(size, want_git_sha1)
    h.feed_file(path)
    return h.sha256.hexdigest(), (h.sha1.hexdigest() if h.sha1 is not None else None)


def verify_digests(spec, size, sha256, git_sha1):
    """Raise VerificationError unless size and the digests the listing knows all match."""
    if size != spec["size"]:
        raise VerificationError("%s: size %d, expected %d" % (spec["path"], size, spec["size"]))
    if spec.get("sha256") and sha256 != spec["sha256"]:
        raise VerificationError("%s: sha256 %s, expected %s" % (spec["path"], sha256, spec["sha256"]))
    if spec.get("git_sha1") and git_sha1 is not None and git_sha1 != spec["git_sha1"]:
        raise VerificationError("%s: git blob sha1 %s, expected %s" % (spec["path"], git_sha1, spec["git_sha1"]))


# --------------------------------------------------------------------------------------------
# Small file-system helpers
# --------------------------------------------------------------------------------------------


def fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_json(path, data, durable=True):
    """Replace ``path`` atomically; ``durable=False`` skips the fsync (progress reports only)."""
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_verified(dest):
    """{path: entry} from ``<dest>/.onprem-verified.json`` (empty if missing or unreadable)."""
    doc = read_json(os.path.join(dest, VERIFIED_MANIFEST)) or {}
    out = {}
    for entry in doc.get("files") or []:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            out[entry["path"]] = entry
    return out


def partial_paths(dest, relpath):
    base = os.path.join(dest, PARTIAL_DIR, *relpath.split("/"))
    return base + ".partial", base + ".meta"


def scan_dest(dest, specs):
    """(on_disk, partials) for plan_files, looking only at the listed paths."""
    on_disk, partials = {}, {}
    for spec in specs:
        path = spec["path"]
        try:
            st = os.stat(os.path.join(dest, *path.split("/")))
            if os.path.isfile(os.path.join(dest, *path.split("/"))):
                on_disk[path] = (st.st_size, st.st_mtime_ns)
        except OSError:
            pass
        part, meta = partial_paths(dest, path)
        try:
            partials[path] = (os.stat(part).st_size, read_json(meta))
        except OSError:
            pass
    return on_disk, partials


def free_bytes(path):
    """Free bytes for an unprivileged writer at ``path`` (its nearest existing parent)."""
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return shutil.disk_usage(probe).free


WRITEBACK_STEP = 8 * 1024 * 1024


class Writeback(object):
    """Start writing received bytes to disk while the transfer goes on, and drop them from the cache.

    Without it every byte of a file is still dirty in the page cache when the transfer ends, and
    the ``fsync`` before the rename waits for all of it. Every ``step`` bytes,
    ``posix_fadvise(DONTNEED)`` on the range just written starts its write-back (Linux starts
    asynchronous write-back of dirty pages for DONTNEED, then drops the clean ones), and on the
    range before it (normally written back by then; pages still dirty are skipped) drops those
    pages: a 140 GB model does not evict everything else from the page cache, and freed pages are
    reused while still hot. Durability still comes from the fsync before the rename; this only
    moves the disk work into the transfer. A no-op where posix_fadvise is missing.
    """

    def __init__(self, fd, offset, step=None, advise=None):
        self.fd = fd
        self.step = step or WRITEBACK_STEP
        self.advise = advise if advise is not None else getattr(os, "posix_fadvise", None)
        self.dropped = self.started = self.pos = offset

    def wrote(self, n):
        self.pos += n
        if self.advise is None or self.pos - self.started < self.step:
            return
        try:
            if self.started > self.dropped:  # (a length of 0 would mean "to the end of the file")
                self.advise(self.fd, self.dropped, self.started - self.dropped, os.POSIX_FADV_DONTNEED)
            self.advise(self.fd, self.started, self.pos - self.started, os.POSIX_FADV_DONTNEED)
        except OSError:
            self.advise = None  # advice only: never fail a transfer for it
            return
        self.dropped, self.started = self.started, self.pos


# --------------------------------------------------------------------------------------------
# Transports
# --------------------------------------------------------------------------------------------

NETWORK_ERRORS = (urlerror.URLError, http.client.HTTPException, ConnectionError, socket.timeout, TimeoutError)


def ssl_context(ca_path=None, validate_certs=True):
    """Default trust store plus ``ca_path`` (a PEM bundle file or a hashed directory)."""
    ctx = ssl.create_default_context()
    if ca_path:
        if os.path.isdir(ca_path):
            ctx.load_verify_locations(capath=ca_path)
        else:
            ctx.load_verify_locations(cafile=ca_path)
    if not validate_certs:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def build_opener(proxy=None, ca_path=None, validate_certs=True):
    """urllib opener honouring ``proxy`` (else HTTPS_PROXY/HTTP_PROXY/NO_PROXY) and the extra CA."""
    proxies = {"http": proxy, "https": proxy} if proxy else None  # None: urllib reads the environment
    return urlrequest.build_opener(
        urlrequest.ProxyHandler(proxies),
        urlrequest.HTTPSHandler(context=ssl_context(ca_path, validate_certs)),
    )


class HttpTransport(object):
    """Ranged GETs with urllib. ``headers`` (e.g. Authorization) are not forwarded across redirects."""

    def __init__(self, opener, timeout=60.0, headers=None, user_agent="onprem.llm-model_fetch"):
        self.opener = opener
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.user_agent = user_agent

    def open(self, spec, offset):
        """Return (decision, start, stream); stream has readinto() and close()."""
        req = urlrequest.Request(spec["url"])
        req.add_header("User-Agent", self.user_agent)
        req.add_header("Accept-Encoding", "identity")
        rng = range_header(offset)
        if rng:
            req.add_header("Range", rng)
        for key, value in self.headers.items():
            # unredirected: a token for the Hub must not travel to the CDN it redirects to
            req.add_unredirected_header(key, value)
        try:
            resp = self.opener.open(req, timeout=self.timeout)
        except urlerror.HTTPError as e:
            status = e.code
            e.close()
            decision, start = decide_response(status, offset, e.headers.get("Content-Range"), spec["size"])
            return decision, start, None
        except NETWORK_ERRORS as e:
            raise TransientError("%s: %s" % (spec["url"], e))
        decision, start = decide_response(resp.status, offset, resp.headers.get("Content-Range"), spec["size"])
        if decision == "reset":
            resp.close()
            return decision, start, None
        return decision, start, resp


class LocalTransport(object):
    """Copies from a local path or NFS mount; resumes by seeking, like a Range request."""

    def open(self, spec, offset):
        try:
            f = open(spec["src"], "rb")
        except FileNotFoundError:
            raise RemoteNotFound("%s does not exist" % spec["src"])
        except OSError as e:
            raise TransientError("%s: %s" % (spec["src"], e))
        if offset:
            f.seek(offset)
        return "append", offset, f


# --------------------------------------------------------------------------------------------
# Progress / status file
# --------------------------------------------------------------------------------------------


class Progress(object):
    def __init__(self, bytes_total=0, files_total=0):
        self.lock = threading.Lock()
        self.bytes_total = bytes_total
        self.bytes_done = 0
        self.files_total = files_total
        self.files_done = 0
        self.current = {}
        self.samples = []
        self.started = time.time()
        self.state = "running"

    def add(self, path, n):
        with self.lock:
            self.bytes_done += n
            cur = self.current.get(path)
            if cur is not None:
                cur["bytes_done"] += n

    def start_file(self, path, size, offset):
        with self.lock:
            self.current[path] = {"path": path, "size": size, "bytes_done": offset}

    def end_file(self, path, ok=True):
        with self.lock:
            self.current.pop(path, None)
            if ok:
                self.files_done += 1

    def snapshot(self):
        now = time.time()
        with self.lock:
            self.samples.append((now, self.bytes_done))
            self.samples = [s for s in self.samples if now - s[0] <= 5.0] or [(now, self.bytes_done)]
            t0, b0 = self.samples[0]
            rate = (self.bytes_done - b0) / (now - t0) if now > t0 else 0.0
            return {
                "state": self.state,
                "bytes_done": self.bytes_done,
                "bytes_total": self.bytes_total,
                "rate_bytes_per_s": int(rate),
                "files_done": self.files_done,
                "files_total": self.files_total,
                "current": sorted(self.current.values(), key=lambda c: c["path"]),
                "started_at": self.started,
                "updated_at": now,
            }


class StatusWriter(threading.Thread):
    """Rewrites the status JSON atomically every ``interval`` seconds until stopped."""

    def __init__(self, path, progress, interval=0.5):
        super(StatusWriter, self).__init__(name="model_fetch-status")
        self.daemon = True
        self.path = path
        self.progress = progress
        self.interval = interval
        self.stop_event = threading.Event()

    def write(self):
        if not self.path:
            return
        try:
            # not fsynced: a journal commit twice a second competes with the transfer's own
            # write-back, and a status file lost in a crash is rewritten by the next run
            atomic_write_json(self.path, self.progress.snapshot(), durable=False)
        except OSError:
            pass

    def run(self):
        while not self.stop_event.wait(self.interval):
            self.write()

    def stop(self, state):
        self.progress.state = state
        self.stop_event.set()
        if self.is_alive():
            self.join()
        self.write()


# --------------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------------


class Stager(object):
    """Stage ``specs`` into ``dest`` through ``transport``. Not a pure object: it does the I/O."""

    def __init__(self, dest, transport, parallel=4, retries=5, status_file=None, revision=None,
                 disk_free=None, sleep=time.sleep, status_interval=0.5, reserve_bytes=0):
        self.dest = dest
        self.transport = transport
        self.parallel = max(1, int(parallel))
        self.retries = max(0, int(retries))
        self.status_file = status_file
        self.revision = revision
        self.disk_free = disk_free or free_bytes
        self.sleep = sleep
        self.status_interval = status_interval
        self.reserve_bytes = reserve_bytes
        self.manifest_lock = threading.Lock()
        self.verified = {}
        self.warnings = []
        self.progress = Progress()
        self._lock_fd = None

    # ---- planning (read-only: also what check mode reports) ------------------------------

    def plan(self, specs):
        self.verified = load_verified(self.dest) if os.path.isdir(self.dest) else {}
        on_disk, partials = scan_dest(self.dest, specs)
        return plan_files(specs, on_disk, partials, self.verified)

    def resolve_verify_items(self, plan):
        """Hash dest files that match in size but are not vouched for; turn them into present or fetch."""
        out = []
        for item in plan:
            if item["state"] != "verify":
                out.append(item)
                continue
            spec = item["spec"]
            final = os.path.join(self.dest, *spec["path"].split("/"))
            sha256, git_sha1 = hash_file(final, spec["size"], bool(spec.get("git_sha1")) and not spec.get("sha256"))
            try:
                verify_digests(spec, spec["size"], sha256, git_sha1)
            except VerificationError:
                out.append({"spec": spec, "state": "fetch", "offset": 0, "replaces": True})
                continue
            out.append({"spec": spec, "state": "present", "offset": 0, "hashed": {"sha256": sha256, "git_sha1": git_sha1}})
        return out

    # ---- running ---------------------------------------------------------------------------

    def _acquire_lock(self):
        import fcntl
        path = os.path.join(self.dest, LOCK_FILE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise FetchError("another model_fetch is staging into %s (lock %s held)" % (self.dest, path))
            raise
        self._lock_fd = fd

    def _release_lock(self):
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _record_verified(self, spec, sha256, git_sha1):
        final = os.path.join(self.dest, *spec["path"].split("/"))
        st = os.stat(final)
        entry = {"path": spec["path"], "size": st.st_size, "sha256": sha256, "mtime_ns": st.st_mtime_ns}
        if git_sha1:
            entry["git_sha1"] = git_sha1
        with self.manifest_lock:
            self.verified[spec["path"]] = entry
            doc = {"version": 1, "revision": self.revision,
                   "files": [self.verified[k] for k in sorted(self.verified)]}
            atomic_write_json(os.path.join(self.dest, VERIFIED_MANIFEST), doc)
        return entry

    def run(self, specs):
        """Stage everything; returns (results, warnings). Raises FetchError on the first hard failure."""
        os.makedirs(self.dest, exist_ok=True)
        self._acquire_lock()
        writer = None
        try:
            plan = self.resolve_verify_items(self.plan(specs))
            fetch = [i for i in plan if i["state"] == "fetch"]
            check_free_space(bytes_needed(plan), self.disk_free(self.dest), self.dest, self.reserve_bytes)
            self.progress = Progress(
                bytes_total=sum(i["spec"]["size"] for i in plan),
                files_total=len(plan))
            self.progress.bytes_done = sum(i["spec"]["size"] for i in plan if i["state"] == "present")
            self.progress.files_done = len(plan) - len(fetch)
            writer = StatusWriter(self.status_file, self.progress, self.status_interval)
            writer.write()
            writer.start()
            results = {}
            for item in plan:
                if item["state"] == "present":
                    spec = item["spec"]
                    hashed = item.get("hashed")
                    if hashed:  # verified just now by hashing: remember it so the next run does not
                        entry = self._record_verified(spec, hashed["sha256"], hashed["git_sha1"])
                    else:
                        entry = self.verified[spec["path"]]
                    results[spec["path"]] = {"path": spec["path"], "size": spec["size"],
                                             "sha256": entry.get("sha256"), "action": "present"}
            if fetch:
                with ThreadPoolExecutor(max_workers=min(self.parallel, len(fetch))) as pool:
                    futures = [(i["spec"]["path"], pool.submit(self.fetch_one, i)) for i in fetch]
                    errors, full = [], False
                    for path, fut in futures:
                        try:
                            results[path] = fut.result()
                        except DiskSpaceError as e:  # names the file itself
                            errors.append(str(e))
                            full = True
                        except FetchError as e:
                            errors.append("%s: %s" % (path, e))
                    if errors:
                        raise (DiskSpaceError if full else FetchError)("; ".join(errors))
            self._cleanup_partials()
            writer.stop("done")
            writer = None
            return [results[s["path"]] for s in specs], list(self.warnings)
        except BaseException:
            if writer is not None:
                writer.stop("failed")
            raise
        finally:
            self._release_lock()

    def _cleanup_partials(self):
        root = os.path.join(self.dest, PARTIAL_DIR)
        if not os.path.isdir(root):
            return
        for dirpath, dirnames, filenames in os.walk(root, topdown=False):
            if not filenames and not os.listdir(dirpath):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass

    # Long on purpose: one file's transfer loop (range request, response decision, write, verify, retry); its states
    # share locals a split would pass around.
    def fetch_one(self, item):
        spec = item["spec"]
        path = spec["path"]
        part, meta_path = partial_paths(self.dest, path)
        os.makedirs(os.path.dirname(part), exist_ok=True)
        meta = {"path": path, "size": spec["size"], "sha256": spec.get("sha256"), "git_sha1": spec.get("git_sha1")}
        if read_json(meta_path) != meta:
            atomic_write_json(meta_path, meta)
        offset = item["offset"]
        if offset == 0 and os.path.exists(part):
            os.truncate(part, 0)  # a partial for another version of the file, or oversize
        resumed_from = offset
        self.progress.start_file(path, spec["size"], offset)
        with self.progress.lock:
            self.progress.bytes_done += offset
        downloaded = [0]  # bytes received in this run, also by attempts that were cut
        failures = 0
        corrupt = 0
        restarted = False
        try:
            while True:
                offset = os.path.getsize(part) if os.path.exists(part) else 0
                if offset > spec["size"]:
                    self._rewind(path, part, offset)
                    offset = 0
                try:
                    was_restart, digests = self._transfer(spec, part, offset, downloaded)
                except TransientError as e:
                    failures += 1
                    if failures > self.retries:
                        raise FetchError("giving up after %d attempts: %s" % (failures, e))
                    self.sleep(backoff_delay(failures))
                    continue
                if was_restart:
                    restarted = True
                    self.warnings.append("%s: the server ignored Range; fetched again from byte 0 instead of %d"
                                         % (path, offset))
                    resumed_from = 0
                if digests is None:  # the partial was already complete: hash it from disk
                    h = Hashers(spec["size"], bool(spec.get("git_sha1")))
                    h.feed_file(part)
                    digests = (h.sha256.hexdigest(), h.sha1.hexdigest() if h.sha1 is not None else None)
                sha256, git_sha1 = digests
                size = os.path.getsize(part)
                try:
                    verify_digests(spec, size, sha256, git_sha1)
                except VerificationError as e:
                    corrupt += 1
                    self._rewind(path, part, size, unlink=True)
                    if corrupt > 1:
                        raise VerificationError("%s (twice; partial discarded)" % e)
                    self.warnings.append("%s; partial discarded, fetching again from byte 0" % e)
                    resumed_from = 0
                    continue
                self._install(spec, part, meta_path)
                self._record_verified(spec, sha256, git_sha1)
                break
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                self.progress.end_file(path, ok=False)
                raise
            # This file's part from what is on disk (the progress may lag the last write); the other
            # files' from the progress.
            have = os.path.getsize(part) if os.path.exists(part) else 0
            with self.progress.lock:
                counted = self.progress.current.get(path, {}).get("bytes_done", have)
                still = self.progress.bytes_total - self.progress.bytes_done - (spec["size"] - counted) + (
                    spec["size"] - have)
            self.progress.end_file(path, ok=False)
            raise DiskSpaceError(out_of_space_message(self.dest, path, have, spec["size"], still,
                                                      self.disk_free(self.dest)))
        except BaseException:
            self.progress.end_file(path, ok=False)
            raise
        self.progress.end_file(path)
        result = {"path": path, "size": spec["size"], "sha256": sha256,
                  "action": "resumed" if resumed_from > 0 else "downloaded",
                  "bytes_downloaded": downloaded[0], "resumed_from": resumed_from}
        if restarted:
            result["range_ignored"] = True
        return result

    def _rewind(self, path, part, had, unlink=False):
        with self.progress.lock:
            self.progress.bytes_done -= had
            cur = self.progress.current.get(path)
            if cur is not None:
                cur["bytes_done"] = 0
        if unlink:
            try:
                os.unlink(part)
            except OSError:
                pass
        else:
            os.truncate(part, 0)

    def _transfer(self, spec, part, offset, counter):
        """One request appending to ``part`` from ``offset``; ``counter[0]`` counts received bytes.

        Returns (restarted, (sha256, git_sha1) or None). The digest is computed
        while writing (on resume the kept prefix is hashed from the partial first), so a finished
        file needs no second read. None means the partial was already complete (no request made).
        """
        path = spec["path"]
        size = spec["size"]
        if offset == size:
            return False, None
        decision, start, stream = self.transport.open(spec, offset)
        if decision == "reset":
            self._rewind(path, part, offset)
            raise TransientError("the server refused the range at byte %d (416 or another range); "
                                 "fetching again from byte 0" % offset)
        restarted = decision == "restart" and offset > 0
        if restarted:
            self._rewind(path, part, offset)
            start = 0
        h = Hashers(size, bool(spec.get("git_sha1")))
        try:
            if start:
                h.feed_file(part, start)
            with open(part, "r+b" if os.path.exists(part) else "wb") as f:
                f.seek(start)
                f.truncate()
                received = self._pump(stream, f, h, path, start, size, counter)
                f.flush()
                os.fsync(f.fileno())
        finally:
            stream.close()
        if start + received < size:
            raise TransientError("%s: connection closed at byte %d of %d" % (path, start + received, size))
        return restarted, (h.sha256.hexdigest(), h.sha1.hexdigest() if h.sha1 is not None else None)

    def _pump(self, stream, f, hashers, path, start, size, counter):
        """Copy ``stream`` into ``f`` while hashing; returns the bytes received.

        Receiving and hashing+writing overlap: a helper thread hashes and writes buffer k while
        this thread receives into buffer k+1 (socket reads, file writes and sha256 on large
        buffers all release the GIL). Three buffers rotate; a buffer is refilled only after the
        helper is done with it. On a network error everything received so far is written before
        TransientError is raised, so the partial keeps every byte that arrived.
        """
        nbuf = 3
        bufs = [memoryview(bytearray(CHUNK_SIZE)) for _index in range(nbuf)]
        busy = [None] * nbuf
        received = 0

        writeback = Writeback(f.fileno(), start)

        failed = []

        def consume(view):
            # After a failed write (a full disk) the buffers queued behind it must not land after
            # the hole it left: the partial has to stay a prefix of the file to be resumed.
            if failed:
                raise failed[0]
            try:
                f.write(view)
            except OSError as e:
                failed.append(e)
                raise
            writeback.wrote(len(view))
            hashers.update(view)
            n = len(view)
            counter[0] += n
            self.progress.add(path, n)

        with ThreadPoolExecutor(max_workers=1) as helper:  # one worker keeps the writes in order
            try:
                k = 0
                while True:
                    if busy[k] is not None:
                        busy[k].result()
                        busy[k] = None
                    try:
                        n = stream.readinto(bufs[k])
                    except NETWORK_ERRORS + (OSError, ValueError) as e:
                        raise TransientError("%s: transfer interrupted at byte %d: %s" % (path, start + received, e))
                    if not n:
                        break
                    if start + received + n > size:
                        raise VerificationError("%s: the source sent more than the expected %d bytes" % (path, size))
                    busy[k] = helper.submit(consume, bufs[k][:n])
                    received += n
                    k = (k + 1) % nbuf
            finally:
                for fut in busy:
                    if fut is not None:
                        fut.result()
        return received

    def _install(self, spec, part, meta_path):
        final = os.path.join(self.dest, *spec["path"].split("/"))
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.replace(part, final)
        fsync_dir(os.path.dirname(final))
        try:
            os.unlink(meta_path)
        except OSError:
            pass

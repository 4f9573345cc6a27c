# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planning half of model staging: what to fetch, resume or trust, and what a response means.

Pure functions and the staging errors, unit-tested without I/O; ``download.py`` is the engine that
acts on them (threads, urllib, files) and describes the layout under ``dest`` these names refer to.
"""

from __future__ import annotations

import fnmatch
import posixpath

PARTIAL_DIR = ".partial"
VERIFIED_MANIFEST = ".onprem-verified.json"
STATUS_FILE = ".onprem-fetch-status.json"
LOCK_FILE = ".onprem-fetch.lock"
RESERVED_NAMES = (PARTIAL_DIR, VERIFIED_MANIFEST, STATUS_FILE, LOCK_FILE)
HEX = frozenset("0123456789abcdef")


class FetchError(Exception):
    """A file could not be staged; the message is meant for the operator."""


class VerificationError(FetchError):
    """Received bytes do not match the expected size or digest."""


class DiskSpaceError(FetchError):
    """Not enough free space in dest for what remains to be fetched."""


class RemoteNotFound(FetchError):
    """The source answered 404/410 for a file (or repository / revision)."""


class TransientError(FetchError):
    """Network trouble worth retrying (connection reset, timeout, short body, 5xx, 429)."""


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------


def safe_relpath(path):
    """Return ``path`` as a normalised relative POSIX path, or raise ValueError.

    Paths come from remote listings and manifests: absolute paths, ``..``, NUL bytes and our own
    bookkeeping names are refused so a hostile or broken mirror cannot write outside ``dest``.
    """
    if not isinstance(path, str) or not path or "\x00" in path or "\\" in path:
        raise ValueError("invalid file path in listing: %r" % (path,))
    if path.startswith("/"):
        raise ValueError("absolute file path in listing: %r" % (path,))
    norm = posixpath.normpath(path)
    parts = norm.split("/")
    if norm in (".", "") or ".." in parts:
        raise ValueError("file path escapes dest: %r" % (path,))
    if parts[0] in RESERVED_NAMES:
        raise ValueError("file path collides with model_fetch bookkeeping: %r" % (path,))
    return norm


def is_sha256(value):
    return isinstance(value, str) and len(value) == 64 and set(value) <= HEX


def _expand_pattern(pattern):
    # huggingface_hub semantics (utils.filter_repo_objects): "dir/" means everything below it
    return pattern + "*" if pattern.endswith("/") else pattern


def match_patterns(path, allow_patterns=None, ignore_patterns=None):
    """True if ``path`` passes the allow / ignore glob lists (fnmatch, like ``snapshot_download``)."""
    if allow_patterns and not any(fnmatch.fnmatch(path, _expand_pattern(p)) for p in allow_patterns):
        return False
    if ignore_patterns and any(fnmatch.fnmatch(path, _expand_pattern(p)) for p in ignore_patterns):
        return False
    return True


def range_header(offset):
    """The Range request header value to resume at ``offset`` (None means: ask for the whole file)."""
    return "bytes=%d-" % offset if offset > 0 else None


def parse_content_range(value):
    """Parse ``bytes a-b/T`` or ``bytes */T`` into (start, end, total); Nones where absent or invalid."""
    if not value:
        return None, None, None
    value = value.strip()
    if not value.lower().startswith("bytes "):
        return None, None, None
    spec = value[6:].strip()
    rng, _slash, total = spec.partition("/")
    total = int(total) if total.strip().isdigit() else None
    if rng.strip() == "*":
        return None, None, total
    start, _dash, end = rng.partition("-")
    if not (start.strip().isdigit() and end.strip().isdigit()):
        return None, None, total
    return int(start), int(end), total


def decide_response(status, offset, content_range, expected_size):
    """Decide what to do with an HTTP answer to a (possibly ranged) GET.

    Returns ``("append", start)`` - write the body at ``start`` (== offset), keeping the partial,
    or ``("restart", 0)`` - the body is the whole file (server ignored Range): truncate and write
    from zero, or ``("reset", 0)`` - nothing usable in the body (416, or a 206 for another range):
    drop the partial and ask again without Range.
    Raises RemoteNotFound / TransientError / FetchError for error statuses.
    """
    if status == 206:
        start, end, total = parse_content_range(content_range)
        if start is None or start != offset:
            return ("reset", 0)
        if total is not None and expected_size is not None and total != expected_size:
            raise VerificationError("server reports size %s, listing says %s" % (total, expected_size))
        return ("append", start)
    if status == 200:
        return ("restart", 0) if offset > 0 else ("append", 0)
    if status == 416:
        return ("reset", 0)
    if status in (404, 410):
        raise RemoteNotFound("HTTP %d" % status)
    if status in (401, 403):
        raise FetchError("HTTP %d: access denied (check token / credentials)" % status)
    if status == 429 or status >= 500:
        raise TransientError("HTTP %d" % status)
    raise FetchError("unexpected HTTP status %d" % status)


def backoff_delay(attempt, base=1.0, cap=30.0):
    """Exponential backoff in seconds for retry number ``attempt`` (1-based)."""
    return min(cap, base * (2 ** (attempt - 1)))


def entry_trusted(entry, spec, st_size, st_mtime_ns):
    """True if a verified-manifest entry still vouches for the file on disk and matches the listing.

    Trust needs size and mtime_ns unchanged since verification, plus an identical sha256 (or git
    blob sha1 when the listing only has that; or only the size when the listing has neither).
    """
    if not entry or entry.get("size") != st_size or entry.get("mtime_ns") != st_mtime_ns:
        return False
    if spec.get("size") is not None and spec["size"] != st_size:
        return False
    if spec.get("sha256"):
        return entry.get("sha256") == spec["sha256"]
    if spec.get("git_sha1"):
        return entry.get("git_sha1") == spec["git_sha1"]
    return True


def plan_files(specs, on_disk, partials, verified):
    """Split the listing into what is present, what must be hashed first, and what must be fetched.

    specs:    [{path, size, sha256?, git_sha1?, ...}]
    on_disk:  {path: (size, mtime_ns)} for files present in dest
    partials: {path: (partial_size, meta_dict_or_None)}
    verified: {path: verified-manifest entry}
    Returns a list of {"spec", "state": present|verify|fetch, "offset"} in listing order.
    """
    plan = []
    for spec in specs:
        path = spec["path"]
        st = on_disk.get(path)
        if st is not None and entry_trusted(verified.get(path), spec, st[0], st[1]):
            plan.append({"spec": spec, "state": "present", "offset": 0})
            continue
        if st is not None and st[0] == spec["size"]:
            plan.append({"spec": spec, "state": "verify", "offset": 0})
            continue
        plan.append({"spec": spec, "state": "fetch", "offset": usable_partial(spec, partials.get(path))})
    return plan


def usable_partial(spec, partial):
    """Bytes of an existing partial that can be kept (0 if none or if it belongs to another file)."""
    if not partial:
        return 0
    size, meta = partial
    if meta is not None and (meta.get("size") != spec["size"] or meta.get("sha256") != spec.get("sha256")
                             or meta.get("git_sha1") != spec.get("git_sha1")):
        return 0
    if size > spec["size"]:
        return 0
    return size


def bytes_needed(plan):
    """Bytes still to write into dest for the fetch items (what is already in partials is not counted)."""
    return sum(item["spec"]["size"] - item["offset"] for item in plan if item["state"] == "fetch")


def check_free_space(needed, free, dest, reserve=0):
    """Raise DiskSpaceError naming the numbers if ``free`` cannot hold ``needed`` plus ``reserve``."""
    if needed + reserve > free:
        raise DiskSpaceError(
            "not enough free space in %s: %d bytes still to fetch%s, %d bytes free (%.1f GiB short)"
            % (dest, needed, " plus a reserve of %d" % reserve if reserve else "", free,
               (needed + reserve - free) / float(1 << 30)))


def out_of_space_message(dest, path, have, size, still, free):
    """The filesystem filled up while writing ``path`` (``have`` of ``size`` bytes on disk): what is
    still to fetch, what is free, and that the bytes received are kept for the next run."""
    short = max(still - free, 0)
    return ("no space left in %s while writing %s (%d of %d bytes on disk): %d bytes still to fetch, "
            "%d bytes free (%s short); free space or grow the filesystem and run again: the bytes "
            "received are kept and the next run resumes from them"
            % (dest, path, have, size, still, free,
               "%.1f GiB" % (short / float(1 << 30)) if short >= 1 << 30 else "%.1f MiB" % (short / float(1 << 20))))


def summarise(results):
    """Module-facing totals from per-file results."""
    return {
        "bytes_downloaded": sum(r.get("bytes_downloaded", 0) for r in results),
        "bytes_resumed_from": sum(r.get("resumed_from", 0) for r in results),
        "changed": any(r["action"] in ("downloaded", "resumed") for r in results),
    }

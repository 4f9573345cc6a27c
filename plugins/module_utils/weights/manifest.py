# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sha256 manifests for model files: read, write, verify, and a fast file hash.

A manifest lists the files of a model with their size and sha256, paths relative to the model
directory. Two forms are read:

- JSON: ``{"files": [{"path": "model-00001-of-00002.safetensors", "size": 123, "sha256": "ab.."}]}``
  (a bare list of such entries is accepted too; ``size`` and ``sha256`` are each optional);
- ``sha256sum`` output: ``<64 hex>  <path>`` or ``<64 hex> *<path>`` per line, and the BSD form
  ``SHA256 (<path>) = <64 hex>``; these carry no size.

Every entry is a dict ``{"path": str, "size": int or None, "sha256": str or None}`` with a
normalised relative POSIX path: absolute paths and ``..`` are refused so that a manifest can never
point outside the model directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

from ansible_collections.onprem.llm.plugins.module_utils.weights import WeightsError

# Buffer for the readinto loop. sha256 itself is the bound (~1.8 GB/s per core with SHA-NI);
# measured on a 1 GiB file: 256 KiB..1 MiB buffers and hashlib.file_digest all reach the same rate,
# 8 MiB and more are a few percent slower (the buffer no longer fits in L2). hashlib releases the
# GIL for large updates, so several files can be hashed in threads.
DEFAULT_BUFSIZE = 1024 * 1024

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_GNU_LINE = re.compile(r"^(\\?)([0-9a-fA-F]{64}) [ *](.+)$")
_BSD_LINE = re.compile(r"^(\\?)SHA256 \((.+)\) = ([0-9a-fA-F]{64})$")


def sha256_file(path, bufsize=None):
    """Return the lowercase hex sha256 of the file at ``path``.

    With ``bufsize`` None, ``hashlib.file_digest`` is used where it exists (Python 3.11+);
    otherwise, or with an explicit ``bufsize``, a ``readinto`` loop over one reused buffer of
    ``bufsize`` (default DEFAULT_BUFSIZE) bytes on an unbuffered file: no per-chunk allocation.
    """
    if bufsize is None and hasattr(hashlib, "file_digest"):
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    bufsize = int(bufsize or DEFAULT_BUFSIZE)
    digest = hashlib.sha256()
    buf = bytearray(bufsize)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        readinto = f.readinto
        update = digest.update
        while True:
            n = readinto(buf)
            if not n:
                break
            update(view[:n])
    return digest.hexdigest()


def normalize_path(path, source="manifest"):
    """Return ``path`` as a clean relative POSIX path, or raise WeightsError for unsafe ones."""
    if not isinstance(path, str) or not path.strip():
        raise WeightsError("%s: entry with an empty or non-string path: %r" % (source, path))
    p = path.replace("\\", "/") if os.sep == "\\" else path
    if p.startswith("/"):
        raise WeightsError("%s: absolute path %r is not allowed (paths are relative to the model directory)" % (source, path))
    parts = [part for part in p.split("/") if part not in ("", ".")]
    if not parts:
        raise WeightsError("%s: entry with an empty path: %r" % (source, path))
    if ".." in parts:
        raise WeightsError("%s: path %r leaves the model directory ('..' is not allowed)" % (source, path))
    return "/".join(parts)


def _entry(path, size, sha256, source):
    path = normalize_path(path, source)
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise WeightsError("%s: %s: size must be a non-negative integer, got %r" % (source, path, size))
    if sha256 is not None:
        if not isinstance(sha256, str) or not _HEX64.match(sha256):
            raise WeightsError("%s: %s: sha256 must be 64 hex digits, got %r" % (source, path, sha256))
        sha256 = sha256.lower()
    return {"path": path, "size": size, "sha256": sha256}


def _unescape_sha256sum(name):
    # coreutils escapes '\\' and newline in names and marks such lines with a leading backslash
    out = []
    i = 0
    while i < len(name):
        c = name[i]
        if c == "\\" and i + 1 < len(name):
            nxt = name[i + 1]
            out.append({"n": "\n", "r": "\r", "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_manifest(text, source="manifest"):
    """Parse manifest text (JSON or sha256sum/BSD lines) into a list of entries.

    ``source`` names the manifest in error messages. Raises WeightsError on any malformed line,
    bad field or duplicate path.
    """
    entries = []
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise WeightsError("%s: not valid JSON (%s)" % (source, exc))
        items = data.get("files") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise WeightsError('%s: expected {"files": [{"path", "size", "sha256"}, ...]}' % source)
        for i, item in enumerate(items):
            if not isinstance(item, dict) or "path" not in item:
                raise WeightsError("%s: files[%d] is not an object with a 'path'" % (source, i))
            entries.append(_entry(item["path"], item.get("size"), item.get("sha256"), source))
    else:
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.rstrip("\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = _GNU_LINE.match(line)
            if m:
                escaped, digest, name = m.groups()
            else:
                m = _BSD_LINE.match(line)
                if not m:
                    raise WeightsError("%s: line %d is neither '<sha256>  <path>' nor 'SHA256 (<path>) = <sha256>': %r"
                                       % (source, lineno, line[:120]))
                escaped, name, digest = m.groups()
            if escaped:
                name = _unescape_sha256sum(name)
            entries.append(_entry(name, None, digest, source))
    seen = set()
    for e in entries:
        if e["path"] in seen:
            raise WeightsError("%s: %s is listed twice" % (source, e["path"]))
        seen.add(e["path"])
    return entries


def load_manifest(path):
    """Read the manifest file at ``path``; return a list of ``{"path", "size", "sha256"}`` dicts."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except (IOError, OSError) as exc:
        raise WeightsError("manifest %s: cannot be read: %s" % (path, exc.strerror or exc))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WeightsError("manifest %s: not UTF-8 text: %s" % (path, exc))
    return parse_manifest(text, source="manifest %s" % path)


def dump_manifest(entries):
    """Return the JSON manifest text for ``entries`` (sorted by path, stable for diffs)."""
    files = []
    for e in sorted(entries, key=lambda x: x["path"]):
        item = {"path": normalize_path(e["path"])}
        if e.get("size") is not None:
            item["size"] = int(e["size"])
        if e.get("sha256"):
            item["sha256"] = e["sha256"].lower()
        files.append(item)
    return json.dumps({"files": files}, indent=2, sort_keys=True) + "\n"


def check_file(path, size=None, sha256=None, bufsize=None, hash_file=True):
    """Check one file against an expected size and sha256.

    Returns ``{"size": int or None, "sha256": str or None, "problem": str or None}``: the actual
    size, the actual digest (computed only when ``sha256`` is given and ``hash_file`` is true, and
    never when the size is already wrong), and a message naming ``path`` when something is off.
    """
    result = {"size": None, "sha256": None, "problem": None}
    try:
        st = os.stat(path)
    except OSError:
        result["problem"] = "%s: missing" % path
        return result
    if not os.path.isfile(path):
        result["problem"] = "%s: not a regular file" % path
        return result
    result["size"] = st.st_size
    if size is not None and st.st_size != size:
        result["problem"] = "%s: size %d bytes, expected %d (%s)" % (
            path, st.st_size, size, "incomplete download?" if st.st_size < size else "larger than expected")
        return result
    if sha256 and hash_file:
        try:
            actual = sha256_file(path, bufsize)
        except (IOError, OSError) as exc:
            result["problem"] = "%s: cannot be read: %s" % (path, exc.strerror or exc)
            return result
        result["sha256"] = actual
        if actual != sha256.lower():
            result["problem"] = "%s: sha256 %s, expected %s" % (path, actual, sha256.lower())
    return result


def verify_manifest(root, entries, hash_files=True, bufsize=None):
    """Check every manifest entry under directory ``root``.

    Returns one dict per entry, in manifest order: ``{"path": relative path, "size": actual size or
    None, "sha256": actual digest or None, "problem": message or None}``. Sizes are checked first;
    digests are computed (only when ``hash_files``) for entries that carry one and have the right
    size. Nothing is raised; see ``raise_for_problems``.
    """
    results = []
    for e in entries:
        full = os.path.join(root, *e["path"].split("/"))
        r = check_file(full, e.get("size"), e.get("sha256"), bufsize=bufsize, hash_file=bool(hash_files))
        if r["problem"]:
            r["problem"] = r["problem"].replace(full, e["path"], 1)
        r["path"] = e["path"]
        results.append(r)
    return results


def raise_for_problems(results, root):
    """Raise one WeightsError listing every problem in ``verify_manifest`` results, if any."""
    problems = [r["problem"] for r in results if r.get("problem")]
    if problems:
        raise WeightsError("manifest check failed in %s: %s" % (root, "; ".join(problems)), problems)

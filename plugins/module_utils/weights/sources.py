# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where model files come from: listings (path, size, sha256 / git blob sha1) plus a transport.

- ``hf``: the Hugging Face Hub or a mirror of its API (HF_ENDPOINT). huggingface_hub is used only
  for the listing (``model_info(files_metadata=True)``, falling back to ``list_repo_tree``); the bytes
  come through our own resumable downloader from ``<endpoint>/<repo>/resolve/<commit>/<path>``.
  LFS files carry a sha256 in the Hub's metadata; small non-LFS files only carry their git blob
  id, so they are verified by size plus git blob sha1 (sha256 is still computed and recorded).
- ``http``: any static web server holding the files plus ``manifest.json``
  (``{"files": [{"path", "size", "sha256"}], "revision"?: str}``).
- ``local``: a directory (local disk or NFS). Its ``manifest.json`` or ``.onprem-verified.json``
  (left there when the directory was itself staged by model_fetch) gives the sha256 to check
  against; without one the files are verified by size, and the sha256 of the copied bytes is
  recorded.

Every listing is reduced to plain dicts ``{path, size, sha256, git_sha1, url | src}``.
"""

from __future__ import annotations

import json
import os
from urllib import error as urlerror
from urllib import parse as urlparse
from urllib import request as urlrequest

from ansible_collections.onprem.llm.plugins.module_utils.weights import WeightsError
from ansible_collections.onprem.llm.plugins.module_utils.weights.manifest import parse_manifest
from ansible_collections.onprem.llm.plugins.module_utils.weights.download import ssl_context
from ansible_collections.onprem.llm.plugins.module_utils.weights.fetch_plan import (
    VERIFIED_MANIFEST,
    FetchError,
    is_sha256,
    RemoteNotFound,
    match_patterns,
    safe_relpath,
)

HF_DEFAULT_ENDPOINT = "https://huggingface.co"
COMMIT_RE_LEN = 40


class SourceError(FetchError):
    """The listing could not be obtained or is malformed."""


def hf_endpoint(endpoint=None):
    """The explicit endpoint, else HF_ENDPOINT, else huggingface.co (without a trailing slash)."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or HF_DEFAULT_ENDPOINT).rstrip("/")


def hf_resolve_url(endpoint, repo_id, commit, path, repo_type="model"):
    """``<endpoint>/[datasets/]<repo>/resolve/<commit>/<path>`` with the path URL-quoted."""
    prefix = "" if repo_type == "model" else "%ss/" % repo_type
    return "%s/%s%s/resolve/%s/%s" % (endpoint.rstrip("/"), prefix, repo_id, urlparse.quote(commit, safe=""),
                                      urlparse.quote(path))


def is_commit(revision):
    return isinstance(revision, str) and len(revision) == COMMIT_RE_LEN and all(
        c in "0123456789abcdef" for c in revision)


def specs_from_hf_entries(entries, allow_patterns=None, ignore_patterns=None):
    """Normalise Hub file entries into specs.

    ``entries`` are dicts ``{path, size, blob_id, lfs_sha256}`` (what both ``ModelInfo.siblings``
    and ``list_repo_tree`` give once mapped). Entries without a size are refused: we never stage a
    file we cannot check.
    """
    specs = []
    for e in entries:
        path = safe_relpath(e["path"])
        if not match_patterns(path, allow_patterns, ignore_patterns):
            continue
        if e.get("size") is None:
            raise SourceError("the Hub listing has no size for %s (files_metadata not supported by this endpoint?)" % path)
        sha256 = e.get("lfs_sha256")
        if sha256 is not None and not is_sha256(sha256):
            raise SourceError("malformed sha256 for %s: %r" % (path, sha256))
        specs.append({"path": path, "size": int(e["size"]), "sha256": sha256,
                      "git_sha1": None if sha256 else e.get("blob_id")})
    return sorted(specs, key=lambda s: s["path"])


def specs_from_manifest(text, source, allow_patterns=None, ignore_patterns=None, size_of=None):
    """Specs from manifest text (JSON ``{"files": [{path, size, sha256}]}`` or sha256sum lines).

    Parsing is ``manifest.parse_manifest`` (shared with the validator). Staging needs a size per
    file (free-space check, resume arithmetic): ``size_of(path)`` fills in missing sizes where the
    source can tell (local directories); otherwise a missing size is an error.
    """
    try:
        entries = parse_manifest(text, source=source)
    except WeightsError as e:
        raise SourceError(str(e))
    specs = []
    for e in entries:
        try:
            path = safe_relpath(e["path"])
        except ValueError as err:
            raise SourceError("%s: %s" % (source, err))
        if not match_patterns(path, allow_patterns, ignore_patterns):
            continue
        size = e.get("size")
        if size is None and size_of is not None:
            size = size_of(path)
        if size is None:
            raise SourceError("%s: %s has no size (model_fetch needs path, size and sha256 per file)" % (source, path))
        specs.append({"path": path, "size": size, "sha256": e.get("sha256"), "git_sha1": None})
    return sorted(specs, key=lambda s: s["path"])


def manifest_revision(text):
    """The optional top-level ``revision`` of a JSON manifest (reported back as ``revision``)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    rev = doc.get("revision") if isinstance(doc, dict) else None
    return rev if isinstance(rev, str) else None


# --------------------------------------------------------------------------------------------
# hf
# --------------------------------------------------------------------------------------------


def _hf_client_factory(proxy, ca_path, validate_certs, timeout):
    """An httpx2 client for huggingface_hub honouring our proxy / CA options (None: library default)."""
    if not proxy and not ca_path and validate_certs:
        return None
    import httpx2  # huggingface_hub's own HTTP library, present whenever huggingface_hub is

    try:
        from huggingface_hub.utils._http import hf_request_event_hook
        hooks = {"request": [hf_request_event_hook]}
    except ImportError:  # pragma: no cover - private helper moved
        hooks = None

    def factory():
        kwargs = {"follow_redirects": True, "timeout": timeout,
                  "verify": ssl_context(ca_path, validate_certs)}
        if proxy:
            kwargs["proxy"] = proxy
        if hooks:
            kwargs["event_hooks"] = hooks
        return httpx2.Client(**kwargs)

    return factory


def hf_listing(repo_id, revision="main", endpoint=None, token=None, repo_type="model",
               allow_patterns=None, ignore_patterns=None, proxy=None, ca_path=None,
               validate_certs=True, timeout=60.0, api=None):
    """Resolve ``revision`` to a commit and list its files. Returns (commit, specs).

    ``api`` is an ``HfApi``-like object (tests and callers may inject one); by default one is built
    lazily so that ``huggingface_hub`` is only needed when this source is used.
    """
    endpoint = hf_endpoint(endpoint)
    if api is None:
        from huggingface_hub import HfApi  # guarded by the module with missing_required_lib

        factory = _hf_client_factory(proxy, ca_path, validate_certs, timeout)
        if factory is not None:
            from huggingface_hub import set_client_factory
            set_client_factory(factory)
        api = HfApi(endpoint=endpoint, token=token or None)
    try:
        from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError
    except ImportError:  # pragma: no cover - injected api without huggingface_hub installed
        HfHubHTTPError = RepositoryNotFoundError = RevisionNotFoundError = ()  # noqa: N806
    try:
        from httpx2 import HTTPError as TransportFailure  # connection refused, TLS, proxy, timeouts
    except ImportError:  # pragma: no cover
        TransportFailure = ()  # noqa: N806
    info_fn = {"model": "model_info", "dataset": "dataset_info"}[repo_type]
    try:
        info = getattr(api, info_fn)(repo_id, revision=revision, files_metadata=True, token=token or None)
        commit = info.sha
        entries = [{"path": s.rfilename, "size": s.size, "blob_id": s.blob_id,
                    "lfs_sha256": (s.lfs.sha256 if s.lfs is not None else None)} for s in (info.siblings or [])]
        if not commit or any(e["size"] is None for e in entries) or info.siblings is None:
            # a mirror that ignores ?blobs=true: ask the tree API at the resolved commit instead
            entries = []
            for f in api.list_repo_tree(repo_id, recursive=True, revision=commit or revision,
                                        repo_type=repo_type, token=token or None):
                if hasattr(f, "blob_id"):
                    entries.append({"path": f.path, "size": f.size, "blob_id": f.blob_id,
                                    "lfs_sha256": (f.lfs.sha256 if f.lfs is not None else None)})
    except RevisionNotFoundError as e:
        raise RemoteNotFound("revision %r not found in %s: %s" % (revision, repo_id, _first_line(e)))
    except RepositoryNotFoundError as e:
        raise RemoteNotFound("repository %s not found at %s (or no access: check token): %s"
                             % (repo_id, endpoint, _first_line(e)))
    except HfHubHTTPError as e:
        raise SourceError("listing %s at %s failed: %s" % (repo_id, endpoint, _first_line(e)))
    except TransportFailure as e:
        raise SourceError("cannot reach %s to list %s (proxy / CA / network?): %s" % (endpoint, repo_id, e))
    except (OSError, ValueError) as e:
        raise SourceError("listing %s at %s failed: %s" % (repo_id, endpoint, e))
    if not is_commit(commit):
        raise SourceError("the endpoint did not resolve %r to a commit sha (got %r)" % (revision, commit))
    specs = specs_from_hf_entries(entries, allow_patterns, ignore_patterns)
    for s in specs:
        s["url"] = hf_resolve_url(endpoint, repo_id, commit, s["path"], repo_type)
    return commit, specs


def _first_line(exc):
    return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__


def hf_headers(token):
    return {"Authorization": "Bearer %s" % token} if token else {}


# --------------------------------------------------------------------------------------------
# http mirror
# --------------------------------------------------------------------------------------------


def mirror_manifest_url(url, manifest=None):
    if manifest:
        return manifest if "://" in manifest else urlparse.urljoin(url.rstrip("/") + "/", manifest)
    return url.rstrip("/") + "/manifest.json"


def http_listing(url, manifest=None, opener=None, timeout=60.0, headers=None,
                 allow_patterns=None, ignore_patterns=None):
    """Fetch and parse the mirror's manifest. Returns (revision or None, specs with url)."""
    murl = mirror_manifest_url(url, manifest)
    req = urlrequest.Request(murl, headers=dict(headers or {}))
    opener = opener or urlrequest.build_opener()
    try:
        with opener.open(req, timeout=timeout) as resp:
            body = resp.read()
    except urlerror.HTTPError as e:
        e.close()
        if e.code in (404, 410):
            raise RemoteNotFound("manifest %s: HTTP %d" % (murl, e.code))
        raise SourceError("manifest %s: HTTP %d" % (murl, e.code))
    except (urlerror.URLError, OSError) as e:
        raise SourceError("manifest %s: %s" % (murl, getattr(e, "reason", e)))
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceError("manifest %s is not UTF-8: %s" % (murl, e))
    specs = specs_from_manifest(text, "manifest %s" % murl, allow_patterns, ignore_patterns)
    base = url.rstrip("/") + "/"
    for s in specs:
        s["url"] = base + urlparse.quote(s["path"])
    return manifest_revision(text), specs


# --------------------------------------------------------------------------------------------
# local directory
# --------------------------------------------------------------------------------------------


def local_listing(path, manifest=None, allow_patterns=None, ignore_patterns=None):
    """List a local directory. Returns (revision or None, specs with src, where the sha256 came from)."""
    if not os.path.isdir(path):
        raise RemoteNotFound("source directory %s does not exist" % path)
    candidates = [manifest] if manifest else [os.path.join(path, "manifest.json"), os.path.join(path, VERIFIED_MANIFEST)]
    for cand in candidates:
        if cand and os.path.isfile(cand):
            try:
                with open(cand, "rb") as f:
                    text = f.read().decode("utf-8-sig")
            except (OSError, ValueError) as e:
                raise SourceError("manifest %s: %s" % (cand, e))

            def size_of(rel):
                try:
                    return os.path.getsize(os.path.join(path, *rel.split("/")))
                except OSError:
                    return None

            specs = specs_from_manifest(text, "manifest %s" % cand, allow_patterns, ignore_patterns, size_of)
            for s in specs:
                s["src"] = os.path.join(path, *s["path"].split("/"))
            return manifest_revision(text), specs, cand
        if manifest:
            raise RemoteNotFound("manifest %s does not exist" % manifest)
    specs = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".onprem-") or name.startswith(".partial"):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, path).replace(os.sep, "/")
            if not match_patterns(rel, allow_patterns, ignore_patterns) or not os.path.isfile(full):
                continue
            specs.append({"path": safe_relpath(rel), "size": os.path.getsize(full), "sha256": None,
                          "git_sha1": None, "src": full})
    return None, specs, None

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local apt repository for the bundle, resolved with the controller's apt against the *target*
release's archive (its own state directory, an empty dpkg status: the full dependency closure, so a
minimal server installs from the bundle alone).

``apt_options`` are the ``-o`` options that keep apt away from the controller's own sources, lists
and dpkg database; ``parse_print_uris`` reads ``apt-get install --print-uris``; ``release_text``
writes the flat repository's Release file (sha256 of the index files), which the bundle key signs.
"""

from __future__ import annotations

import re

from urllib import parse as urlparse

_URI_RE = re.compile(r"^'(?P<url>[^']+)'\s+(?P<file>\S+)\s+(?P<size>\d+)\s+(?P<hash>\S+)\s*$")


def state_paths(root):
    """The directories and files of an apt state root."""
    return {
        "sources": root + "/etc/sources.list",
        "sourceparts": root + "/etc/sources.list.d",
        "preferences": root + "/etc/preferences",
        "preferencesparts": root + "/etc/preferences.d",
        "state": root + "/state",
        "lists": root + "/state/lists",
        "status": root + "/state/status",
        "cache": root + "/cache",
        "archives": root + "/cache/archives",
    }


def apt_options(root, arch):
    """apt-get options for a separate state under root, one architecture, no recommends."""
    paths = state_paths(root)
    pairs = [
        ("Dir::Etc::sourcelist", paths["sources"]),
        ("Dir::Etc::sourceparts", paths["sourceparts"]),
        ("Dir::Etc::preferences", paths["preferences"]),
        ("Dir::Etc::preferencesparts", paths["preferencesparts"]),
        ("Dir::State", paths["state"]),
        ("Dir::State::lists", paths["lists"]),
        ("Dir::State::status", paths["status"]),
        ("Dir::Cache", paths["cache"]),
        ("Dir::Cache::archives", paths["archives"]),
        ("Debug::NoLocking", "1"),
        ("APT::Architecture", arch),
        ("APT::Architectures", arch),
        ("APT::Install-Recommends", "false"),
        ("APT::Install-Suggests", "false"),
        ("APT::Get::AllowUnauthenticated", "false"),
        ("Acquire::ForceHash", "SHA256"),
    ]
    args = []
    for key, value in pairs:
        args += ["-o", "%s=%s" % (key, value)]
    return args


def sources_text(dist, mirror, security_mirror, components, keyring):
    """sources.list lines for a Debian release: release, -updates and -security suites."""
    comps = " ".join(components)
    signed = "[signed-by=%s]" % keyring if keyring else ""
    lines = [
        "deb %s %s %s %s" % (signed, mirror.rstrip("/"), dist, comps),
        "deb %s %s %s-updates %s" % (signed, mirror.rstrip("/"), dist, comps),
    ]
    if security_mirror:
        lines.append("deb %s %s %s-security %s" % (signed, security_mirror.rstrip("/"), dist, comps))
    return "".join(re.sub(r"\s+", " ", line).strip() + "\n" for line in lines)


def parse_print_uris(text):
    """[{url, filename, size, sha256}] from ``apt-get install --print-uris -qq`` output."""
    out = []
    for line in text.splitlines():
        match = _URI_RE.match(line.strip())
        if not match:
            continue
        digest = match.group("hash")
        if not digest.upper().startswith("SHA256:"):
            raise ValueError("apt gave no SHA256 for %s (got %s)" % (match.group("file"), digest))
        # The archive's own file name (no epoch, nothing URL-quoted), as in the Debian pool.
        name = urlparse.unquote(match.group("url").rsplit("/", 1)[-1])
        out.append({"url": match.group("url"), "filename": name,
                    "size": int(match.group("size")), "sha256": digest.split(":", 1)[1].lower()})
    return out


def release_text(dist, arch, files, date=None):
    """Release of the flat repository; ``files`` is [(name, size, sha256)] of Packages, Packages.gz.

    ``date`` (RFC 1123, apt warns without one) is left out to compare contents: the caller dates a
    Release only when the rest changed, so an unchanged repository is not re-signed.
    """
    lines = [
        "Origin: onprem.llm",
        "Label: onprem.llm offline bundle",
        "Suite: %s" % dist,
        "Codename: %s" % dist,
        "Architectures: %s" % arch,
        "Description: onprem.llm offline bundle for %s (%s)" % (dist, arch),
    ]
    if date:
        lines.append("Date: %s" % date)
    lines.append("SHA256:")
    lines += [" %s %d %s" % (digest, size, name) for name, size, digest in sorted(files)]
    return "\n".join(lines) + "\n"


def without_date(text):
    """A Release text without its Date line (to compare with release_text(..., date=None))."""
    return "".join(line for line in (text or "").splitlines(True) if not line.startswith("Date:"))

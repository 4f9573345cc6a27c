# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wheels of hash-pinned locks (data/vllm-locks/*.txt) for an offline wheel directory.

A lock line is ``name==version --hash=sha256:<hex>``; the lock's file name
``<package>-<version>-<variant>-cp<XY>-<platform>.txt`` names the interpreter and platform pip
must download for (same rules as tests/tools/build_vllm_wheelhouse.py, which makes the locks).
"""

from __future__ import annotations

import re

_LOCK_LINE_RE = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})")
_LOCK_NAME_RE = re.compile(r"^(?P<package>.+)-(?P<version>[^-]+)-(?P<variant>[^-]+)-cp(?P<py>\d+)-(?P<platform>[^-]+)\.txt$")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text):
    """{canonical name: (version, sha256)}; continuation lines joined, comments skipped."""
    out = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LOCK_LINE_RE.match(line)
        if not match:
            raise ValueError("not a hash-pinned requirement: %r" % line[:120])
        out[canonical(match.group(1))] = (match.group(2), match.group(3))
    return out


def lock_target(filename):
    """(python 'X.Y', platform tag) from a lock's file name; ValueError when it does not follow the scheme."""
    match = _LOCK_NAME_RE.match(filename)
    if not match:
        raise ValueError("lock name %r is not <package>-<version>-<variant>-cp<XY>-<platform>.txt" % filename)
    digits = match.group("py")
    return digits[0] + "." + digits[1:], match.group("platform")


def platform_tags(platform):
    """manylinux_2_N_arch -> itself and every older manylinux tag of that architecture (pip does not
    widen an explicit --platform)."""
    match = re.match(r"^manylinux_2_(\d+)_(\w+)$", platform)
    if not match:
        return [platform]
    minor, arch = int(match.group(1)), match.group(2)
    tags = ["manylinux_2_%d_%s" % (m, arch) for m in range(minor, 4, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    tags += ["%s_%s" % (name, arch) for m, name in sorted(legacy.items(), reverse=True) if m <= minor]
    return tags


def pip_download_args(python, platform):
    """pip download options for one interpreter and platform, binary wheels only."""
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python,
            "--abi", "cp" + python.replace(".", "")]
    for tag in platform_tags(platform):
        args += ["--platform", tag]
    return args


def wheel_project(filename):
    """Canonical project name of a wheel file name."""
    return canonical(filename.split("-", 1)[0])


def lock_subset(wanted):
    """Requirement text for the given {name: (version, sha256)} (what is still missing)."""
    return "".join("%s==%s --hash=sha256:%s\n" % (name, wanted[name][0], wanted[name][1]) for name in sorted(wanted))


def missing(wanted, have):
    """The entries of ``wanted`` ({name: (version, sha256)}) whose sha256 is not among ``have`` (a set)."""
    return dict((name, spec) for name, spec in wanted.items() if spec[1] not in have)

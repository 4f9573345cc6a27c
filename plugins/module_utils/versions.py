# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Versions compared as versions, and which side-by-side installs can go.

Dotted numeric versions (NVIDIA's '535.261.03' < '580.65.06') compare by component, never as text;
the driver and CUDA plans, the preflight's GPU requirements and the pruning below use these. This
module imports no other of the collection's module_utils, so any package may use it.

Which side-by-side installs (vLLM venvs, Ollama releases) can go, keeping the newest few:

The roles install each version into its own directory named after it (``0.32.0-cpu``,
``0.20.0``) and point ``current`` at the one in service. Pruning keeps ``keep`` directories: the
one in service always, then the newest others by version (``0.10.0`` is newer than ``0.9.1``);
a directory whose name does not start with a version is not an install and never goes.
"""

from __future__ import absolute_import, division, print_function

import re

_VERSION_RE = re.compile(r"^\d+(\.\d+)*$")


def is_version(text):
    """True for dotted numeric versions such as '535', '12.9' or '570.133.20'."""
    return isinstance(text, str) and bool(_VERSION_RE.match(text.strip()))


def version_tuple(text):
    """'570.133.20' -> (570, 133, 20). Raises ValueError naming the bad text."""
    if not is_version(text):
        raise ValueError("not a dotted numeric version: %r" % (text,))
    return tuple(int(part) for part in text.strip().split("."))


def tuple_at_least(actual, floor):
    """Version tuples compared component-wise; a missing component counts as 0: (580,) == (580, 0, 0)."""
    width = max(len(actual), len(floor))
    return tuple(actual) + (0,) * (width - len(actual)) >= tuple(floor) + (0,) * (width - len(floor))


def version_at_least(actual, floor):
    """Version strings compared as tuple_at_least does ('580' == '580.0')."""
    return tuple_at_least(version_tuple(actual), version_tuple(floor))


_VERSIONED = re.compile(r"^(\d+(?:\.\d+)*)(.*)$")


def _key(name):
    match = _VERSIONED.match(name)
    return tuple(int(part) for part in match.group(1).split(".")), match.group(2)


def versions_to_prune(names, in_use, keep):
    """Names in ``names`` beyond the ``keep`` to keep (the one ``in_use`` first), oldest first."""
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValueError("keep must be a whole number of at least 1 (the install in service is always kept), got %r"
                         % (keep,))
    installs = sorted(set(str(n) for n in names or [] if _VERSIONED.match(str(n))), key=_key, reverse=True)
    kept = [name for name in installs if name == in_use][:1]
    for name in installs:
        if len(kept) >= keep:
            break
        if name not in kept:
            kept.append(name)
    return sorted((name for name in installs if name not in kept), key=_key)

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which side-by-side installs (vLLM venvs, Ollama releases) can go, keeping the newest few.

The roles install each version into its own directory named after it (``0.32.0-cpu``,
``0.20.0``) and point ``current`` at the one in service. Pruning keeps ``keep`` directories: the
one in service always, then the newest others by version (``0.10.0`` is newer than ``0.9.1``);
a directory whose name does not start with a version is not an install and never goes.
"""

from __future__ import absolute_import, division, print_function

import re

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

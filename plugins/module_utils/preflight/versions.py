# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version strings compared as versions: NVIDIA's '535.261.03' < '580.65.06', never as text."""

from __future__ import annotations

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


def version_at_least(actual, floor):
    """Compare component-wise; a missing component counts as 0 ('580' == '580.0')."""
    left, right = list(version_tuple(actual)), list(version_tuple(floor))
    width = max(len(left), len(right))
    left += [0] * (width - len(left))
    right += [0] * (width - len(right))
    return left >= right

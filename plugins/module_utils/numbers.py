# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole numbers from inventory values, which templates may turn into strings."""

from __future__ import annotations

import re

_INT_RE = re.compile(r"^\s*-?\d+\s*$")


def as_int(value):
    """8000 and "8000" -> 8000, "-1" -> -1; a boolean, a float, a word or None -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.match(value):
        return int(value)
    return None

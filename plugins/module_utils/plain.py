# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain data from what filters receive: hostvars and facts are lazy mappings, not dicts."""

from __future__ import annotations


def plain(value):
    """Mappings -> dicts and sequences -> lists, recursively, so module_utils sees ordinary data."""
    if hasattr(value, "items"):
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value

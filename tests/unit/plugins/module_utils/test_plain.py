# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from collections import ChainMap, OrderedDict

from ansible_collections.onprem.llm.plugins.module_utils.plain import plain


def test_lazy_mappings_and_tuples_become_dicts_and_lists():
    out = plain(ChainMap({"a": (1, ChainMap({"b": [2, (3,)]})), "c": OrderedDict(d="e")}))
    assert out == {"a": [1, {"b": [2, [3]]}], "c": {"d": "e"}}
    # ChainMap is no dict subclass, so these say the mappings were converted.
    assert isinstance(out, dict) and isinstance(out["a"], list) and isinstance(out["a"][1], dict)


def test_scalars_are_kept():
    assert [plain(v) for v in ("x", 1, 2.5, None, True)] == ["x", 1, 2.5, None, True]

"""as_int: whole numbers from inventory values (templates may give strings)."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.numbers import as_int


@pytest.mark.parametrize("value, expected", [
    (8000, 8000), ("8000", 8000), (" 42 ", 42), ("-1", -1), (-3, -3), (0, 0),
    (True, None), (False, None), (1.5, None), ("80a", None), ("", None), (None, None), ("1e3", None),
])
def test_as_int(value, expected):
    assert as_int(value) == expected

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/ollama/digest.py: digest spellings and file digests."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.ollama import digest as dg

HEX = "a" * 64


def test_digest_spellings(tmp_path):
    assert dg.normalize("sha256-" + HEX) == "sha256:" + HEX
    assert dg.normalize(HEX.upper()) == "sha256:" + HEX
    assert dg.blob_filename("sha256:" + HEX) == "sha256-" + HEX
    with pytest.raises(ValueError):
        dg.normalize("sha256:xyz")
    f = tmp_path / "f"
    f.write_bytes(b"hello")
    assert dg.sha256_file(str(f), chunk=2) == ("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", 5)

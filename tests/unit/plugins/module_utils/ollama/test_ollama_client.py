# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/ollama/client.py: the API's base URL from OLLAMA_HOST."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.ollama.client import base_url


@pytest.mark.parametrize("host,url", [
    ("127.0.0.1:11434", "http://127.0.0.1:11434"),
    ("0.0.0.0", "http://127.0.0.1:11434"),
    ("http://[::]:8080/", "http://[::1]:8080"),
    ("https://ollama.corp", "https://ollama.corp:443"),
])
def test_base_url(host, url):
    assert base_url(host) == url

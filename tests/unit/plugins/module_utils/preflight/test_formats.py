# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/preflight/formats.py: each value format accepts what the roles use and refuses, with
its sentence, what would break a unit file, a URL or a shell-free command line."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.preflight.formats import FORMATS, PATTERNS

GOOD_AND_BAD = [
    ("name", ["chat", "qwen2.5-7b", "A_1"], ["", "../x", "a b", "-chat", "x" * 65]),
    ("account", ["vllm", "_svc", "ollama-1"], ["Vllm", "1user", "a" * 33]),
    ("version_pin", ["0.32.0", "v1.2.3", "2.13.0+cpu"], ["latest", "1", "0.32"[:1]]),
    ("version_or_auto", ["auto", "0.32.0"], ["newest", ""]),
    ("driver_branch", ["auto", "570"], ["57", "570.133", "R570"]),
    ("driver_version", ["570.133.20", "535.54"], ["570", "R570.1"]),
    ("url", ["https://mirror.example/simple", "file:///srv/bundle"], ["ftp://x", "mirror.example", "http://a b"]),
    ("package", ["nginx", "nvidia-driver-570=570.133.20-1"], ["-nginx", "a b", "nginx;rm"]),
    ("duration", ["5m", "1h30m", "-1", "250ms"], ["five", "5 m"]),
    ("size", ["8m", "512k", "1g", "100"], ["8mb", "1.5g"]),
    ("san", ["DNS:gw.example", "IP:10.0.0.1", "DNS:*.example"], ["gw.example", "IP:any"]),
    ("executable", ["/usr/bin/python3", "python3"], ["../bin/x", "/usr/bin/a b", "$(id)"]),
    ("port", [1, "8000", 65535], [0, 65536, "http", True]),
    ("positive", [1, "4"], [0, -1, "one", 1.5]),
    ("not_negative", [0, "3"], [-1, "x"]),
    ("fraction", [0.9, "1", 0.05], [0, 1.5, "90%", True]),
    ("number_not_negative", [0, 2.5, "3"], [-0.1, "x"]),
    ("hf_repo_id", ["Qwen/Qwen2.5-0.5B-Instruct", "meta-llama/Llama-3.1-8B"],
     ["Qwen2.5", "a/b/c", "owner/-name", "a--b/c", "o/" + "x" * 95]),
    ("host_port", ["127.0.0.1:11434", "[::1]:11434", "http://0.0.0.0:11434", "localhost"],
     ["127.0.0.1:99999", "a b:1", "[::1]:http"]),
    ("abs_path", ["/srv/models", "/"], ["srv/models", "/srv/../etc", "/srv//x"]),
    ("path_or_url", ["/srv/bundle", "https://mirror.example/bundle/"], ["bundle", "ftp://x"]),
    ("ollama_model", ["llama3", "qwen2.5:7b-instruct", "acme/tiny:q4"], ["", "a/b/c/d", "bad name", "x/../y"]),
]


@pytest.mark.parametrize("kind, good, bad", GOOD_AND_BAD, ids=[case[0] for case in GOOD_AND_BAD])
def test_a_format_accepts_the_good_and_refuses_the_bad(kind, good, bad):
    check = FORMATS[kind]
    assert [value for value in good if check(value) is not None] == []
    refused = [check(value) for value in bad]
    assert all(isinstance(sentence, str) and sentence.startswith("must ") for sentence in refused), refused


def test_a_pattern_refuses_with_its_own_sentence():
    for kind, (_regex, _forbidden, sentence) in PATTERNS.items():
        assert FORMATS[kind]("\n") == sentence, kind


@pytest.mark.parametrize("kind", sorted(set(PATTERNS) | {"hf_repo_id", "abs_path", "path_or_url", "ollama_model"}))
def test_a_value_with_a_newline_is_refused(kind):
    # It would add a line to the systemd unit or environment file the value is written into.
    good = {"hf_repo_id": "Qwen/Qwen2.5-0.5B-Instruct", "abs_path": "/srv", "path_or_url": "/srv",
            "ollama_model": "llama3"}.get(kind)
    values = [good + "\n", good + "\nExecStartPre=/bin/sh"] if good else ["x\n", "\n", "1\nExecStartPre=/bin/sh"]
    assert [value for value in values if FORMATS[kind](value) is None] == []


def test_forbidden_parts_are_refused_even_when_the_pattern_matches():
    assert FORMATS["name"]("a..b") == PATTERNS["name"][2]
    assert FORMATS["served_name"]("org//model") == PATTERNS["served_name"][2]


def test_every_format_is_tested_here():
    assert {kind for kind, _good, _bad in GOOD_AND_BAD} | set(PATTERNS) == set(FORMATS)

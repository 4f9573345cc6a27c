"""Known causes of a failed vLLM start, found in real journal excerpts (tests/fixtures/vllm-journal)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.onprem.llm.plugins.filter.vllm import vllm_start_failure
from ansible_collections.onprem.llm.plugins.module_utils.vllm import troubleshoot

ROOT = Path(__file__).resolve().parents[5]
FIXTURES = ROOT / "tests" / "fixtures" / "vllm-journal"
GUIDE = ROOT / "docs" / "vllm-troubleshooting.md"

CASES = {
    "driver-too-old.txt": "driver-too-old",
    "error-802.txt": "error-802-fabric-manager",
    "undefined-symbol.txt": "undefined-symbol",
    "cublas.txt": "cublas-mismatch",
    "libcuda.txt": "libcuda-not-found",
    "libcudart.txt": "libcudart-not-found",
    "no-kernel-image.txt": "no-kernel-image",
    "bfloat16.txt": "bfloat16-compute-capability",
    "kv-cache-max-model-len.txt": "kv-cache-max-model-len",
    "kv-cache-no-memory.txt": "kv-cache-no-memory",
    "port-in-use.txt": "port-in-use",
    "no-compiler.txt": "no-compiler",
    "gated.txt": "gated-or-offline-model",
    "no-device.txt": "cuda-build-without-gpu",
    "nccl.txt": "distributed-hang",
}


def lines_of(name):
    return (FIXTURES / name).read_text().splitlines()


@pytest.mark.parametrize("name,key", sorted(CASES.items()))
def test_each_excerpt_names_its_entry_first(name, key):
    found = troubleshoot.diagnose(lines_of(name))
    assert found, name
    assert found[0].key == key


def test_every_entry_has_an_excerpt_and_a_section_in_the_guide():
    keys = [entry.key for entry in troubleshoot.ENTRIES]
    assert sorted(keys) == sorted(CASES.values())
    anchors = set(re.findall(r'^## .*\{#([a-z0-9-]+)\}|<a id="([a-z0-9-]+)"></a>', GUIDE.read_text(), re.M))
    anchors = {a or b for a, b in anchors}
    assert set(keys) <= anchors, sorted(set(keys) - anchors)


def test_every_fixture_is_listed_in_its_readme():
    readme = (FIXTURES / "README.md").read_text()
    for path in FIXTURES.glob("*.txt"):
        assert "`%s`" % path.name in readme


def test_an_unknown_failure_falls_back_to_the_journal():
    message = troubleshoot.failure_message("vllm@tiny.service", "http://127.0.0.1:8000", 300, lines_of("unknown.txt"))
    assert message.startswith("vllm@tiny.service did not come up on http://127.0.0.1:8000: no answer within 300 s.")
    assert "Known cause" not in message
    assert "No known cause matched (docs/vllm-troubleshooting.md" in message
    assert message.endswith("\n".join(lines_of("unknown.txt")))


def test_the_message_names_the_entry_its_fix_and_the_last_lines():
    lines = ["line %d" % i for i in range(100)] + lines_of("port-in-use.txt")
    message = vllm_start_failure(lines, "vllm@keyed.service", "http://127.0.0.1:8001", 120, 5)
    assert "Known cause (docs/vllm-troubleshooting.md#port-in-use): another process listens" in message
    assert "Fix: give the instance a free port (vllm_instances[].port)" in message
    assert message.endswith("\n".join(lines[-5:]))
    assert "line 94\n" not in message


def test_the_message_says_why_the_wait_ended_when_it_knows():
    why = "its main process exited with status 1 and systemd will restart it"
    message = vllm_start_failure(lines_of("port-in-use.txt"), "vllm@keyed.service", "http://127.0.0.1:8001", 120,
                                 why=why)
    assert message.startswith("vllm@keyed.service did not come up on http://127.0.0.1:8001: " + why + ".\n")
    assert "within 120 s" not in message


def test_a_journal_with_two_causes_names_both_in_order():
    lines = lines_of("libcuda.txt") + lines_of("no-device.txt")
    assert [e.key for e in troubleshoot.diagnose(lines)] == ["libcuda-not-found", "cuda-build-without-gpu"]


def test_a_clean_start_matches_nothing():
    clean = ["(APIServer pid=199) INFO 12-02 04:39:34 [entry.py:140] Starting vLLM server on http://0.0.0.0:8123",
             "(EngineCore pid=278) INFO 12-02 04:39:33 [kv_cache_utils.py:2327] CPU KV cache size: 524,288 tokens",
             # vLLM 0.32.0 vllm/config/parallel.py logs this when it retries an internal port: no failure.
             "(APIServer pid=199) WARNING 12-02 04:39:20 [parallel.py:746] Address already in use. "
             "Retrying with a new port."]
    assert troubleshoot.diagnose(clean) == []

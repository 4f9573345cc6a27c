from __future__ import annotations

import os

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.evaluate import inputs

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures")


def test_file_entries_defaults_and_node_paths():
    out = inputs.file_entries(["sets/kmmlu.jsonl", {"path": "/e/ko best.jsonl", "name": "kobest", "scoring": "generate"}],
                              "tasks", "/work")
    assert [(e["name"], e["path"], e["node_path"]) for e in out] == [
        ("kmmlu", "/work/sets/kmmlu.jsonl", "/var/cache/onprem-llm/eval/tasks-0-kmmlu.jsonl"),
        ("kobest", "/e/ko best.jsonl", "/var/cache/onprem-llm/eval/tasks-1-ko_best.jsonl")]
    assert out[0]["on_controller"] == {"name": "kmmlu", "path": "/work/sets/kmmlu.jsonl", "scoring": "auto"}
    assert out[1]["on_node"] == {"name": "kobest", "path": "/var/cache/onprem-llm/eval/tasks-1-ko_best.jsonl",
                                 "scoring": "generate"}
    texts = inputs.file_entries([{"path": "/t/wiki.txt", "window": "256"}], "texts", "/", "/n/")
    assert texts[0]["on_node"] == {"name": "wiki", "path": "/n/texts-0-wiki.txt", "window": 256}


@pytest.mark.parametrize("entries, kind, message", [
    ([{"name": "x"}], "tasks", r"onprem_eval_tasks\[0\] must be a path or a dict with a path"),
    ([3], "texts", r"onprem_eval_texts\[0\] must be a path"),
    ([{"path": "a", "window": 2}], "tasks", r"onprem_eval_tasks\[0\]: unknown keys window"),
    ([{"path": "a", "window": "big"}], "texts", r"onprem_eval_texts\[0\]: window must be a number"),
    ([], "other", "kind must be tasks or texts"),
])
def test_file_entries_name_the_variable(entries, kind, message):
    with pytest.raises(inputs.InputError, match=message):
        inputs.file_entries(entries, kind, "/")


def _xml(name):
    with open(os.path.join(FIXTURES, "nvidia-smi", name), encoding="utf-8") as handle:
        return handle.read()


def test_gpu_process_memory_from_a_real_capture():
    # A Tesla T4 with Xorg (22 MiB) and a python process (1005 MiB).
    assert inputs.gpu_process_memory(_xml("tesla-t4_driver515_1gpu.xml")) == {675: 22, 5762: 1005}
    assert inputs.gpu_process_memory("") == {}
    with pytest.raises(inputs.InputError, match="not XML"):
        inputs.gpu_process_memory("<nvidia_smi_log>")


def test_instance_memory_prefers_the_gpu_memory_of_its_processes():
    xml = _xml("tesla-t4_driver515_1gpu.xml")
    assert inputs.instance_memory("734003200", "5762\n5800\n", xml) == {
        "bytes": 1005 * 1048576, "source": "GPU memory of the instance's processes (nvidia-smi)"}
    # Its processes hold no GPU memory (a CPU instance on a GPU host): host memory.
    assert inputs.instance_memory("734003200", "42\n", xml)["bytes"] == 734003200
    assert inputs.instance_memory("734003200", "", "")["source"] == "host memory of the unit (systemd MemoryCurrent)"
    # systemd prints [not set] without memory accounting, and 2^64-1 for "infinity".
    assert inputs.instance_memory("[not set]", "", "") == {"bytes": None, "source": ""}
    assert inputs.instance_memory("18446744073709551615", "", "")["bytes"] is None


STATUS = ("Name:\tpython\nVmPeak:\t 2000000 kB\nVmRSS:\t  512000 kB\nThreads:\t12\n"
          "Name:\tVLLM::EngineCor\nVmRSS:\t 1024000 kB\n")


def test_without_memory_accounting_the_resident_memory_of_the_processes():
    # /proc/<pid>/status as Linux prints it (tab after the colon, kB): two processes of one unit.
    assert inputs.rss_bytes(STATUS) == (512000 + 1024000) * 1024
    assert inputs.rss_bytes("Name:\tx\n") is None and inputs.rss_bytes("") is None
    assert inputs.instance_memory("[not set]", "10 11", "", STATUS) == {
        "bytes": (512000 + 1024000) * 1024, "source": "resident memory of the unit's processes (VmRSS)"}
    # MemoryCurrent, when systemd has it, wins over the processes' sum.
    assert inputs.instance_memory("4096", "10 11", "", STATUS)["bytes"] == 4096

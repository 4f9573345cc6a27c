from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.report_files import write_if_changed


def test_write_if_changed_writes_once_and_leaves_no_temporary_file(tmp_path):
    path = str(tmp_path / "r.json")
    assert write_if_changed(path, b"{}\n") is True
    assert write_if_changed(path, b"{}\n") is False
    assert write_if_changed(path, b"[]\n") is True
    assert (tmp_path / "r.json").read_bytes() == b"[]\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]

"""The one-archive name of a controller wheelhouse."""

import pytest

from ansible_collections.onprem.llm.plugins.filter.vllm import FilterModule
from ansible_collections.onprem.llm.plugins.module_utils.vllm.wheelhouse import archive_plan
from ansible.errors import AnsibleFilterError

FILES = [{"path": "/w/h-1/torch-2.13.0.whl", "size": 200}, {"path": "/w/h-1/a-1.0.whl", "size": 10}]


def test_names_sorted_and_path_keyed_by_names_and_sizes():
    plan = archive_plan(FILES, "/w/h-1/", "/cache/")
    assert plan["names"] == ["a-1.0.whl", "torch-2.13.0.whl"]
    assert plan["path"].startswith("/cache/h-1-") and plan["path"].endswith(".tar")
    assert len(plan["path"]) == len("/cache/h-1-") + 16 + len(".tar")


def test_same_content_same_archive_other_content_other_archive():
    same = archive_plan(list(reversed(FILES)), "/w/h-1", "/cache")
    assert same == archive_plan(FILES, "/w/h-1", "/cache")
    resized = [dict(FILES[0], size=201), FILES[1]]
    assert archive_plan(resized, "/w/h-1", "/cache")["path"] != same["path"]
    extra = FILES + [{"path": "/w/h-1/b-2.0.whl", "size": 1}]
    assert archive_plan(extra, "/w/h-1", "/cache")["path"] != same["path"]


@pytest.mark.parametrize("files,archive_dir,message", [
    (FILES, "relative/dir", "vllm_wheelhouse_archive_dir must be an absolute path"),
    (FILES, "", "vllm_wheelhouse_archive_dir must be an absolute path"),
    ([], "/cache", "the wheelhouse /w/h-1 holds no files"),
])
def test_bad_input_is_named(files, archive_dir, message):
    with pytest.raises(ValueError, match=message):
        archive_plan(files, "/w/h-1", archive_dir)
    with pytest.raises(AnsibleFilterError, match="^vllm: " + message):
        FilterModule().filters()["vllm_wheelhouse_archive"](files, "/w/h-1", archive_dir)

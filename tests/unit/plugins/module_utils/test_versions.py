"""Which side-by-side installs go when the newest few are kept."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter.versions import versions_to_prune as filter_versions_to_prune
from ansible_collections.onprem.llm.plugins.module_utils.versions import tuple_at_least, versions_to_prune

VENVS = ["0.30.0-cpu", "0.31.0-cpu", "0.32.0-cpu", "locks", "current"]


def test_the_newest_are_kept_and_the_rest_go_oldest_first():
    assert versions_to_prune(VENVS + ["0.29.1-cpu"], "0.32.0-cpu", 2) == ["0.29.1-cpu", "0.30.0-cpu"]


def test_the_one_in_service_is_always_kept_and_counts():
    # Rolled back to an older build: it stays, with the newest other one.
    assert versions_to_prune(VENVS, "0.30.0-cpu", 2) == ["0.31.0-cpu"]
    # keep 1: only the one in service, even when newer ones exist.
    assert versions_to_prune(["0.20.0", "0.21.0"], "0.20.0", 1) == ["0.21.0"]


def test_versions_sort_as_numbers_not_text():
    assert versions_to_prune(["0.9.1", "0.10.0", "0.10.2"], "", 2) == ["0.9.1"]


def test_variants_of_one_version_are_separate_installs():
    assert versions_to_prune(["0.32.0-cpu", "0.32.0-cu128", "0.31.0-cu128"], "0.32.0-cu128", 2) == ["0.31.0-cu128"]


def test_other_directories_never_go_and_nothing_goes_below_keep():
    assert versions_to_prune(["locks", "current", "tmp"], "", 1) == []
    assert versions_to_prune(["0.20.0"], "0.20.0", 2) == []
    assert versions_to_prune([], "", 2) == []


@pytest.mark.parametrize("keep", [0, -1, True, "2", None])
def test_keep_must_be_at_least_one(keep):
    with pytest.raises(ValueError, match="keep must be a whole number of at least 1"):
        versions_to_prune(VENVS, "0.32.0-cpu", keep)


def test_the_filter_names_bad_input():
    with pytest.raises(AnsibleFilterError, match="expects the install directories"):
        filter_versions_to_prune("0.32.0-cpu", "0.32.0-cpu", 2)
    with pytest.raises(AnsibleFilterError, match="keep must be"):
        filter_versions_to_prune(VENVS, "0.32.0-cpu", 0)
    assert filter_versions_to_prune(VENVS, None, 1) == ["0.30.0-cpu", "0.31.0-cpu"]


def test_tuples_compare_with_missing_components_as_zero():
    assert tuple_at_least((580,), (580, 0, 0))
    assert tuple_at_least((1000, 1), (580,))
    assert not tuple_at_least((99, 0), (450, 80, 2))

"""Which per-OS vars files a role loads, and in which order (onprem.llm.os_vars_files)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter import os_vars as filter_plugin
from ansible_collections.onprem.llm.plugins.module_utils.os_vars import os_vars_files

DEBIAN = {"os_family": "Debian", "distribution": "Debian", "distribution_major_version": "12",
          "distribution_version": "12.12"}
UBUNTU = {"os_family": "Debian", "distribution": "Ubuntu", "distribution_major_version": "24",
          "distribution_version": "24.04"}
ROCKY = {"os_family": "RedHat", "distribution": "Rocky", "distribution_major_version": "9",
         "distribution_version": "9.6"}


def test_least_specific_first_so_the_most_specific_wins():
    assert os_vars_files(ROCKY) == ["RedHat.yml", "Rocky.yml", "Rocky_9.yml", "Rocky_9.6.yml"]
    assert os_vars_files(UBUNTU) == ["Debian.yml", "Ubuntu.yml", "Ubuntu_24.yml", "Ubuntu_24.04.yml"]


def test_a_family_named_like_its_distribution_appears_once():
    assert os_vars_files(DEBIAN) == ["Debian.yml", "Debian_12.yml", "Debian_12.12.yml"]


def test_a_release_without_a_minor_version_appears_once():
    # Debian testing reports major and version alike; one file name, not two.
    facts = dict(DEBIAN, distribution_major_version="13", distribution_version="13")
    assert os_vars_files(facts) == ["Debian.yml", "Debian_13.yml"]


@pytest.mark.parametrize("missing", ["os_family", "distribution", "distribution_major_version",
                                     "distribution_version"])
def test_missing_facts_are_named(missing):
    facts = {k: v for k, v in DEBIAN.items() if k != missing}
    with pytest.raises(ValueError, match="lacks %s: gather them first" % missing):
        os_vars_files(facts)


def test_not_facts_at_all():
    with pytest.raises(ValueError, match="expects the host's ansible_facts"):
        os_vars_files(["Debian"])


def test_the_filter_wraps_the_function_and_its_errors():
    assert filter_plugin.FilterModule().filters() == {"os_vars_files": filter_plugin.os_vars_files}
    assert filter_plugin.os_vars_files(ROCKY) == os_vars_files(ROCKY)
    with pytest.raises(AnsibleFilterError, match="os_vars_files: ansible_facts lacks distribution"):
        filter_plugin.os_vars_files({"os_family": "Debian", "distribution_major_version": "12",
                                     "distribution_version": "12.1"})

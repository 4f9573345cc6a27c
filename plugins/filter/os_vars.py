# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter behind roles/_common/tasks/os_vars.yml: the per-OS vars files a role loads, in order."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils import os_vars as _os_vars


def os_vars_files(facts):
    try:
        return _os_vars.os_vars_files(facts)
    except ValueError as exc:
        raise AnsibleFilterError("os_vars_files: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"os_vars_files": os_vars_files}

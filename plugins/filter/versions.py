# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter behind the vllm and ollama roles' pruning of old side-by-side installs."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils import versions as _versions


def versions_to_prune(names, in_use, keep):
    if not isinstance(names, list):
        raise AnsibleFilterError("versions_to_prune expects the install directories' names (a list), got %s"
                                 % type(names).__name__)
    try:
        return _versions.versions_to_prune(names, str(in_use or ""), keep)
    except ValueError as exc:
        raise AnsibleFilterError("versions_to_prune: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"versions_to_prune": versions_to_prune}

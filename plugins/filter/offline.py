# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind closed-network mode: the artifacts a host's roles fetch, the ones a closed network
refuses, and a model list rewritten to come from the offline bundle."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils.preflight import offline as _offline


def offline_artifacts(values, groups=None, os_family="", hostname=""):
    if not isinstance(values, dict):
        raise AnsibleFilterError("offline_artifacts expects a dict of variables, got %s" % type(values).__name__)
    return _offline.artifacts(values, list(groups or []), os_family or "", hostname or "")


def offline_problems(items, allowed=None, hostname=""):
    if not isinstance(items, list):
        raise AnsibleFilterError("offline_problems expects the list offline_artifacts returns")
    return _offline.message(_offline.violations(items, list(allowed or [])), hostname or "")


def offline_models(models, base_url):
    try:
        return _offline.offline_models(models, base_url)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def offline_variables(ignored=None):
    return dict((role, list(names)) for role, names in _offline.ROLE_VARIABLES.items())


class FilterModule(object):
    def filters(self):
        return {
            "offline_artifacts": offline_artifacts,
            "offline_problems": offline_problems,
            "offline_models": offline_models,
            "offline_variables": offline_variables,
        }

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: role_defaults
author:
  - onprem.llm contributors (@onprem-llm)
version_added: 0.1.0
short_description: The public defaults of onprem.llm roles
description:
  - Returns, for each role named, a mapping of its public options to their defaults (the options its
    C(meta/argument_specs.yml) declares (entry point C(main) unless O(entry_point) says otherwise),
    with the values of its C(defaults/main.yml), rendered with the variables of the task that asks, as
    the role's defaults would be, over the collection-wide C(onprem_*) defaults of C(onprem.llm._common),
    which every role depends on). Options the defaults file does not set are left out.
  - Only roles of the onprem.llm collection, read from the collection this plugin belongs to.
  - The closed-network check and the bundle plan other roles' downloads from the inventory over these
    defaults, so no role reads another role's files.
options:
  _terms:
    description: Role names of the collection (C(nvidia_driver), C(vllm) ...).
    required: true
    type: list
    elements: str
  entry_point:
    description: The entry point whose options are read.
    type: str
    default: main
"""

EXAMPLES = r"""
- name: The NVIDIA driver branch the role installs when the inventory names none
  ansible.builtin.debug:
    msg: "{{ lookup('onprem.llm.role_defaults', 'nvidia_driver').nvidia_driver_branch }}"
"""

RETURN = r"""
_raw:
  description: One mapping per role named, option name to default, in the order of the terms.
  type: list
  elements: dict
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.onprem.llm.plugins.module_utils.role_defaults import role_defaults

# plugins/lookup/ -> the collection's root, whose roles/ this plugin reads.
_ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")


class LookupModule(LookupBase):
    def _load(self, path):
        """The file as include_vars loads it: its templates trusted, rendered where a value is used."""
        if not os.path.isfile(path):
            raise OSError(2, "No such file", path)
        try:
            return self._loader.load_from_file(path, cache="none", trusted_as_template=True)
        except TypeError:  # ansible-core before 2.19 has no trust markers: every string templates
            return self._loader.load_from_file(path, cache="none")

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        entry_point = self.get_option("entry_point")
        templar = self._templar_with_collection_defaults(variables)
        out = []
        for role in terms:
            role = str(role)
            if not role or role.startswith((".", "_")) or os.sep in role:
                raise AnsibleLookupError("role_defaults: %r is not a public role of onprem.llm" % role)
            try:
                specs, defaults = (self._load(os.path.join(_ROLES, role, *parts))
                                   for parts in (("meta", "argument_specs.yml"), ("defaults", "main.yml")))
            except OSError as exc:
                raise AnsibleLookupError("role_defaults: onprem.llm has no role %s (%s: %s)"
                                         % (role, exc.strerror, exc.filename))
            try:
                public = role_defaults(defaults, specs, role, entry_point)
            except ValueError as exc:
                raise AnsibleLookupError("role_defaults: %s" % exc)
            # Rendered here, with the variables of the task that asks, as the role's defaults would be
            # (ollama_download_base_url follows onprem_closed_network): a lookup's result is not templated again.
            out.append(templar.template(public))
        return out

    def _templar_with_collection_defaults(self, variables):
        """The asking task's variables over the collection-wide onprem_* defaults, which every role
        has through its dependency on onprem.llm._common (a play on localhost may not)."""
        try:
            common = self._load(os.path.join(_ROLES, "_common", "defaults", "main.yml")) or {}
        except OSError as exc:
            raise AnsibleLookupError("role_defaults: %s: %s" % (exc.strerror, exc.filename))
        env = dict(common)
        env.update(variables or {})
        return self._templar.copy_with_new_env(available_variables=env)

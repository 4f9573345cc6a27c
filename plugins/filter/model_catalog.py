# -*- coding: utf-8 -*-
# Copyright: onprem.llm maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter onprem.llm.model_catalog."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: model_catalog
short_description: Look up a model in the onprem.llm model catalog
version_added: 0.1.0
author: onprem.llm contributors (@onprem-llm)
description:
  - Returns the catalog entry of a model from C(data/models.yml) in this collection, read on the
    controller. The entry is what C(onprem.llm.model_fit) sizes, plus download and license data.
  - The input may be the catalog name (V(llama-3.1-8b-instruct)), the Hugging Face repository id
    (V(meta-llama/Llama-3.1-8B-Instruct)) or an Ollama tag (V(llama3.1:8b)); case does not matter.
  - An unknown name fails and lists the catalog's names.
positional: _input
options:
  _input:
    description: Catalog name, Hugging Face repository id or Ollama tag.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Show the repository of a catalog model
  ansible.builtin.debug:
    msg: "{{ ('qwen2.5-7b-instruct' | onprem.llm.model_catalog).hf_repo }}"

- name: Show the license a model comes with
  ansible.builtin.debug:
    msg: "{{ ('llama3.1:8b' | onprem.llm.model_catalog).license.name }}"
"""

RETURN = r"""
_value:
  description:
    - The catalog entry with C(name) (the catalog key) added. The comment at the top of
      C(data/models.yml) describes every field.
  type: dict
  contains:
    name:
      description: Catalog key.
      type: str
    display_name:
      description: Human name.
      type: str
    hf_repo:
      description: Hugging Face repository id.
      type: str
    ollama:
      description: Ollama tags.
      type: list
      elements: str
    parameter_count:
      description: Total parameters (all experts for MoE models).
      type: int
    dtype:
      description: Dtype of the published weights.
      type: str
    context_length:
      description: Longest context the model supports without extra rope settings.
      type: int
    config:
      description: Architecture numbers for KV-cache sizing.
      type: dict
    license:
      description: License id, name and url.
      type: dict
    korean:
      description: A public statement about Korean with its source, or null.
      type: dict
    quantized:
      description: Published pre-quantized variants (method, bits, bits_per_weight, hf_repo).
      type: list
      elements: dict
    sources:
      description: Where the numbers come from.
      type: list
      elements: str
"""

from pathlib import Path

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.onprem.llm.plugins.module_utils.weights.catalog import (
    CatalogError,
    catalog_entry,
    load_catalog_cached,
)

# plugins/filter/model_catalog.py -> collection root -> data/models.yml
CATALOG_PATH = Path(__file__).resolve().parents[2] / "data" / "models.yml"


def model_catalog(name, catalog_path=None):
    """The catalog entry for ``name`` (a catalog name, its hf_repo or an Ollama tag)."""
    try:
        return catalog_entry(load_catalog_cached(catalog_path or CATALOG_PATH), name)
    except CatalogError as exc:
        raise AnsibleFilterError("onprem.llm.model_catalog: %s" % to_native(exc))


class FilterModule(object):
    def filters(self):
        return {"model_catalog": model_catalog}

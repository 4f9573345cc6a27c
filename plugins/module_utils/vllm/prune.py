# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which vLLM instances a host still has that its inventory no longer lists.

The vllm role keeps one ``<name>.yaml`` (the server's ``--config``) per instance in
``vllm_config_dir``; that file is the record of what the role set up, whatever state the unit is
in. An instance whose name is in neither ``vllm_instances`` nor ``vllm_ray_instances`` is stale:
tasks/prune.yml stops and disables ``vllm@<name>.service`` and removes its files.
"""

from __future__ import absolute_import, division, print_function

import posixpath


def stale_instances(config_paths, wanted):
    """Names of ``<name>.yaml`` files in ``config_paths`` not in ``wanted``, sorted."""
    keep = set(str(name) for name in wanted or [])
    names = set()
    for path in config_paths or []:
        base = posixpath.basename(str(path))
        if base.endswith(".yaml") and len(base) > len(".yaml"):
            names.add(base[:-len(".yaml")])
    return sorted(names - keep)

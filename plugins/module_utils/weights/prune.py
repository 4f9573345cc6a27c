# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which staged models can go (model_weights_prune, model_weights_purge).

The model_weights role stages each model in ``<root>/.store/<name>`` and links ``<root>/<name>`` to
it once it is checked, so the role's own models are exactly the directories under ``.store``
(finished or still partial). A model goes when the inventory no longer lists it for this host,
unless a vLLM instance on the host serves it: its config's ``model`` is a path into
``<root>/<name>`` or ``<root>/.store/<name>`` (the directory or a file in it, a GGUF).
"""

from __future__ import absolute_import, division, print_function

import posixpath


def model_of_path(path, root):
    """The model name a served path points into, or None when it is not under ``root``."""
    if not path or not root:
        return None
    root = posixpath.normpath(str(root))
    path = posixpath.normpath(str(path))
    if not path.startswith(root.rstrip("/") + "/"):
        return None
    parts = path[len(root.rstrip("/")) + 1:].split("/")
    if parts[0] == ".store":
        parts = parts[1:]
    return parts[0] if parts and parts[0] not in ("", ".", "..") else None


def prune_plan(staged, listed, in_use, root):
    """Staged model names, the names this host lists, the served paths {instance: path} ->
    {"remove": [names], "in_use": {name: [instances]}, "kept": [names]}, names sorted.

    ``remove``: staged, not listed, not served; ``in_use``: staged, not listed, but served by the
    instances named (never removed); ``kept``: staged and listed."""
    listed = set(str(n) for n in listed or [])
    users = {}
    for instance, path in sorted((in_use or {}).items()):
        name = model_of_path(path, root)
        if name is not None:
            users.setdefault(name, []).append(str(instance))
    remove, busy, kept = [], {}, []
    for name in sorted(set(str(n) for n in staged or [])):
        if name in listed:
            kept.append(name)
        elif name in users:
            busy[name] = users[name]
        else:
            remove.append(name)
    return {"remove": remove, "in_use": busy, "kept": kept}


def purge_refusal(staged, in_use, root):
    """model_weights_purge deletes every staged model: the message refusing it while vLLM instances
    still serve some of them (naming each model and instance), or "" when none does."""
    users = prune_plan(staged, [], in_use, root)["in_use"]
    if not users:
        return ""
    return ("model_weights_purge would delete models vLLM still serves: %s. Remove those instances "
            "from vllm_instances (or set vllm_state: absent) first, or leave model_weights_purge false."
            % "; ".join("%s (%s)" % (name, ", ".join(users[name])) for name in sorted(users)))

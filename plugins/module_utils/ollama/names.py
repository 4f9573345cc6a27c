# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ollama model names: ``[host/][namespace/]model[:tag]`` as the server normalises them.

``llama3`` is ``registry.ollama.ai/library/llama3:latest``; ``/api/tags`` lists it as
``llama3:latest``; the manifest lives at ``manifests/registry.ollama.ai/library/llama3/latest``.
"""

from __future__ import annotations

import re

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?$")


class ModelName:
    """A parsed model name; ``str()`` gives the short form ``/api/tags`` reports."""

    __slots__ = ("host", "namespace", "model", "tag")

    def __init__(self, host, namespace, model, tag):
        self.host, self.namespace, self.model, self.tag = host, namespace, model, tag

    @property
    def full(self):
        return "%s/%s/%s:%s" % (self.host, self.namespace, self.model, self.tag)

    @property
    def manifest_relpath(self):
        """Path of the manifest below ``$OLLAMA_MODELS/manifests``."""
        return "/".join((self.host, self.namespace, self.model, self.tag))

    def __str__(self):
        if self.host == DEFAULT_HOST and self.namespace == DEFAULT_NAMESPACE:
            return "%s:%s" % (self.model, self.tag)
        if self.host == DEFAULT_HOST:
            return "%s/%s:%s" % (self.namespace, self.model, self.tag)
        return self.full

    def __eq__(self, other):
        return isinstance(other, ModelName) and self.full.lower() == other.full.lower()

    def __hash__(self):
        return hash(self.full.lower())

    def __repr__(self):
        return "ModelName(%r)" % self.full


def parse_name(name):
    """Parse ``name``; raise ValueError naming what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("model name is empty")
    raw = name.strip()
    tag = DEFAULT_TAG
    last = raw.rsplit("/", 1)[-1]
    if ":" in last:
        base, tag = raw.rsplit(":", 1)
    else:
        base = raw
    parts = base.split("/")
    if len(parts) == 1:
        host, namespace, model = DEFAULT_HOST, DEFAULT_NAMESPACE, parts[0]
    elif len(parts) == 2:
        host, (namespace, model) = DEFAULT_HOST, parts
    elif len(parts) == 3:
        host, namespace, model = parts
    else:
        raise ValueError("model name %r has too many '/' parts (at most host/namespace/model:tag)" % name)
    if not _HOST.fullmatch(host):
        raise ValueError("model name %r has an invalid host %r" % (name, host))
    for label, value in (("namespace", namespace), ("model", model), ("tag", tag)):
        if not _PART.fullmatch(value or ""):
            raise ValueError("model name %r has an invalid %s %r" % (name, label, value))
    return ModelName(host, namespace, model, tag)


def find_listed(models, name):
    """Return the ``/api/tags`` entry (dict) for ``name`` (str or ModelName), or None."""
    wanted = name if isinstance(name, ModelName) else parse_name(name)
    for entry in models or []:
        listed = entry.get("model") or entry.get("name")
        try:
            if parse_name(listed) == wanted:
                return entry
        except ValueError:
            continue
    return None

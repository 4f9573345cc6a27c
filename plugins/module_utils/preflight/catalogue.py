# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's catalogue of inventory variables, for the inventory preflight.

Pure: built from already-parsed data, the ``argument_specs`` of every role (role name -> options of
its entry points), the collection-wide ``onprem_*`` variables (the ``main`` entry point of the private
role ``_common``, whose defaults every role shares) and ``data/inventory_variables.yml`` (facts the
roles set, lab plumbing patterns, renamed variables, play keywords, the services' ports).
Roles added later are covered without a change here: their options and their ``<role>_`` prefix
come from their own ``meta/argument_specs.yml``.
"""

from __future__ import annotations

import fnmatch

from ansible_collections.onprem.llm.plugins.module_utils.preflight.formats import FORMATS

DATA_KEYS = ("prefixes", "facts", "patterns", "renamed", "play_keywords", "ports", "rules", "free_text")
PORT_KEYS = ("var", "groups", "label", "port_key", "address_key", "default_address", "address_var",
             "format", "default_port", "when")


class CatalogueError(ValueError):
    """The data file breaks its schema; the text says where."""


class Catalogue(object):
    """Known variables (name -> spec), prefixes, facts, patterns, renames and port sources."""

    def __init__(self, options, prefixes, facts=(), patterns=(), renamed=None, ports=(), rules=None,
                 play_keywords=()):
        self.options = dict(options)
        self.play_keywords = frozenset(play_keywords)
        self.prefixes = tuple(sorted(set(prefixes), key=lambda p: (-len(p), p)))
        self.facts = frozenset(facts)
        self.patterns = tuple(patterns)
        self.renamed = dict(renamed or {})
        self.ports = list(ports)
        self.rules = dict(rules or {})
        self.free_text = {}

    def role_of(self, name):
        """The role that declares ``name`` (None for collection-wide variables and unknown names)."""
        return (self.options.get(name) or {}).get("_role")

    def owns(self, name):
        """True when ``name`` carries one of the collection's prefixes (and is not internal)."""
        return not name.startswith("_") and any(name.startswith(p) for p in self.prefixes)

    def known(self, name):
        return name in self.options or name in self.facts or any(
            fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)

    def spec(self, name):
        return self.options.get(name)

    def default(self, name):
        return (self.options.get(name) or {}).get("default")


def _data_problems(data):
    problems = []
    if not isinstance(data, dict):
        return ["the data file must be a mapping"]
    for key in sorted(set(data) - set(DATA_KEYS)):
        problems.append("unknown key %s (known: %s)" % (key, ", ".join(DATA_KEYS)))
    for key, kind in (("prefixes", list), ("facts", list), ("patterns", list), ("renamed", dict),
                      ("play_keywords", list), ("ports", list), ("rules", dict), ("free_text", dict)):
        if data.get(key) is not None and not isinstance(data[key], kind):
            problems.append("%s must be a %s" % (key, "list" if kind is list else "mapping"))
    for old, new in (data.get("renamed") or {}).items() if isinstance(data.get("renamed"), dict) else []:
        if not isinstance(new, dict) or not new.get("name") or not new.get("version"):
            problems.append("renamed.%s needs name (the new variable) and version" % old)
    for i, entry in enumerate(data.get("ports") or []) if isinstance(data.get("ports"), list) else []:
        if not isinstance(entry, dict) or not entry.get("var") or not entry.get("groups"):
            problems.append("ports[%d] needs var and groups" % i)
            continue
        for key in sorted(set(entry) - set(PORT_KEYS)):
            problems.append("ports[%d]: unknown key %s" % (i, key))
        when = entry.get("when")
        if when is not None and not (isinstance(when, dict) or (
                isinstance(when, list) and all(isinstance(c, dict) for c in when))):
            problems.append("ports[%d]: when must be a mapping or a list of mappings" % i)
        if entry.get("format", "int") not in ("int", "host_port", "list"):
            problems.append("ports[%d]: format must be int, host_port or list" % i)
    for path, fmt in (data.get("rules") or {}).items() if isinstance(data.get("rules"), dict) else []:
        if fmt not in FORMATS:
            problems.append("rules.%s: unknown format %s (known: %s)" % (path, fmt, ", ".join(sorted(FORMATS))))
    return problems


def _collection_problems(collection_specs, data):
    problems = []
    for name, spec in sorted((collection_specs or {}).items()):
        if not isinstance(spec, dict) or not spec.get("description") or not spec.get("type"):
            problems.append("%s needs a description and a type" % name)
    for name in (data.get("play_keywords") or []) if isinstance(data, dict) else []:
        if name not in (collection_specs or {}):
            problems.append("play_keywords: %s is not a collection variable" % name)
    return problems


def build_catalogue(role_specs, data, collection_specs=None):
    """role_specs: role name -> argument_specs options; data: the parsed data file; collection_specs:
    name -> spec of the collection-wide variables (``_common``'s ``main`` options)."""
    problems = _data_problems(data)
    if problems:
        raise CatalogueError("data/inventory_variables.yml: " + "; ".join(problems))
    problems = _collection_problems(collection_specs, data)
    if problems:
        raise CatalogueError("roles/_common/meta/argument_specs.yml (main): " + "; ".join(problems))
    options = {}
    prefixes = list(data.get("prefixes") or [])
    for role, role_options in sorted((role_specs or {}).items()):
        prefixes.append("%s_" % role)
        for name, spec in (role_options or {}).items():
            entry = dict(spec or {})
            entry["_role"] = role
            options[name] = entry
    for name, spec in (collection_specs or {}).items():
        entry = dict(spec)
        entry["_role"] = None
        options.setdefault(name, entry)
    catalogue = Catalogue(
        options,
        prefixes,
        facts=data.get("facts") or (),
        patterns=data.get("patterns") or (),
        renamed=data.get("renamed") or {},
        ports=data.get("ports") or (),
        rules=data.get("rules") or {},
        play_keywords=data.get("play_keywords") or (),
    )
    catalogue.free_text = dict(data.get("free_text") or {})
    return catalogue


def role_specs_from_documents(documents):
    """role name -> options, from role name -> parsed meta/argument_specs.yml documents.

    Options of every entry point count (a role's ``drain`` entry point reads inventory variables
    too); where two entry points declare one option, ``main`` wins. A private role (``_common``) is
    left out: its ``main`` options are the collection-wide variables (collection_specs_from_documents),
    its other entry points' options are what the other roles pass it.
    """
    out = {}
    for role, document in (documents or {}).items():
        if role.startswith("_"):
            continue
        entries = (document or {}).get("argument_specs") or {}
        options = {}
        for entry_name in sorted(entries, key=lambda n: (n == "main", n)):
            options.update((entries[entry_name] or {}).get("options") or {})
        out[role] = options
    return out


def collection_specs_from_documents(documents):
    """name -> spec of the collection-wide variables: the ``main`` options of the private roles."""
    out = {}
    for role, document in sorted((documents or {}).items()):
        if role.startswith("_"):
            entries = (document or {}).get("argument_specs") or {}
            out.update((entries.get("main") or {}).get("options") or {})
    return out

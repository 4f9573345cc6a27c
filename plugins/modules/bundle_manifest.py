#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: bundle_manifest
short_description: Write or verify the sha256 manifest of an offline bundle or a model directory
version_added: 0.1.0
description:
  - O(state=present) writes C(<path>/MANIFEST.sha256), one C(sha256sum) line per file under O(path)
    (dot files and dot directories left out), so C(sha256sum -c MANIFEST.sha256) checks the bundle on
    any machine. Unchanged content leaves the file untouched.
  - O(state=verify) recomputes every digest and fails, naming the files, when one is missing,
    changed, or not listed.
  - O(state=model) writes C(<path>/manifest.json) (path, size and sha256 of every file), the manifest
    M(onprem.llm.model_fetch) reads from an HTTP mirror.
author:
  - onprem.llm contributors (@onprem-llm)
attributes:
  check_mode:
    support: full
    description: Computes and reports whether the manifest would change; writes nothing.
  diff_mode:
    support: none
    description: Reports the files that differ instead of a diff.
options:
  path:
    description: The bundle (or model) directory.
    type: path
    required: true
  state:
    description: C(present) (write MANIFEST.sha256), C(verify) (check it) or C(model) (write manifest.json).
    type: str
    choices: [present, verify, model]
    default: present
  revision:
    description: Revision recorded in manifest.json (O(state=model)).
    type: str
"""

EXAMPLES = r"""
- name: Write the bundle manifest
  onprem.llm.bundle_manifest:
    path: /srv/onprem-bundle

- name: Verify a carried-in bundle
  onprem.llm.bundle_manifest:
    path: /srv/onprem-bundle
    state: verify
"""

RETURN = r"""
files:
  description: Number of files listed.
  returned: always
  type: int
missing:
  description: Listed but absent (O(state=verify)); before writing, files that left the bundle.
  returned: always
  type: list
  elements: str
changed_files:
  description: Listed with another sha256.
  returned: always
  type: list
  elements: str
unlisted:
  description: Present but not listed.
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.onprem.llm.plugins.module_utils.bundle import manifest


def _read(path):
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as stream:
        return stream.read()


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "verify", "model"], default="present"),
            revision=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    root, state = module.params["path"], module.params["state"]
    if not os.path.isdir(root):
        module.fail_json(msg="%s is not a directory" % root)
    if state == "model":
        text = manifest.model_manifest(root, module.params["revision"])
        target = os.path.join(root, "manifest.json")
        changed = _read(target) != text
        if changed and not module.check_mode:
            _write(target, text)
        module.exit_json(changed=changed, files=text.count('"path"'), missing=[], changed_files=[], unlisted=[])
    target = os.path.join(root, manifest.MANIFEST_NAME)
    actual = manifest.compute(root)
    old_text = _read(target)
    if state == "verify":
        if old_text is None:
            module.fail_json(msg="%s: no %s" % (root, manifest.MANIFEST_NAME))
        try:
            diff = manifest.compare(manifest.parse(old_text), actual)
        except ValueError as exc:
            module.fail_json(msg="%s: %s" % (target, exc))
        result = dict(changed=False, files=len(actual), missing=diff["missing"], changed_files=diff["changed"],
                      unlisted=diff["unlisted"])
        if any(diff.values()):
            module.fail_json(msg="%s does not match %s: missing %s, changed %s, unlisted %s" % (
                root, manifest.MANIFEST_NAME, diff["missing"] or "none", diff["changed"] or "none",
                diff["unlisted"] or "none"), **result)
        module.exit_json(**result)
    text = manifest.render(actual)
    diff = manifest.compare(manifest.parse(old_text) if old_text else {}, actual)
    changed = old_text != text
    if changed and not module.check_mode:
        _write(target, text)
    module.exit_json(changed=changed, files=len(actual), missing=diff["missing"], changed_files=diff["changed"],
                     unlisted=diff["unlisted"])


if __name__ == "__main__":
    main()

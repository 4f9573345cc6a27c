#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: model_fetch
short_description: Stage model weights into a directory, resumably and verified
version_added: "0.1.0"
description:
  - Copies the files of a model from the Hugging Face Hub (or a mirror of its API), a static HTTP
    mirror with a C(manifest.json), or a local / NFS directory into O(dest).
  - Transfers resume across process restarts and re-runs - partial files are kept in
    C(<dest>/.partial/) and continued with HTTP C(Range) requests (or a seek for local sources),
    never restarted from zero unless the server ignores C(Range) (reported in a warning) or the
    completed file fails verification.
  - Every file is checked against its size and sha256 (Hub LFS files, manifests) or its git blob
    sha1 (small non-LFS Hub files, whose Hub metadata has no sha256) before it is moved into place
    with an atomic rename after C(fsync). Files never appear under their final name unverified.
  - Verified files are recorded in C(<dest>/.onprem-verified.json) (path, size, sha256, mtime_ns);
    a later run trusts a file whose size and mtime are unchanged and whose digest matches the
    listing, so a complete directory reports C(changed=false) without re-hashing. Files in O(dest)
    with the right size but no record are hashed once; wrong ones are fetched again.
  - Progress is written to O(status_file) at least every second (bytes, rate, files, current
    files), so a task running with C(async) can be watched with M(ansible.builtin.slurp).
  - Files present in O(dest) but not in the listing are left alone; nothing is ever deleted.
  - Transfers use the Python standard library (C(urllib)) with O(proxy) or the C(HTTPS_PROXY) /
    C(NO_PROXY) environment and an extra CA bundle (O(ca_path)); only listing a Hub repository
    needs C(huggingface_hub).
author:
  - onprem.llm contributors (@onprem-llm)
requirements:
  - Python 3.9 or newer on the target.
  - C(huggingface_hub) on the target, for O(source=hf) only.
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details: Lists the source and reports which files would be fetched and how many bytes, without
      writing anything to O(dest). Files present without a record in C(.onprem-verified.json) are
      hashed (read only) to tell.
  diff_mode:
    support: none
    description: Does not return details on what has changed (or would change) in diff mode.
options:
  source:
    description:
      - Where the files come from.
      - V(hf) - a Hugging Face Hub repository (O(repo_id), O(revision), O(endpoint), O(token)).
      - V(http) - a static HTTP(S) mirror at O(url) with a manifest (O(manifest)).
      - V(local) - a directory on the target (O(path)), e.g. an NFS mount.
    type: str
    choices: [hf, http, local]
    default: hf
  dest:
    description: Directory to stage the model into; created if missing.
    type: path
    required: true
  repo_id:
    description: Hub repository, C(owner/name). Required with O(source=hf).
    type: str
  repo_type:
    description: Hub repository type.
    type: str
    choices: [model, dataset]
    default: model
  revision:
    description:
      - Commit sha, tag or branch. Resolved to a commit sha once, all files are then fetched from
        that commit (RV(revision)), so a branch moving during the transfer cannot mix versions.
      - Pin a commit sha in inventories for reproducible deployments.
    type: str
    default: main
  endpoint:
    description: Hub endpoint or mirror of the Hub API. Defaults to E(HF_ENDPOINT), else C(https://huggingface.co).
    type: str
  token:
    description: Hub access token for private or gated repositories. Defaults to E(HF_TOKEN).
    type: str
  url:
    description: Base URL of the static mirror for O(source=http); file C(p) is fetched from C(<url>/p).
    type: str
  path:
    description: Source directory for O(source=local).
    type: path
  manifest:
    description:
      - O(source=http) - manifest URL (absolute, or relative to O(url)); default C(<url>/manifest.json).
      - O(source=local) - manifest file; default C(<path>/manifest.json), else
        C(<path>/.onprem-verified.json) (a directory staged by this module), else none (files are
        then checked by size only and the sha256 of the copied bytes is recorded).
      - 'Format - JSON C({"files": [{"path", "size", "sha256"}], "revision": optional}) or C(sha256sum)
        lines (these carry no size, so only for O(source=local), where sizes come from the files).'

    type: str
  allow_patterns:
    description: Only files matching one of these globs (fnmatch; C(dir/) means everything below C(dir)).
    type: list
    elements: str
  ignore_patterns:
    description: Skip files matching one of these globs.
    type: list
    elements: str
  parallel:
    description: Files transferred at the same time.
    type: int
    default: 4
  retries:
    description: Attempts per file after a network error (each resumes from the partial), with exponential backoff (1 s, 2 s, 4 s ... at most 30 s).
    type: int
    default: 5
  timeout:
    description: Socket timeout in seconds for every request.
    type: float
    default: 60
  proxy:
    description:
      - Proxy URL for HTTP and HTTPS, e.g. C(http://proxy.corp:3128). Without it E(HTTPS_PROXY),
        E(HTTP_PROXY) and E(NO_PROXY) apply.
    type: str
  ca_path:
    description: Extra CA certificates (PEM bundle file or hashed directory) trusted besides the system store, e.g. a TLS-intercepting proxy's CA.
    type: path
  validate_certs:
    description: Verify TLS certificates. Only for lab use; keep V(true) and use O(ca_path) instead.
    type: bool
    default: true
  status_file:
    description: Progress JSON path. Default C(<dest>/.onprem-fetch-status.json). Not written in check mode.
    type: path
  reserve_bytes:
    description: Free space to keep in O(dest) on top of what still has to be fetched.
    type: int
    default: 0
notes:
  - Two runs staging into the same O(dest) at once are refused (a lock file C(<dest>/.onprem-fetch.lock)).
  - The free-space check counts the bytes still to fetch, i.e. sizes minus what partials already hold.
  - Controller-side files are pushed by the role with M(ansible.builtin.copy), not by this module.
seealso:
  - name: huggingface_hub file download guide
    description: Revisions, patterns and mirrors (HF_ENDPOINT) as huggingface_hub understands them.
    link: https://huggingface.co/docs/huggingface_hub/guides/download
"""

EXAMPLES = r"""
- name: Stage a pinned revision from the Hub through the corporate proxy
  onprem.llm.model_fetch:
    repo_id: Qwen/Qwen2.5-7B-Instruct
    revision: a09a35458c702b33eeacc393d103063234e8bc28
    dest: /srv/models/qwen2.5-7b-instruct
    allow_patterns: ["*.json", "*.safetensors", "tokenizer*"]
    proxy: http://proxy.corp.example:3128
    ca_path: /usr/local/share/ca-certificates/corp-root.crt
    token: "{{ vault_hf_token }}"

- name: Stage from an internal Hub mirror, in the background, and watch progress
  onprem.llm.model_fetch:
    repo_id: meta-llama/Llama-3.1-70B-Instruct
    revision: main
    endpoint: https://hf-mirror.corp.example
    dest: /srv/models/llama-3.1-70b-instruct
    parallel: 8
  async: 86400
  poll: 0
  register: __fetch_job

- name: Read the progress file
  ansible.builtin.slurp:
    src: /srv/models/llama-3.1-70b-instruct/.onprem-fetch-status.json
  register: __fetch_status

- name: Stage from a static mirror (nginx) holding the files and manifest.json
  onprem.llm.model_fetch:
    source: http
    url: https://models.corp.example/qwen2.5-7b-instruct
    dest: /srv/models/qwen2.5-7b-instruct

- name: Stage from an NFS share
  onprem.llm.model_fetch:
    source: local
    path: /mnt/models/qwen2.5-7b-instruct
    dest: /srv/models/qwen2.5-7b-instruct
"""

RETURN = r"""
dest:
  description: The staging directory.
  returned: always
  type: str
revision:
  description: Commit sha the Hub revision resolved to; the manifest's C(revision) for other sources, else null.
  returned: always
  type: str
  sample: a09a35458c702b33eeacc393d103063234e8bc28
files:
  description:
    - One entry per listed file. C(action) is C(downloaded) (fetched from byte 0), C(resumed)
      (continued from a partial of an earlier run) or C(present) (already there and verified).
    - In check mode C(action) is what would happen, and C(sha256) is the expected one (null when unknown).
  returned: always
  type: list
  elements: dict
  sample:
    - {path: model-00001-of-00002.safetensors, size: 4943162336, sha256: "3a1b...", action: resumed}
    - {path: config.json, size: 663, sha256: "9c2d...", action: present}
bytes_downloaded:
  description: Bytes received in this run (check mode - bytes that would be received).
  returned: always
  type: int
bytes_resumed_from:
  description: Sum of the partial sizes that transfers resumed from (bytes not transferred again).
  returned: always
  type: int
bytes_total:
  description: Total size of the listed files.
  returned: always
  type: int
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.onprem.llm.plugins.module_utils.weights import download as dl
from ansible_collections.onprem.llm.plugins.module_utils.weights import fetch_plan as fp
from ansible_collections.onprem.llm.plugins.module_utils.weights import sources


def _have_huggingface_hub():
    try:
        import huggingface_hub  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        return False
    return True


def list_source(p, opener):
    """(revision, specs, transport) for the configured source."""
    allow, ignore = p["allow_patterns"], p["ignore_patterns"]
    if p["source"] == "hf":
        token = p["token"] or os.environ.get("HF_TOKEN") or None
        revision, specs = sources.hf_listing(
            p["repo_id"], revision=p["revision"], endpoint=p["endpoint"], token=token,
            repo_type=p["repo_type"], allow_patterns=allow, ignore_patterns=ignore, proxy=p["proxy"],
            ca_path=p["ca_path"], validate_certs=p["validate_certs"], timeout=p["timeout"])
        transport = dl.HttpTransport(opener, timeout=p["timeout"], headers=sources.hf_headers(token))
        return revision, specs, transport
    if p["source"] == "http":
        revision, specs = sources.http_listing(p["url"], p["manifest"], opener=opener, timeout=p["timeout"],
                                               allow_patterns=allow, ignore_patterns=ignore)
        return revision, specs, dl.HttpTransport(opener, timeout=p["timeout"])
    revision, specs, _manifest = sources.local_listing(p["path"], p["manifest"], allow, ignore)
    return revision, specs, dl.LocalTransport()


def check_mode_result(stager, specs):
    plan = stager.resolve_verify_items(stager.plan(specs))
    files = []
    for item in plan:
        spec = item["spec"]
        if item["state"] == "present":
            sha = (item.get("hashed") or {}).get("sha256") or stager.verified.get(spec["path"], {}).get("sha256")
            action = "present"
        else:
            sha = spec.get("sha256")
            action = "resumed" if item["offset"] else "downloaded"
        files.append({"path": spec["path"], "size": spec["size"], "sha256": sha, "action": action})
    return {
        "changed": any(f["action"] != "present" for f in files),
        "files": files,
        "bytes_downloaded": dl.bytes_needed(plan),
        "bytes_resumed_from": sum(i["offset"] for i in plan if i["state"] == "fetch"),
    }


# Long on purpose: a module's main: arguments, source, plan, transfer and result in order, each a call to
# module_utils.
def main():
    module = AnsibleModule(
        argument_spec=dict(
            source=dict(type="str", default="hf", choices=["hf", "http", "local"]),
            dest=dict(type="path", required=True),
            repo_id=dict(type="str"),
            repo_type=dict(type="str", default="model", choices=["model", "dataset"]),
            revision=dict(type="str", default="main"),
            endpoint=dict(type="str"),
            token=dict(type="str", no_log=True),
            url=dict(type="str"),
            path=dict(type="path"),
            manifest=dict(type="str"),
            allow_patterns=dict(type="list", elements="str"),
            ignore_patterns=dict(type="list", elements="str"),
            parallel=dict(type="int", default=4),
            retries=dict(type="int", default=5),
            timeout=dict(type="float", default=60.0),
            proxy=dict(type="str"),
            ca_path=dict(type="path"),
            validate_certs=dict(type="bool", default=True),
            status_file=dict(type="path"),
            reserve_bytes=dict(type="int", default=0),
        ),
        required_if=[
            ("source", "hf", ["repo_id"]),
            ("source", "http", ["url"]),
            ("source", "local", ["path"]),
        ],
        supports_check_mode=True,
    )
    p = module.params
    if p["parallel"] < 1:
        module.fail_json(msg="parallel must be at least 1, got %d" % p["parallel"])
    if p["source"] == "hf" and not _have_huggingface_hub():
        module.fail_json(msg=missing_required_lib("huggingface_hub", reason="to list a Hub repository (source=hf)"))
    dest = os.path.abspath(p["dest"])
    if p["source"] == "local" and os.path.abspath(p["path"]) == dest:
        module.fail_json(msg="source path and dest are the same directory: %s" % dest)
    result = {"changed": False, "dest": dest, "revision": None, "files": [], "bytes_downloaded": 0,
              "bytes_resumed_from": 0, "bytes_total": 0}
    try:
        opener = dl.build_opener(p["proxy"], p["ca_path"], p["validate_certs"])
        revision, specs, transport = list_source(p, opener)
        result["revision"] = revision
        result["bytes_total"] = sum(s["size"] for s in specs)
        status_file = p["status_file"] or os.path.join(dest, fp.STATUS_FILE)
        stager = dl.Stager(dest, transport, parallel=p["parallel"], retries=p["retries"],
                           status_file=status_file, revision=revision, reserve_bytes=p["reserve_bytes"])
        if module.check_mode:
            result.update(check_mode_result(stager, specs))
            module.exit_json(**result)
        files, warnings = stager.run(specs)
    except dl.FetchError as e:
        result["msg"] = str(e)
        module.fail_json(**result)
    except (OSError, ValueError) as e:
        result["msg"] = "staging into %s failed: %s" % (dest, e)
        module.fail_json(**result)
    for w in warnings:
        module.warn(w)
    totals = fp.summarise(files)
    result.update(totals)
    result["files"] = [{"path": f["path"], "size": f["size"], "sha256": f["sha256"], "action": f["action"]}
                       for f in files]
    module.exit_json(**result)


if __name__ == "__main__":
    main()

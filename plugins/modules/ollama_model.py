#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ollama_model
short_description: Make an Ollama model present or absent - pulled, imported offline, or copied from a store
version_added: "0.1.0"
description:
  - Manages one model of a running Ollama server through its HTTP API (Python standard library
    C(urllib) only).
  - O(source=pull) pulls from the registry the server is configured for (C(/api/pull), an NDJSON
    progress stream). Transient failures (connection lost, timeouts, 5xx) are retried with
    exponential backoff; the server keeps the layers it already has, so each retry resumes.
  - O(source=file) imports offline - a GGUF file or a safetensors model directory on the target is
    uploaded blob by blob (C(HEAD)/C(POST /api/blobs/sha256:<digest>), skipped when the server has
    the blob) and the model is created with C(POST /api/create) and C(files), plus O(template),
    O(system) and O(parameters), the equivalent of a Modelfile.
  - O(source=store) copies one model's manifest and blobs from a copied model store (a directory
    holding C(blobs/) and C(manifests/), the layout of C(OLLAMA_MODELS)) into O(models_dir), checking
    every blob's sha256 on the way, then confirms the server lists it.
  - Idempotent - a listed model is left alone (pulled models unless O(force)); an imported GGUF
    model is re-created only when its weights digest, template, system prompt or parameters
    (read back from C(/api/show)) differ from the request.
  - Errors from the server (unknown model, disk full, digest mismatch ...) are reported verbatim
    in the failure message (C(msg)), followed by a short hint.
author:
  - onprem.llm contributors (@onprem-llm)
requirements:
  - Python 3.9 or newer on the target.
  - A running Ollama server reachable at O(host) from the target.
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details: Reads the server's model list (and C(/api/show), file digests, or the source store) and
      reports what would change, without pulling, uploading, creating, copying or deleting.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
options:
  name:
    description:
      - Model name, C([host/][namespace/]model[:tag]); the tag defaults to C(latest), as with the
        C(ollama) CLI.
    type: str
    required: true
  state:
    description: Whether the model should exist on the server.
    type: str
    choices: [present, absent]
    default: present
  source:
    description:
      - Where a missing model comes from (O(state=present) only).
      - V(pull) - the server pulls it from its registry (C(registry.ollama.ai) or the host part of O(name)).
      - V(file) - offline import of O(path), a GGUF file or a safetensors model directory.
      - V(store) - copy from a model store at O(path) into O(models_dir).
    type: str
    choices: [pull, file, store]
    default: pull
  path:
    description:
      - O(source=file) - GGUF file or safetensors directory (C(*.safetensors), C(config.json),
        tokenizer files) on the target.
      - O(source=store) - root of a copied model store (the directory holding C(blobs/) and C(manifests/)).
    type: path
  models_dir:
    description:
      - The server's model store (its C(OLLAMA_MODELS)); required for O(source=store). New files and
        directories get the owner and group of this directory.
    type: path
  template:
    description: Prompt template (Go template syntax) for O(source=file); unset keeps what the file carries.
    type: str
  system:
    description: System prompt for O(source=file).
    type: str
  parameters:
    description:
      - "Model parameters for O(source=file), for example C({num_ctx: 8192, temperature: 0.2, stop: [<|im_end|>]});
        a list value gives the parameter several times."
    type: dict
  quantize:
    description: Quantization the server applies while importing F16/F32 weights (O(source=file)), e.g. V(q4_K_M).
    type: str
  force:
    description:
      - O(source=pull) - pull again even when listed (picks up a moved tag; reports a change only if the digest changed).
      - O(source=file) - create again even when nothing differs.
      - O(source=store) - copy every blob again.
    type: bool
    default: false
  insecure:
    description: Allow the server to pull from a registry over plain HTTP or with an unverified certificate.
    type: bool
    default: false
  host:
    description:
      - Ollama server URL, or an C(OLLAMA_HOST)-style C(host:port). C(0.0.0.0) is contacted as C(127.0.0.1).
    type: str
    default: http://127.0.0.1:11434
  timeout:
    description:
      - Socket timeout in seconds for each request and for each read of a progress stream (not the
        duration of a whole pull).
    type: float
    default: 300
  retries:
    description: Retries after a transient error, with backoff 1 s, 2 s, 4 s ... (at most 30 s).
    type: int
    default: 5
  use_proxy:
    description: Reach O(host) through C(HTTP_PROXY)/C(HTTPS_PROXY) from the environment (off - the server is usually local).
    type: bool
    default: false
notes:
  - The server's own proxy (C(HTTPS_PROXY) in its environment, set by the C(onprem.llm.ollama) role)
    is what pulls use; O(use_proxy) only concerns the connection from this module to the server.
  - Imports hash the source file(s) on every run (read only) to compare digests; budget a few
    seconds per GB.
  - The Ollama API has no authentication. Keep it on loopback or behind an authenticating proxy.
seealso:
  - name: Ollama API reference
    description: The endpoints this module uses.
    link: https://github.com/ollama/ollama/blob/main/docs/api.md
  - name: Importing a model
    description: GGUF and safetensors import, what a Modelfile may set.
    link: https://github.com/ollama/ollama/blob/main/docs/import.md
"""

EXAMPLES = r"""
- name: Pull a model from the registry (or the mirror the server uses)
  onprem.llm.ollama_model:
    name: qwen2.5:7b-instruct

- name: Import a GGUF file offline, with a chat template and parameters
  onprem.llm.ollama_model:
    name: acme/qwen2.5-7b:q4_K_M
    source: file
    path: /srv/models/qwen2.5-7b-instruct-q4_k_m.gguf
    template: |
      {{ if .System }}<|im_start|>system
      {{ .System }}<|im_end|>
      {{ end }}<|im_start|>user
      {{ .Prompt }}<|im_end|>
      <|im_start|>assistant
    system: You are a concise assistant.
    parameters:
      num_ctx: 8192
      stop: ["<|im_end|>"]

- name: Import a safetensors directory and quantize it on the way
  onprem.llm.ollama_model:
    name: acme/mistral-7b:q4
    source: file
    path: /srv/models/Mistral-7B-Instruct-v0.3
    quantize: q4_K_M

- name: Copy a model from a store that was carried in on a disk
  onprem.llm.ollama_model:
    name: llama3.1:8b
    source: store
    path: /mnt/usb/ollama-models
    models_dir: /srv/ollama/models

- name: Remove a model
  onprem.llm.ollama_model:
    name: llama2:latest
    state: absent
"""

RETURN = r"""
name:
  description: The model as the server lists it (short form, tag included).
  returned: always
  type: str
  sample: qwen2.5:7b-instruct
action:
  description: What was done (or, in check mode, would be) - V(pulled), V(created), V(copied), V(deleted) or V(none).
  returned: always
  type: str
  sample: pulled
digest:
  description: Manifest digest the server lists for the model (as C(/api/tags) reports it, hex); null when absent.
  returned: always
  type: str
  sample: 845dbda0ea48ed749caafd9e6037047aa19acfcfd82e704d7ca97d631a0b697e
size:
  description: Model size in bytes as the server lists it; null when absent.
  returned: always
  type: int
  sample: 4683087332
modified_at:
  description: Server's modification time of the model; null when absent.
  returned: always
  type: str
server_version:
  description: Version the server reports at C(/api/version).
  returned: always
  type: str
  sample: 0.20.0
progress:
  description: Summary of the pull or create stream - statuses in order, layers with total/completed bytes.
  returned: when a pull or create ran
  type: dict
  contains:
    statuses:
      description: Distinct status lines in order (C(pulling manifest), C(pulling <digest>), C(success) ...).
      type: list
      elements: str
    bytes_total:
      description: Sum of layer sizes.
      type: int
    bytes_completed:
      description: Sum of bytes the server reported complete.
      type: int
uploaded:
  description: Blobs uploaded (O(source=file)) or copied (O(source=store)) - C(name)/C(digest)/C(size); present ones are not listed.
  returned: when O(source) is V(file) or V(store)
  type: list
  elements: dict
differences:
  description: Why an existing imported model was re-created (or would be).
  returned: when O(source=file)
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.llm.plugins.module_utils.ollama import OllamaError
from ansible_collections.onprem.llm.plugins.module_utils.ollama import create as cr
from ansible_collections.onprem.llm.plugins.module_utils.ollama import digest as dg
from ansible_collections.onprem.llm.plugins.module_utils.ollama import store as st
from ansible_collections.onprem.llm.plugins.module_utils.ollama.client import OllamaClient
from ansible_collections.onprem.llm.plugins.module_utils.ollama.errors import classify, describe
from ansible_collections.onprem.llm.plugins.module_utils.ollama.names import find_listed, parse_name


def _listing(entry):
    if not entry:
        return {"digest": None, "size": None, "modified_at": None}
    return {"digest": entry.get("digest"), "size": entry.get("size"), "modified_at": entry.get("modified_at")}


def _fail(module, exc, **result):
    message = str(exc)
    kind, _transient, hint = classify(message, getattr(exc, "status", None))
    kind = getattr(exc, "kind", None) or kind
    module.fail_json(msg=describe(message, kind, hint), error=message, error_kind=kind, **result)


def run(module, client):
    p = module.params
    name = parse_name(p["name"])
    short = str(name)
    result = {"changed": False, "name": short, "action": "none"}
    result["server_version"] = client.version()
    entry = find_listed(client.tags(), name)

    if p["state"] == "absent":
        result.update(_listing(entry))
        if entry:
            result.update(changed=True, action="deleted")
            if not module.check_mode:
                client.delete(entry.get("model") or entry.get("name") or short)
            result.update(digest=None, size=None, modified_at=None)
        return result

    source = p["source"]
    if source == "pull":
        if entry and not p["force"]:
            result.update(_listing(entry))
            return result
        result["action"] = "pulled"
        if module.check_mode:
            result.update(_listing(entry), changed=not entry)
            return result
        progress = client.pull(short, insecure=p["insecure"])
        after = find_listed(client.tags(), name)
        result.update(_listing(after), progress=progress.as_dict())
        result["changed"] = not entry or _listing(entry)["digest"] != _listing(after)["digest"]
        if not result["changed"]:
            result["action"] = "none"
        return result

    if source == "file":
        return _import_file(module, client, name, entry, result)
    return _import_store(module, client, name, entry, result)


def _import_file(module, client, name, entry, result):
    p = module.params
    short = str(name)
    try:
        files = cr.source_files(p["path"])
    except ValueError as exc:
        module.fail_json(msg="path: %s" % exc, **result)
    digests = [(fname, dg.sha256_file(full), full) for fname, full in files]
    is_gguf = len(digests) == 1 and not os.path.isdir(p["path"])
    expected = digests[0][1][0] if is_gguf else None
    diffs = []
    if entry:
        show = client.show(short) or {}
        diffs = cr.differences(show, expected, p["template"], p["system"], p["parameters"])
        if not diffs and not p["force"]:
            result.update(_listing(entry), differences=[], uploaded=[])
            return result
    result.update(action="created", changed=True, differences=diffs if entry else ["model is not listed"])
    uploaded = []
    for fname, (digest, size), full in digests:
        if not client.blob_exists(digest):
            uploaded.append({"name": fname, "digest": digest, "size": size})
            if not module.check_mode:
                client.push_blob(digest, full)
    result["uploaded"] = uploaded
    if module.check_mode:
        result.update(_listing(entry))
        return result
    body = cr.build_create_request(short, [(fname, d[0]) for fname, d, _full in digests],
                                   p["template"], p["system"], p["parameters"], p["quantize"])
    progress = client.create(body)
    result.update(_listing(find_listed(client.tags(), name)), progress=progress.as_dict())
    return result


def _import_store(module, client, name, entry, result):
    p = module.params
    plan = st.plan_store_import(p["path"], p["models_dir"], name)
    todo = [b for b in plan["blobs"] if p["force"] or not b["present"]]
    result["uploaded"] = [{"name": os.path.basename(b["dest"]), "digest": b["digest"], "size": b["size"]} for b in todo]
    if plan["manifest_same"] and not todo and entry:
        result.update(_listing(entry))
        return result
    result.update(changed=True, action="copied")
    if module.check_mode:
        result.update(_listing(entry))
        return result
    info = os.stat(p["models_dir"])
    uid, gid = info.st_uid, info.st_gid
    st.copy_manifest_dirs(plan, p["models_dir"], uid, gid)
    for blob in todo:
        st.copy_blob(blob, uid, gid)
    st.write_manifest(plan, uid, gid)
    after = find_listed(client.tags(), name)
    if not after:
        raise OllamaError("copied %s into %s but the server at %s does not list it; is models_dir the server's OLLAMA_MODELS?"
                          % (short_name(name), p["models_dir"], client.url), kind="server")
    result.update(_listing(after))
    return result


def short_name(name):
    return str(name)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            source=dict(type="str", choices=["pull", "file", "store"], default="pull"),
            path=dict(type="path"),
            models_dir=dict(type="path"),
            template=dict(type="str"),
            system=dict(type="str"),
            parameters=dict(type="dict"),
            quantize=dict(type="str"),
            force=dict(type="bool", default=False),
            insecure=dict(type="bool", default=False),
            host=dict(type="str", default="http://127.0.0.1:11434"),
            timeout=dict(type="float", default=300.0),
            retries=dict(type="int", default=5),
            use_proxy=dict(type="bool", default=False),
        ),
        required_if=[
            ("source", "file", ["path"]),
            ("source", "store", ["path", "models_dir"]),
        ],
        supports_check_mode=True,
    )
    try:
        parse_name(module.params["name"])
    except ValueError as exc:
        module.fail_json(msg="name: %s" % exc)
    if module.params["retries"] < 0:
        module.fail_json(msg="retries must not be negative")
    if module.params["source"] == "store" and not os.path.isdir(module.params["models_dir"]):
        module.fail_json(msg="models_dir: %s is not a directory" % module.params["models_dir"])
    client = OllamaClient(module.params["host"], timeout=module.params["timeout"],
                          use_proxy=module.params["use_proxy"], retries=module.params["retries"])
    try:
        result = run(module, client)
    except OllamaError as exc:
        _fail(module, exc, name=module.params["name"], changed=False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side fixtures of the ollama scenario (run by prepare.yml with the venv's python):

OUT/registry/   a store-shaped "registry" the ollama double pulls from (OLLAMA_DOUBLE_REGISTRY):
                model tinyllama-double:latest = a real GGUF (written with the gguf package) + template
OUT/import/tiny-import.gguf   a real GGUF for the offline import (source: file)

Deterministic: the same bytes every run, so copying to the node is idempotent.
"""

import hashlib
import json
import os
import sys

import gguf
import numpy as np


def write_gguf(path, name, rows):
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name(name)
    writer.add_block_count(1)
    writer.add_context_length(256)
    writer.add_embedding_length(16)
    writer.add_head_count(2)
    writer.add_file_type(1)
    writer.add_tensor("token_embd.weight", (np.arange(rows * 16, dtype=np.float32) % 7).astype(np.float16).reshape(rows, 16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def put(blobs, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest.replace(":", "-")), "wb") as fh:
        fh.write(data)
    return digest, len(data)


def main(out):
    blobs = os.path.join(out, "registry", "blobs")
    os.makedirs(blobs, exist_ok=True)
    os.makedirs(os.path.join(out, "import"), exist_ok=True)
    model = os.path.join(out, "registry-model.gguf")
    write_gguf(model, "tinyllama-double", 4096)
    with open(model, "rb") as fh:
        m_digest, m_size = put(blobs, fh.read())
    os.unlink(model)
    t_digest, t_size = put(blobs, b"{{ .System }}\n{{ .Prompt }}")
    config = json.dumps({"model_format": "gguf", "model_family": "llama", "model_type": "1M", "file_type": "F16",
                         "rootfs": {"type": "layers", "diff_ids": [m_digest, t_digest]}}, sort_keys=True).encode()
    c_digest, c_size = put(blobs, config)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": c_digest, "size": c_size},
                "layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": m_digest, "size": m_size},
                           {"mediaType": "application/vnd.ollama.image.template", "digest": t_digest, "size": t_size}]}
    mdir = os.path.join(out, "registry", "manifests", "registry.ollama.ai", "library", "tinyllama-double")
    os.makedirs(mdir, exist_ok=True)
    with open(os.path.join(mdir, "latest"), "w") as fh:
        json.dump(manifest, fh)
    write_gguf(os.path.join(out, "import", "tiny-import.gguf"), "tiny-import", 512)
    print(json.dumps({"registry_model_digest": m_digest}))


if __name__ == "__main__":
    main(sys.argv[1])

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline import: which files to upload, the ``/api/create`` body, and whether an existing model
already is what is asked for (read back from ``/api/show``).

``/api/create`` takes ``{"model", "files": {name: "sha256:..."}, "template", "system",
"parameters", "stream"}`` - the JSON equivalent of a Modelfile with ``FROM ./file.gguf`` - after
every file was uploaded with ``POST /api/blobs/sha256:<hex>``.
"""

from __future__ import annotations

import os
import re

# Files of a safetensors model directory that Ollama's converter reads.
SAFETENSORS_PATTERNS = (
    re.compile(r".*\.safetensors$"),
    re.compile(r"^(config|generation_config|tokenizer|tokenizer_config|special_tokens_map|added_tokens)\.json$"),
    re.compile(r"^tokenizer\.model$"),
    re.compile(r"^vocab\.json$"),
    re.compile(r"^merges\.txt$"),
    re.compile(r"^model\.safetensors\.index\.json$"),
)


def source_files(path):
    """``[(name, absolute path)]`` to upload for a GGUF file or a safetensors directory.

    Raises ValueError with a message naming the path when there is nothing usable.
    """
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            magic = handle.read(4)
        if magic != b"GGUF":
            raise ValueError("%s is not a GGUF file (magic %r, expected b'GGUF')" % (path, magic))
        return [(os.path.basename(path), path)]
    if os.path.isdir(path):
        files = []
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if os.path.isfile(full) and any(p.match(name) for p in SAFETENSORS_PATTERNS):
                files.append((name, full))
        if not any(name.endswith(".safetensors") for name, _full in files):
            raise ValueError("%s has no *.safetensors file" % path)
        if not any(name == "config.json" for name, _full in files):
            raise ValueError("%s has no config.json" % path)
        return files
    raise ValueError("%s does not exist on the target" % path)


def build_create_request(model, files, template=None, system=None, parameters=None, quantize=None, stream=True):
    """Body of ``POST /api/create`` (newer servers' ``model`` key; the files map name -> digest)."""
    body = {"model": model, "files": dict(files), "stream": bool(stream)}
    if template is not None:
        body["template"] = template
    if system is not None:
        body["system"] = system
    if parameters:
        body["parameters"] = dict(parameters)
    if quantize:
        body["quantize"] = quantize
    return body


def _unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def parse_parameters(text):
    """``/api/show``'s ``parameters`` text (``name   value`` lines) -> {name: [values]}."""
    result = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        parts = line.split(None, 1)
        name = parts[0]
        value = _unquote(parts[1]) if len(parts) > 1 else ""
        result.setdefault(name, []).append(value)
    return result


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def normalize_parameters(parameters):
    """User parameters ``{name: value or [values]}`` -> {name: [str]} as show reports them."""
    result = {}
    for name, value in (parameters or {}).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        result[name] = [_as_text(v) for v in values]
    return result


_FROM = re.compile(r"^FROM\s+(\S+)", re.MULTILINE)
_BLOB = re.compile(r"sha256[-:]([0-9a-f]{64})")


def model_digests_from_show(show):
    """The blob digests a model was built FROM, read from ``/api/show``'s ``modelfile``."""
    digests = []
    for target in _FROM.findall((show or {}).get("modelfile") or ""):
        match = _BLOB.search(target)
        if match:
            digests.append("sha256:" + match.group(1))
    return digests


def _params_equal(wanted, current):
    for name, values in wanted.items():
        have = current.get(name, [])
        try:
            if [float(v) for v in values] == [float(v) for v in have]:
                continue
        except ValueError:
            pass
        if values != have:
            return False
    return True


def differences(show, expected_digest=None, template=None, system=None, parameters=None):
    """What differs between an existing model (``/api/show``) and the request, as sentences.

    Only what the request states is compared: ``template=None`` leaves the template alone.
    ``expected_digest`` is the GGUF's digest (safetensors imports are converted server-side, so
    their resulting digest cannot be predicted and ``None`` is passed).
    """
    found = []
    if expected_digest is not None:
        have = model_digests_from_show(show)
        if expected_digest not in have:
            found.append("model weights %s, wanted %s" % (", ".join(have) or "unknown", expected_digest))
    if template is not None and (show.get("template") or "") != template:
        found.append("template differs")
    if system is not None and (show.get("system") or "") != system:
        found.append("system prompt differs")
    if parameters:
        wanted = normalize_parameters(parameters)
        current = parse_parameters(show.get("parameters"))
        if not _params_equal(wanted, current):
            found.append("parameters differ (have %s)" % (current or "none"))
    return found

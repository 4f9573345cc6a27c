# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and check a safetensors file header without the ``safetensors`` package.

Layout: u64 little-endian header length N, N bytes of UTF-8 JSON
``{"__metadata__": {str: str}, "<tensor>": {"dtype", "shape", "data_offsets": [begin, end]}}``,
then the data section. Offsets are relative to the data section; the reference implementation
requires the tensors, sorted by offset, to tile the data section exactly (no gap, no overlap, no
trailing bytes) and ``elements * dtype bits / 8 == end - begin``. Only the header is read.
"""

from __future__ import annotations

import json
import os
import struct

from ansible_collections.onprem.llm.plugins.module_utils.weights import WeightsError

# The reference implementation refuses headers above 100 MB (safetensors MAX_HEADER_SIZE).
MAX_HEADER_SIZE = 100000000

# dtype -> bits per element, as in the safetensors Dtype enum (0.8).
DTYPE_BITS = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}


def _fail(path, message):
    raise WeightsError("%s: %s" % (path, message))


def _is_uint(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_header(path):
    """Read and check the header of the safetensors file at ``path``.

    Returns ``{"path", "file_size", "header_size", "metadata": dict, "tensors": {name: {"dtype",
    "shape", "data_offsets", "elements"}}, "parameter_count": int, "dtype_elements": {dtype: int},
    "data_bytes": int}``. Raises WeightsError naming ``path`` for: a file shorter than its header,
    an oversized or non-JSON header, a malformed tensor entry, an unknown dtype, a byte range that
    does not match dtype and shape, offsets past the end of the file (truncation), and gaps,
    overlaps or trailing bytes in the data section.
    """
    try:
        file_size = os.path.getsize(path)
        with open(path, "rb") as f:
            prefix = f.read(8)
            if len(prefix) < 8:
                _fail(path, "truncated: %d bytes, too short for the 8-byte safetensors header length" % len(prefix))
            (n,) = struct.unpack("<Q", prefix)
            if n > MAX_HEADER_SIZE:
                _fail(path, "corrupt header: header length %d exceeds the %d-byte limit (not a safetensors file?)"
                      % (n, MAX_HEADER_SIZE))
            if 8 + n > file_size:
                _fail(path, "truncated: header length is %d bytes but the file is only %d bytes" % (n, file_size))
            raw = f.read(n)
    except (IOError, OSError) as exc:
        raise WeightsError("%s: cannot be read: %s" % (path, exc.strerror or exc))
    if len(raw) != n:
        _fail(path, "truncated while reading the %d-byte header" % n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        _fail(path, "corrupt header: not UTF-8 (%s)" % exc)
    except ValueError as exc:
        _fail(path, "corrupt header: not valid JSON (%s)" % exc)
    if not isinstance(header, dict):
        _fail(path, "corrupt header: JSON is a %s, expected an object" % type(header).__name__)
    return check_header(path, header, file_size, 8 + n)


# Long on purpose: one pass over a header's tensors, which must tile the data section; the checks share the running
# offset.
def check_header(path, header, file_size, data_start):
    """Check a parsed header against the file size; return the dict described in read_header."""
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        _fail(path, "corrupt header: __metadata__ is not an object")
    data_len = file_size - data_start
    tensors = {}
    dtype_elements = {}
    total = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict):
            _fail(path, "corrupt header: tensor %r is not an object" % name)
        dtype = info.get("dtype")
        shape = info.get("shape")
        offsets = info.get("data_offsets")
        if dtype not in DTYPE_BITS:
            _fail(path, "tensor %r has unknown dtype %r" % (name, dtype))
        if not isinstance(shape, list) or not all(_is_uint(d) for d in shape):
            _fail(path, "tensor %r has an invalid shape %r" % (name, shape))
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_uint(o) for o in offsets)):
            _fail(path, "tensor %r has invalid data_offsets %r" % (name, offsets))
        begin, end = offsets
        if begin > end:
            _fail(path, "tensor %r has data_offsets [%d, %d] with begin after end" % (name, begin, end))
        if end > data_len:
            _fail(path, "truncated: tensor %r data_offsets [%d, %d] end beyond the %d-byte data section "
                  "(file is %d bytes, needs at least %d)" % (name, begin, end, data_len, file_size, data_start + end))
        elements = 1
        for d in shape:
            elements *= d
        bits = elements * DTYPE_BITS[dtype]
        if bits % 8 or bits // 8 != end - begin:
            _fail(path, "tensor %r: %s %s needs %s bytes but data_offsets [%d, %d] span %d"
                  % (name, dtype, shape, (bits / 8.0) if bits % 8 else bits // 8, begin, end, end - begin))
        tensors[name] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, end], "elements": elements}
        dtype_elements[dtype] = dtype_elements.get(dtype, 0) + elements
        total += elements
    # The tensors, ordered by offset, must tile the data section exactly.
    expected = 0
    previous = None
    for name, info in sorted(tensors.items(), key=lambda kv: (kv[1]["data_offsets"][0], kv[1]["data_offsets"][1], kv[0])):
        begin, end = info["data_offsets"]
        if begin < expected:
            _fail(path, "corrupt header: tensor %r data_offsets [%d, %d] overlap tensor %r ending at %d"
                  % (name, begin, end, previous, expected))
        if begin > expected:
            _fail(path, "corrupt header: %d-byte gap before tensor %r (data_offsets [%d, %d], previous data ends at %d)"
                  % (begin - expected, name, begin, end, expected))
        expected = end
        previous = name
    if expected != data_len:
        _fail(path, "corrupt file: %d bytes after the last tensor (tensor data ends at %d, data section is %d bytes)"
              % (data_len - expected, expected, data_len))
    return {
        "path": path,
        "file_size": file_size,
        "header_size": data_start,
        "metadata": metadata,
        "tensors": tensors,
        "parameter_count": total,
        "dtype_elements": dtype_elements,
        "data_bytes": data_len,
    }


def dominant_dtype(dtype_elements):
    """The dtype holding the most elements (ties: alphabetical), or None for no tensors."""
    if not dtype_elements:
        return None
    return sorted(dtype_elements.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def read_index(path):
    """Read ``model.safetensors.index.json``; return ``{"metadata": dict, "weight_map": {tensor: shard}}``.

    Raises WeightsError naming ``path`` when it is not JSON, has no ``weight_map`` object, or a
    shard name is not a plain relative path.
    """
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
    except (IOError, OSError) as exc:
        raise WeightsError("%s: cannot be read: %s" % (path, exc.strerror or exc))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WeightsError("%s: not valid JSON (%s)" % (path, exc))
    if not isinstance(data, dict) or not isinstance(data.get("weight_map"), dict):
        raise WeightsError("%s: no \"weight_map\" object" % path)
    weight_map = data["weight_map"]
    for tensor, shard in weight_map.items():
        if not isinstance(shard, str) or not shard or shard.startswith("/") or ".." in shard.replace("\\", "/").split("/"):
            raise WeightsError("%s: tensor %r maps to an invalid shard name %r" % (path, tensor, shard))
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    return {"metadata": metadata, "weight_map": weight_map}

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and check a GGUF file header without the ``gguf`` package.

Layout (GGUF v2/v3, ggml docs/gguf.md): magic ``GGUF``, u32 version, u64 tensor_count,
u64 metadata_kv_count, the KV pairs (string key, u32 value type, value), the tensor infos
(string name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset), padding to
``general.alignment`` (default 32), then the tensor data. Strings are u64 length + UTF-8 bytes;
arrays are u32 element type + u64 count + elements. Big-endian files (the same layout byte-swapped)
are read too; version 1 (u32 counts) is refused as llama.cpp does.

Large metadata arrays (tokenizer vocabularies, 150k strings) are skipped, not materialised: the
value is then ``{"type": "array", "element_type": "string", "length": n}``. Only the header is read,
through a chunked buffer; the tensor data is never touched, but its extent is computed from the
tensor infos and compared with the file size.
"""

from __future__ import annotations

import os
import struct

from ansible_collections.onprem.llm.plugins.module_utils.weights import WeightsError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
GGML_MAX_DIMS = 4
CHUNK = 1024 * 1024

# GGUF metadata value types: id -> (name, struct code or None)
VALUE_TYPES = {
    0: ("uint8", "B"),
    1: ("int8", "b"),
    2: ("uint16", "H"),
    3: ("int16", "h"),
    4: ("uint32", "I"),
    5: ("int32", "i"),
    6: ("float32", "f"),
    7: ("bool", "?"),
    8: ("string", None),
    9: ("array", None),
    10: ("uint64", "Q"),
    11: ("int64", "q"),
    12: ("float64", "d"),
}
STRING = 8
ARRAY = 9

# ggml tensor types: id -> (name, elements per block, bytes per block). From ggml.h / ggml.c
# type_traits, checked against gguf-py 0.19 gguf.constants.GGML_QUANT_SIZES by the unit tests.
# Ids 4, 5 (Q4_2, Q4_3) and 31-33, 36-38 were removed or never shipped in files.
GGML_TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}

# general.file_type (llama_ftype, gguf-py LlamaFileType) -> name. 4 and 5 (Q4_1_SOME_F16, Q4_2)
# and 6 (Q4_3) are obsolete; 1024 is "guessed" (the converter could not tell).
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
    1024: "GUESSED",
}

# Arrays up to this many elements are returned as lists; longer ones are skipped.
DEFAULT_MAX_ARRAY = 64


def file_type_name(value):
    """Name of a ``general.file_type`` value, e.g. 15 -> "Q4_K_M"; unknown -> "unknown(<n>)"."""
    if isinstance(value, int) and value in FILE_TYPES:
        return FILE_TYPES[value]
    return "unknown(%s)" % (value,)


def tensor_nbytes(ggml_type, shape):
    """Bytes of a tensor of ``ggml_type`` (id) and ``shape`` (ggml order, ne[0] first).

    Raises ValueError for an unknown type or a row length that is not a whole number of blocks.
    """
    if ggml_type not in GGML_TYPES:
        raise ValueError("unknown GGML type %d" % ggml_type)
    name, block, size = GGML_TYPES[ggml_type]
    elements = 1
    for d in shape:
        elements *= d
    if shape and shape[0] % block:
        raise ValueError("row length %d is not a multiple of the %s block size %d" % (shape[0], name, block))
    return elements // block * size


class _Reader(object):
    """Sequential reader over a file through a chunk buffer, with cheap skips."""

    def __init__(self, f, path, file_size, endian):
        self.f = f
        self.path = path
        self.file_size = file_size
        self.e = endian
        self.buf = b""
        self.pos = 0  # position in buf
        self.base = 0  # file offset of buf[0]
        self.what = "the header"
        self.q = struct.Struct(endian + "Q")
        self.i = struct.Struct(endian + "I")

    def tell(self):
        return self.base + self.pos

    def truncated(self, need):
        raise WeightsError("%s: truncated GGUF: needs %d bytes at offset %d for %s, but the file is %d bytes"
                           % (self.path, need, self.tell(), self.what, self.file_size))

    def _ensure(self, n):
        if self.pos + n <= len(self.buf):
            return
        if self.tell() + n > self.file_size:
            self.truncated(n)
        rest = self.buf[self.pos:]
        self.base += self.pos
        self.pos = 0
        self.f.seek(self.base + len(rest))
        more = self.f.read(max(n - len(rest), CHUNK))
        self.buf = rest + more
        if len(self.buf) < n:
            self.truncated(n)

    def read(self, n):
        self._ensure(n)
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, st):
        self._ensure(st.size)
        value = st.unpack_from(self.buf, self.pos)
        self.pos += st.size
        return value

    def u32(self):
        return self.unpack(self.i)[0]

    def u64(self):
        return self.unpack(self.q)[0]

    def skip(self, n):
        if self.pos + n <= len(self.buf):
            self.pos += n
            return
        target = self.tell() + n
        if target > self.file_size:
            self.truncated(n)
        self.buf = b""
        self.base = target
        self.pos = 0

    def string(self):
        n = self.u64()
        if self.tell() + n > self.file_size:
            self.truncated(n)
        raw = self.read(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "replace")

    def skip_strings(self, count):
        """Skip ``count`` length-prefixed strings without decoding them."""
        q = self.q
        unpack_from = q.unpack_from
        for dummy in range(count):
            if self.pos + 8 > len(self.buf):
                self._ensure(8)
            n = unpack_from(self.buf, self.pos)[0]
            self.pos += 8
            if self.pos + n <= len(self.buf):
                self.pos += n
            else:
                self.skip(n)


def _read_value(r, vtype, max_array):
    if vtype == STRING:
        return r.string()
    if vtype == ARRAY:
        etype = r.u32()
        count = r.u64()
        if etype not in VALUE_TYPES:
            raise WeightsError("%s: corrupt GGUF: %s has unknown array element type %d" % (r.path, r.what, etype))
        ename, code = VALUE_TYPES[etype]
        if etype == ARRAY:
            # nested arrays: always walk them, never materialise
            for dummy in range(count):
                _read_value(r, ARRAY, 0)
            return {"type": "array", "element_type": "array", "length": count}
        if etype == STRING:
            if count * 8 > r.file_size - r.tell():
                r.truncated(count * 8)
            if count <= max_array:
                return [r.string() for dummy in range(count)]
            r.skip_strings(count)
            return {"type": "array", "element_type": ename, "length": count}
        st = struct.Struct(r.e + code)
        nbytes = count * st.size
        if count <= max_array:
            if r.tell() + nbytes > r.file_size:
                r.truncated(nbytes)
            raw = r.read(nbytes)
            return list(struct.unpack(r.e + code * count, raw))
        r.skip(nbytes)
        return {"type": "array", "element_type": ename, "length": count}
    if vtype in VALUE_TYPES:
        return r.unpack(struct.Struct(r.e + VALUE_TYPES[vtype][1]))[0]
    raise WeightsError("%s: corrupt GGUF: %s has unknown value type %d" % (r.path, r.what, vtype))


# Long on purpose: reads the GGUF header in file order (magic, counts, key-values, tensor infos, alignment); each
# check needs the offset the previous one reached.
def read_gguf(path, max_array=DEFAULT_MAX_ARRAY):
    """Read and check the header of the GGUF file at ``path``.

    Returns ``{"path", "file_size", "version", "endian": "little"|"big", "metadata": {key: value},
    "alignment", "data_offset", "data_end", "tensors": [{"name", "shape", "type", "offset",
    "nbytes", "elements"}], "parameter_count", "type_elements": {ggml type name: elements}}``.
    ``data_end`` is the file offset where the last tensor's data ends; the file must reach it.
    Metadata arrays longer than ``max_array`` come back as ``{"type": "array", "element_type",
    "length"}``.

    Raises WeightsError naming ``path`` for: bad magic, unsupported version, truncated header,
    unknown value or tensor types, bad alignment, misplaced tensor offsets, and tensor data that
    runs past the end of the file.
    """
    try:
        file_size = os.path.getsize(path)
        f = open(path, "rb")
    except (IOError, OSError) as exc:
        raise WeightsError("%s: cannot be read: %s" % (path, exc.strerror or exc))
    with f:
        head = f.read(8)
        if len(head) < 4 or head[:4] != GGUF_MAGIC:
            raise WeightsError("%s: bad magic %r, expected %r: not a GGUF file" % (path, head[:4], GGUF_MAGIC))
        if len(head) < 8:
            raise WeightsError("%s: truncated GGUF: %d bytes, too short for the version field" % (path, len(head)))
        version = struct.unpack("<I", head[4:8])[0]
        endian = "<"
        if version not in SUPPORTED_VERSIONS:
            swapped = struct.unpack(">I", head[4:8])[0]
            if swapped in SUPPORTED_VERSIONS:
                version, endian = swapped, ">"
            elif version == 1 or swapped == 1:
                raise WeightsError("%s: unsupported GGUF version 1 (supported: 2, 3); re-convert the model" % path)
            else:
                raise WeightsError("%s: unsupported GGUF version %d (supported: %s)"
                                   % (path, version, ", ".join(str(v) for v in SUPPORTED_VERSIONS)))
        r = _Reader(f, path, file_size, endian)
        r.skip(8)
        r.what = "the tensor and metadata counts"
        tensor_count = r.u64()
        kv_count = r.u64()
        # each KV needs >= 8+4+1 bytes, each tensor info >= 8+4+4+8 bytes: reject absurd counts early
        if kv_count * 13 + tensor_count * 24 > file_size:
            raise WeightsError("%s: truncated or corrupt GGUF: %d metadata entries and %d tensors cannot fit in %d bytes"
                               % (path, kv_count, tensor_count, file_size))
        metadata = {}
        for i in range(kv_count):
            r.what = "metadata entry %d key" % i
            key = r.string()
            r.what = "metadata entry %d (%s)" % (i, key)
            vtype = r.u32()
            metadata[key] = _read_value(r, vtype, max_array)

        alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment <= 0 or alignment & (alignment - 1):
            raise WeightsError("%s: corrupt GGUF: general.alignment %r is not a power of two" % (path, alignment))

        tensors = []
        for i in range(tensor_count):
            r.what = "tensor info %d name" % i
            name = r.string()
            r.what = "tensor info %d (%s)" % (i, name)
            n_dims = r.u32()
            if n_dims > GGML_MAX_DIMS:
                raise WeightsError("%s: corrupt GGUF: tensor %r has %d dimensions (max %d)"
                                   % (path, name, n_dims, GGML_MAX_DIMS))
            shape = list(r.unpack(struct.Struct(endian + "Q" * n_dims))) if n_dims else []
            ggml_type = r.u32()
            offset = r.u64()
            try:
                nbytes = tensor_nbytes(ggml_type, shape)
            except ValueError as exc:
                raise WeightsError("%s: tensor %r: %s" % (path, name, exc))
            elements = 1
            for d in shape:
                elements *= d
            tensors.append({"name": name, "shape": shape, "type": GGML_TYPES[ggml_type][0],
                            "offset": offset, "nbytes": nbytes, "elements": elements})
        header_end = r.tell()

    data_offset = (header_end + alignment - 1) // alignment * alignment
    # llama.cpp (gguf_init_from_file) requires the tensors in file order, each at the running
    # offset padded to the alignment.
    expected = 0
    data_end = header_end  # a vocab-only file (no tensors) may end right after its header
    last = None
    type_elements = {}
    total = 0
    for t in tensors:
        if t["offset"] != expected:
            raise WeightsError("%s: corrupt GGUF: tensor %r at data offset %d, expected %d "
                               "(tensors are stored in order, each padded to %d bytes)"
                               % (path, t["name"], t["offset"], expected, alignment))
        end = data_offset + t["offset"] + t["nbytes"]
        if end > data_end:
            data_end, last = end, t["name"]
        expected += (t["nbytes"] + alignment - 1) // alignment * alignment
        total += t["elements"]
        type_elements[t["type"]] = type_elements.get(t["type"], 0) + t["elements"]
    if data_end > file_size:
        raise WeightsError("%s: truncated GGUF: tensor data must end at byte %d (tensor %r) but the file is %d bytes "
                           "(%d missing)" % (path, data_end, last, file_size, data_end - file_size))
    return {
        "path": path,
        "file_size": file_size,
        "version": version,
        "endian": "little" if endian == "<" else "big",
        "metadata": metadata,
        "alignment": alignment,
        "data_offset": data_offset,
        "data_end": data_end,
        "tensors": tensors,
        "parameter_count": total,
        "type_elements": type_elements,
    }


def dominant_type(type_elements):
    """The ggml type name holding the most elements, or None."""
    if not type_elements:
        return None
    return sorted(type_elements.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def quantization(info):
    """``general.file_type`` as a name (e.g. "Q4_K_M"); without it, the dominant tensor type."""
    ft = info["metadata"].get("general.file_type")
    if ft is not None:
        return file_type_name(ft)
    return dominant_type(info["type_elements"])


def array_length(value):
    """Length of a metadata array whether it was materialised (list) or skipped (dict)."""
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict) and value.get("type") == "array":
        return value["length"]
    return None

"""safetensors header reader against files written by the safetensors library, and broken copies."""

import json
import os
import struct

import numpy as np
import pytest
import safetensors
from safetensors.numpy import load_file, save_file

import weights_factory as wf
from ansible_collections.onprem.llm.plugins.module_utils.weights import WeightsError
from ansible_collections.onprem.llm.plugins.module_utils.weights import safetensors_format as st


@pytest.fixture
def model_file(tmp_path):
    tensors = wf.llama_tensors(np.float16)
    path = str(tmp_path / "model.safetensors")
    save_file(tensors, path, metadata={"format": "pt"})
    return path, tensors


def _header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return n, json.loads(f.read(n))


def _last_tensor(path):
    _size, header = _header(path)
    name = max((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][1])
    return name, header[name]


def test_reads_library_file(model_file):
    path, tensors = model_file
    info = st.read_header(path)
    assert set(info["tensors"]) == set(tensors)
    assert info["parameter_count"] == wf.param_count(tensors) == 86336
    assert info["dtype_elements"] == {"F16": 86336}
    assert info["metadata"] == {"format": "pt"}
    assert info["file_size"] == os.path.getsize(path)
    assert info["data_bytes"] == sum(a.nbytes for a in tensors.values())
    q = info["tensors"]["model.layers.0.self_attn.k_proj.weight"]
    assert q["dtype"] == "F16" and q["shape"] == [32, 64] and q["elements"] == 2048
    # the library agrees with our offsets: the bytes we point at are the tensor
    begin, end = q["data_offsets"]
    with open(path, "rb") as f:
        f.seek(info["header_size"] + begin)
        raw = f.read(end - begin)
    assert raw == load_file(path)["model.layers.0.self_attn.k_proj.weight"].tobytes()


def test_mixed_dtypes_and_dominant(tmp_path):
    path = str(tmp_path / "m.safetensors")
    save_file({"a": np.zeros((4, 8), np.float32), "b": np.zeros((100,), np.int8), "c": np.zeros((3,), np.float64)}, path)
    info = st.read_header(path)
    assert info["dtype_elements"] == {"F32": 32, "I8": 100, "F64": 3}
    assert st.dominant_dtype(info["dtype_elements"]) == "I8"
    assert st.dominant_dtype({}) is None
    assert st.dominant_dtype({"BF16": 5, "F16": 5}) == "BF16"


def test_bf16_from_raw_serializer(tmp_path):
    path = str(tmp_path / "bf16.safetensors")
    wf.write_bf16_safetensors(path, {"w": [16, 8], "norm": [8]})
    info = st.read_header(path)
    assert info["dtype_elements"] == {"BF16": 136}
    assert st.dominant_dtype(info["dtype_elements"]) == "BF16"


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                                   "uint64", "float16", "float32", "float64", "bfloat16", "float8_e4m3fn",
                                   "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu",
                                   "float4_e2m1fn_x2", "complex64"])
def test_dtype_sizes_match_library(tmp_path, dtype):
    """Every dtype the library writes: our bits-per-element reproduce its byte ranges."""
    buf = np.zeros(1024, np.uint8)
    path = str(tmp_path / "t.safetensors")
    for nbytes in (1, 2, 4, 8, 16, 32, 64, 128):
        try:
            spec = safetensors.TensorSpec(dtype=dtype, shape=[4, 4], data_ptr=buf.ctypes.data, data_len=nbytes)
            safetensors.serialize_file({"t": spec}, path)
            break
        except Exception:  # noqa: BLE001 - probing for the length the library accepts
            continue
    else:
        pytest.fail("library refused every length for %s" % dtype)
    info = st.read_header(path)
    t = info["tensors"]["t"]
    assert t["dtype"] in st.DTYPE_BITS
    assert t["elements"] * st.DTYPE_BITS[t["dtype"]] // 8 == t["data_offsets"][1] - t["data_offsets"][0]


def test_truncated_data(model_file):
    path, _tensors = model_file
    size = os.path.getsize(path)
    n, _parsed = _header(path)
    name, info = _last_tensor(path)
    wf.truncate(path, 10)
    begin, end = info["data_offsets"]
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value) == (
        "%s: truncated: tensor %r data_offsets [%d, %d] end beyond the %d-byte data section "
        "(file is %d bytes, needs at least %d)" % (path, name, begin, end, size - 10 - 8 - n, size - 10, size))


def test_truncated_inside_header(model_file):
    path, _tensors = model_file
    n, _parsed = _header(path)
    wf.truncate(path, os.path.getsize(path) - 20)
    with pytest.raises(WeightsError, match=r"^%s: truncated: header length is %d bytes but the file is only 20 bytes$"
                       % (path, n)):
        st.read_header(path)


def test_shorter_than_length_prefix(tmp_path):
    path = str(tmp_path / "tiny.safetensors")
    with open(path, "wb") as f:
        f.write(b"\x01\x02\x03")
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value) == "%s: truncated: 3 bytes, too short for the 8-byte safetensors header length" % path


def test_absurd_header_length(model_file):
    path, _tensors = model_file
    wf.patch_bytes(path, 0, struct.pack("<Q", 2 ** 40))
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value) == ("%s: corrupt header: header length %d exceeds the 100000000-byte limit "
                              "(not a safetensors file?)" % (path, 2 ** 40))


def test_header_not_json(model_file):
    path, _tensors = model_file
    wf.patch_bytes(path, 8, b"X")
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value).startswith("%s: corrupt header: not valid JSON (Expecting value: line 1 column 1" % path)


def test_header_not_object(tmp_path):
    path = str(tmp_path / "list.safetensors")
    raw = b"[1, 2]  "
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value) == "%s: corrupt header: JSON is a list, expected an object" % path


def test_shape_does_not_match_byte_range(model_file):
    path, _tensors = model_file
    name = "model.layers.1.mlp.down_proj.weight"
    _size, header = _header(path)
    begin, end = header[name]["data_offsets"]
    wf.rewrite_safetensors_header(path, lambda h: h[name].update(shape=[65, 128]))
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value) == ("%s: tensor %r: F16 [65, 128] needs 16640 bytes but data_offsets [%d, %d] span %d"
                              % (path, name, begin, end, end - begin))


def test_unknown_dtype(model_file):
    path, _tensors = model_file
    wf.rewrite_safetensors_header(path, lambda h: h["model.norm.weight"].update(dtype="F17"))
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value) == "%s: tensor 'model.norm.weight' has unknown dtype 'F17'" % path


def test_bad_offsets_and_shape_values(model_file):
    path, _tensors = model_file
    wf.rewrite_safetensors_header(path, lambda h: h["model.norm.weight"].update(data_offsets=[10]))
    with pytest.raises(WeightsError, match=r"tensor 'model.norm.weight' has invalid data_offsets \[10\]$"):
        st.read_header(path)
    wf.rewrite_safetensors_header(path, lambda h: h["model.norm.weight"].update(data_offsets=[10, 5], shape=[-1]))
    with pytest.raises(WeightsError, match=r"tensor 'model.norm.weight' has an invalid shape \[-1\]$"):
        st.read_header(path)
    wf.rewrite_safetensors_header(path, lambda h: h["model.norm.weight"].update(shape=[64]))
    with pytest.raises(WeightsError, match=r"tensor 'model.norm.weight' has data_offsets \[10, 5\] with begin after end$"):
        st.read_header(path)


def test_overlapping_tensors(model_file):
    path, _tensors = model_file
    _size, header = _header(path)
    a, b = "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight"
    # both the same size: point b at a's bytes, leaving b's own range empty
    assert header[a]["shape"] == header[b]["shape"]
    wf.rewrite_safetensors_header(path, lambda h: h[b].update(data_offsets=list(h[a]["data_offsets"])))
    begin, end = header[a]["data_offsets"]
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value) == ("%s: corrupt header: tensor %r data_offsets [%d, %d] overlap tensor %r ending at %d"
                              % (path, b, begin, end, a, end))


def test_gap_when_a_tensor_is_dropped_from_the_header(model_file):
    path, _tensors = model_file
    _size, header = _header(path)
    ordered = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0])
    dropped, following = ordered[3], ordered[4]
    gap = header[dropped]["data_offsets"][1] - header[dropped]["data_offsets"][0]
    wf.rewrite_safetensors_header(path, lambda h: h.pop(dropped))
    begin, end = header[following]["data_offsets"]
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value) == ("%s: corrupt header: %d-byte gap before tensor %r (data_offsets [%d, %d], previous data "
                              "ends at %d)" % (path, gap, following, begin, end, header[dropped]["data_offsets"][0]))


def test_trailing_bytes(model_file):
    path, _tensors = model_file
    data = st.read_header(path)["data_bytes"]
    with open(path, "ab") as f:
        f.write(b"\0" * 16)
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value) == ("%s: corrupt file: 16 bytes after the last tensor (tensor data ends at %d, data section "
                              "is %d bytes)" % (path, data, data + 16))


def test_metadata_must_be_object(model_file):
    path, _tensors = model_file
    wf.rewrite_safetensors_header(path, lambda h: h.update(__metadata__=["x"]))
    with pytest.raises(WeightsError, match=r": corrupt header: __metadata__ is not an object$"):
        st.read_header(path)


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.safetensors")
    with pytest.raises(WeightsError) as err:
        st.read_header(path)
    assert str(err.value) == "%s: cannot be read: No such file or directory" % path


def test_read_index(tmp_path):
    d = str(tmp_path / "m")
    wf.make_safetensors_model(d, shards=2, tokenizer=False)
    index = st.read_index(os.path.join(d, "model.safetensors.index.json"))
    assert set(index["weight_map"].values()) == {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}
    assert index["metadata"]["total_size"] == 172672


@pytest.mark.parametrize("content,message", [
    ("{not json", "not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ('{"metadata": {}}', 'no "weight_map" object'),
    ('{"weight_map": {"a": "../x.safetensors"}}', "tensor 'a' maps to an invalid shard name '../x.safetensors'"),
    ('{"weight_map": {"a": 3}}', "tensor 'a' maps to an invalid shard name 3"),
])
def test_read_index_errors(tmp_path, content, message):
    path = str(tmp_path / "model.safetensors.index.json")
    with open(path, "w") as f:
        f.write(content)
    with pytest.raises(WeightsError) as err:
        st.read_index(path)
    assert str(err.value) == "%s: %s" % (path, message)

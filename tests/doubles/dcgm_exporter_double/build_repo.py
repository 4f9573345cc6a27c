#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builds a flat apt repository standing in for NVIDIA's CUDA repository's DCGM packages (which these
machines cannot reach): the doubles of ``datacenter-gpu-manager-4-core``,
``datacenter-gpu-manager-4-proprietary`` and ``datacenter-gpu-manager-exporter``.

Names, versions and the dependency are those of NVIDIA's packages (the exporter 4.8.2-1 depends on
``datacenter-gpu-manager-4-core (>= 1:4)``; DCGM 1:4.5.3-1 is the version NVIDIA pairs it with); the exporter's
files are laid out as NVIDIA/dcgm-exporter's packaging lays them out: ``/usr/bin/dcgm-exporter`` (here
dcgm_exporter_double.py), ``/etc/dcgm-exporter/default-counters.csv`` (the real file, from
tests/fixtures/dcgm-exporter) and the unit ``nvidia-dcgm-exporter.service`` running
``/usr/bin/dcgm-exporter -f /etc/dcgm-exporter/default-counters.csv`` as root. The DCGM doubles carry
only a note. A node uses it as ``deb [trusted=yes] file:<dir> ./``.

Usage: build_repo.py --out DIR   (re-creates DIR; prints the package file names)
"""

import argparse
import gzip
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
COUNTERS = HERE.parents[1] / "fixtures" / "dcgm-exporter" / "default-counters.csv"
DCGM_VERSION = "1:4.5.3-1"
EXPORTER_VERSION = "4.8.2-1"
MAINTAINER = "onprem.llm test double <noreply@example.invalid>"

UNIT = """[Unit]
Description=NVIDIA DCGM-exporter service (onprem.llm test double)
Wants=nvidia-dcgm.service
After=nvidia-dcgm.service

[Service]
User=root
PrivateTmp=false
ExecStart=/usr/bin/dcgm-exporter -f /etc/dcgm-exporter/default-counters.csv
Restart=on-abort

[Install]
WantedBy=multi-user.target
"""

PACKAGES = [
    {"Package": "datacenter-gpu-manager-4-core", "Version": DCGM_VERSION,
     "Description": "NVIDIA DCGM libraries (onprem.llm test double: carries no library)",
     "files": {}},
    {"Package": "datacenter-gpu-manager-4-proprietary", "Version": DCGM_VERSION,
     "Depends": "datacenter-gpu-manager-4-core (= %s)" % DCGM_VERSION,
     "Description": "NVIDIA DCGM proprietary modules (onprem.llm test double: carries no module)",
     "files": {}},
    {"Package": "datacenter-gpu-manager-exporter", "Version": EXPORTER_VERSION,
     "Depends": "datacenter-gpu-manager-4-core (>= 1:4), python3",
     "Description": "NVIDIA DCGM exporter for Prometheus (onprem.llm test double)",
     "files": {"usr/bin/dcgm-exporter": (HERE / "dcgm_exporter_double.py", 0o755),
               "etc/dcgm-exporter/default-counters.csv": (COUNTERS, 0o644),
               "lib/systemd/system/nvidia-dcgm-exporter.service": (UNIT, 0o644)}},
]


def build(package, out):
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        name = package["Package"]
        doc = root / "usr/share/doc" / name
        doc.mkdir(parents=True)
        (doc / "README.double").write_text("%s\n" % package["Description"])
        for path, (source, mode) in package["files"].items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, pathlib.Path):
                data = source.read_text()
                if path == "usr/bin/dcgm-exporter":
                    data = data.replace("#!/usr/bin/env python\n", "#!/usr/bin/python3\n", 1)
                target.write_text(data)
            else:
                target.write_text(source)
            target.chmod(mode)
        control = {"Package": name, "Version": package["Version"], "Architecture": "all",
                   "Maintainer": MAINTAINER, "Section": "utils", "Priority": "optional"}
        if package.get("Depends"):
            control["Depends"] = package["Depends"]
        control["Description"] = package["Description"]
        (root / "DEBIAN").mkdir()
        (root / "DEBIAN/control").write_text("".join("%s: %s\n" % item for item in control.items()))
        if "etc/dcgm-exporter/default-counters.csv" in package["files"]:
            (root / "DEBIAN/conffiles").write_text("/etc/dcgm-exporter/default-counters.csv\n")
        for directory, _subdirs, _files in os.walk(root):
            os.chmod(directory, 0o755)
        deb = out / ("%s_%s_all.deb" % (name, package["Version"].split(":")[-1]))
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb)],
                       check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, SOURCE_DATE_EPOCH="1767225600"))
        data = deb.read_bytes()
        entry = dict(control, Filename="./" + deb.name, Size=str(len(data)),
                     SHA256=hashlib.sha256(data).hexdigest())
        return deb.name, entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    stanzas = []
    for package in PACKAGES:
        name, entry = build(package, args.out)
        print(name)
        order = ["Package", "Version", "Architecture", "Maintainer", "Depends", "Section", "Priority",
                 "Filename", "Size", "SHA256", "Description"]
        stanzas.append("".join("%s: %s\n" % (key, entry[key]) for key in order if key in entry))
    index = "\n".join(stanzas).encode()
    (args.out / "Packages").write_bytes(index)
    with gzip.GzipFile(args.out / "Packages.gz", "wb", mtime=0) as handle:
        handle.write(index)


if __name__ == "__main__":
    main()

"""The Makefile's HOST_PACKAGES are Debian packages: `make unit` installs the missing ones from the
archive first (host-deps), so each must be installed here under that exact name."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def _host_packages():
    text = MAKEFILE.read_text()
    value = re.search(r"^HOST_PACKAGES := ((?:.*\\\n)*.*)$", text, re.MULTILINE).group(1)
    return value.replace("\\\n", " ").split()


def test_every_host_package_is_installed_under_its_name():
    names = _host_packages()
    assert {"podman", "debootstrap", "rpm", "chromium", "python3-apt"} <= set(names)
    out = subprocess.run(["dpkg-query", "--show", "--showformat=${db:Status-Abbrev}${Package}\n", "--", *names],
                         capture_output=True, text=True, check=False)
    # The state is the second letter of dpkg's abbreviation: "ii" installed, "hi" installed and held.
    installed = sorted(line[3:] for line in out.stdout.splitlines() if line[1:3] == "i ")
    assert installed == sorted(names), out.stdout + out.stderr

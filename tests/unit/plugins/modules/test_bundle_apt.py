# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.bundle_apt through main(), with this machine's real apt-get, dpkg-scanpackages and gpg.

The archive is a small Debian-layout repository built here (real .deb files from dpkg-deb, an
InRelease signed by a test key given as the module's keyring) and served over HTTP on loopback,
standing in for deb.debian.org. The module resolves the closure of what is asked (a package and its
dependency) through apt, downloads it checked against the archive's sha256, writes a flat signed
repository, and on a rerun downloads and re-signs nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import shutil
import subprocess
import threading
from email.utils import formatdate
from functools import partial

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import bundle_apt

DIST = "demo"


def _run(argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs).stdout


def _deb(pool, name, version, depends=None):
    tree = pool.parent / ("build-" + name)
    (tree / "DEBIAN").mkdir(parents=True)
    control = ["Package: %s" % name, "Version: %s" % version, "Architecture: all",
               "Maintainer: onprem.llm tests <tests@example.invalid>", "Description: test package %s" % name]
    if depends:
        control.append("Depends: %s" % depends)
    (tree / "DEBIAN" / "control").write_text("\n".join(control) + "\n")
    (tree / "usr" / "share" / "doc" / name).mkdir(parents=True)
    (tree / "usr" / "share" / "doc" / name / "README").write_text("%s %s\n" % (name, version))
    _run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(pool / ("%s_%s_all.deb" % (name, version)))])
    shutil.rmtree(tree)


def _suite(root, suite, packages_text, gnupg):
    index = root / "dists" / suite / "main" / "binary-amd64"
    index.mkdir(parents=True)
    (index / "Packages").write_text(packages_text)
    (index / "Packages.gz").write_bytes(gzip.compress(packages_text.encode(), mtime=0))
    lines = ["Origin: test", "Suite: %s" % suite, "Codename: %s" % suite, "Date: %s" % formatdate(usegmt=True),
             "Architectures: amd64", "Components: main", "SHA256:"]
    for name in ("Packages", "Packages.gz"):
        data = (index / name).read_bytes()
        lines.append(" %s %d main/binary-amd64/%s" % (hashlib.sha256(data).hexdigest(), len(data), name))
    release = root / "dists" / suite / "Release"
    release.write_text("\n".join(lines) + "\n")
    _run(["gpg", "--batch", "--yes", "--homedir", str(gnupg), "--clearsign", "--output",
          str(release.with_name("InRelease")), str(release)])


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """(mirror URL, keyring path, {deb file name: sha256}) of a served test archive."""
    base = tmp_path_factory.mktemp("archive")
    gnupg = base / "gnupg"
    gnupg.mkdir(mode=0o700)
    _run(["gpg", "--batch", "--homedir", str(gnupg), "--passphrase", "", "--quick-gen-key",
          "onprem.llm test archive", "ed25519", "sign", "never"])
    keyring = base / "archive-keyring.gpg"
    keyring.write_bytes(subprocess.run(["gpg", "--batch", "--homedir", str(gnupg), "--export"], check=True,
                                       capture_output=True).stdout)
    root = base / "debian"
    pool = root / "pool" / "main"
    pool.mkdir(parents=True)
    _deb(pool, "demo-tool", "1.0-1", depends="demo-lib (>= 2.0)")
    _deb(pool, "demo-lib", "2.0-1")
    _deb(pool, "demo-unrelated", "3.0-1")
    _suite(root, DIST, _run(["dpkg-scanpackages", "--multiversion", "pool", "/dev/null"], cwd=str(root)), gnupg)
    _suite(root, DIST + "-updates", "", gnupg)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    digests = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in pool.glob("*.deb")}
    yield "http://127.0.0.1:%d/" % server.server_address[1], keyring, digests
    server.shutdown()


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            bundle_apt.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def _args(tmp_path, archive, **more):
    mirror, keyring, _digests = archive
    args = {"dest": str(tmp_path / "repo"), "dist": DIST, "mirror": mirror, "security_mirror": "",
            "keyring": str(keyring), "packages": ["demo-tool"], "state_dir": str(tmp_path / "state"),
            "gpg_home": str(tmp_path / "bundle-gnupg"), "public_key": str(tmp_path / "bundle-key.asc")}
    args.update(more)
    return args


def test_the_closure_is_downloaded_verified_and_signed_then_kept(tmp_path, archive, capsys):
    _mirror, _keyring, digests = archive
    code, out = run(_args(tmp_path, archive), capsys)
    assert code == 0, out
    assert out["changed"] is True
    assert out["packages"] == ["demo-lib_2.0-1_all.deb", "demo-tool_1.0-1_all.deb"]
    assert sorted(out["downloaded"]) == out["packages"] and out["removed"] == []
    pool = tmp_path / "repo" / "pool"
    assert {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in pool.iterdir()} == {
        name: digests[name] for name in out["packages"]}
    packages = (tmp_path / "repo" / "Packages").read_text()
    assert "Package: demo-tool\n" in packages and "Package: demo-lib\n" in packages
    assert "Package: demo-unrelated" not in packages
    # The flat repository verifies against the exported bundle key, as the nodes' apt will check it.
    gnupg = tmp_path / "verify-gnupg"
    gnupg.mkdir(mode=0o700)
    _run(["gpg", "--batch", "--homedir", str(gnupg), "--import", str(tmp_path / "bundle-key.asc")])
    _run(["gpg", "--batch", "--homedir", str(gnupg), "--verify", str(tmp_path / "repo" / "InRelease")])
    signed = (tmp_path / "repo" / "InRelease").read_bytes()
    code, again = run(_args(tmp_path, archive), capsys)
    assert code == 0 and again["changed"] is False and again["downloaded"] == []
    assert (tmp_path / "repo" / "InRelease").read_bytes() == signed


def test_check_mode_reports_the_downloads_and_writes_no_repository(tmp_path, archive, capsys):
    code, out = run(_args(tmp_path, archive, _ansible_check_mode=True), capsys)
    assert code == 0 and out["changed"] is True
    assert sorted(out["downloaded"]) == ["demo-lib_2.0-1_all.deb", "demo-tool_1.0-1_all.deb"]
    assert not (tmp_path / "repo").exists()


def test_a_package_no_longer_asked_for_is_removed(tmp_path, archive, capsys):
    run(_args(tmp_path, archive, packages=["demo-tool", "demo-unrelated"]), capsys)
    code, out = run(_args(tmp_path, archive), capsys)
    assert code == 0 and out["changed"] is True
    assert out["removed"] == ["demo-unrelated_3.0-1_all.deb"]
    assert "Package: demo-unrelated" not in (tmp_path / "repo" / "Packages").read_text()


def test_an_archive_not_signed_by_the_keyring_is_refused(tmp_path, archive, capsys):
    other = tmp_path / "other-keyring.gpg"
    gnupg = tmp_path / "other-gnupg"
    gnupg.mkdir(mode=0o700)
    _run(["gpg", "--batch", "--homedir", str(gnupg), "--passphrase", "", "--quick-gen-key", "someone else",
          "ed25519", "sign", "never"])
    other.write_bytes(subprocess.run(["gpg", "--batch", "--homedir", str(gnupg), "--export"], check=True,
                                     capture_output=True).stdout)
    code, out = run(_args(tmp_path, archive, keyring=str(other)), capsys)
    assert code == 1 and out["failed"] is True
    assert out["msg"].startswith("apt-get -o ")
    assert "E: The repository 'http://127.0.0.1:%s demo InRelease' is not signed." % archive[0].split(":")[2].rstrip("/") \
        in out["msg"], out["msg"]
    assert not (tmp_path / "repo").exists()


def test_a_package_the_archive_does_not_have_fails_naming_it(tmp_path, archive, capsys):
    code, out = run(_args(tmp_path, archive, packages=["demo-missing"]), capsys)
    assert code == 1
    assert "Unable to locate package demo-missing" in out["msg"], out["msg"]

"""module_utils/bundle/apt.py: apt's resolution output, the separate apt state and sources, the flat repository's Release."""

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.bundle import apt

# The shape of `apt-get install --print-uris -qq -o Acquire::ForceHash=SHA256 ...` output on
# bookworm (URL, file name, size, hash); the hash values are made up for the test.
PRINT_URIS = (
    "'http://deb.debian.org/debian/pool/main/n/nginx/nginx_1.22.1-9%2bdeb12u3_amd64.deb' "
    "nginx_1.22.1-9+deb12u3_amd64.deb 536820 "
    "SHA256:0c1f5d3c9e0d6f1f7c0b8f2b4a1d7e3f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d\n"
    "'http://deb.debian.org/debian/pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb' "
    "zlib1g_1%3a1.2.13.dfsg-1_amd64.deb 86212 "
    "SHA256:D7E0E5D0E1C6E6A3C5B5C1B9A6E0A1F2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8\n"
)


def test_print_uris_parsed_with_pool_names_and_sha256():
    items = apt.parse_print_uris("Reading package lists...\n" + PRINT_URIS)
    assert [i["filename"] for i in items] == ["nginx_1.22.1-9+deb12u3_amd64.deb", "zlib1g_1.2.13.dfsg-1_amd64.deb"]
    assert items[0]["size"] == 536820
    assert items[1]["sha256"] == "d7e0e5d0e1c6e6a3c5b5c1b9a6e0a1f2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8"


def test_print_uris_without_sha256_is_refused():
    line = "'http://x/pool/a_1_all.deb' a_1_all.deb 10 MD5Sum:8e7e741807b1e1939df8f58323affdcb\n"
    with pytest.raises(ValueError, match="no SHA256 for a_1_all.deb"):
        apt.parse_print_uris(line)


def test_apt_options_keep_apt_off_the_controllers_state():
    opts = apt.apt_options("/s", "amd64")
    pairs = dict(o.split("=", 1) for o in opts[1::2])
    assert set(opts[0::2]) == {"-o"}
    assert pairs["Dir::State::status"] == "/s/state/status"
    assert pairs["Dir::Etc::sourcelist"] == "/s/etc/sources.list"
    assert pairs["Dir::Etc::sourceparts"] == "/s/etc/sources.list.d"
    assert pairs["Acquire::ForceHash"] == "SHA256"
    assert pairs["APT::Install-Recommends"] == "false"
    assert pairs["APT::Architectures"] == "amd64"


def test_sources_text_has_release_updates_and_security_signed():
    text = apt.sources_text("bookworm", "http://m/debian/", "http://m/debian-security", ["main"], "/k.gpg")
    assert text.splitlines() == [
        "deb [signed-by=/k.gpg] http://m/debian bookworm main",
        "deb [signed-by=/k.gpg] http://m/debian bookworm-updates main",
        "deb [signed-by=/k.gpg] http://m/debian-security bookworm-security main"]
    assert len(apt.sources_text("trixie", "http://m/debian", "", ["main", "contrib"], "").splitlines()) == 2


def test_release_lists_index_files_with_sha256():
    text = apt.release_text("bookworm", "amd64", [("Packages.gz", 10, "b" * 64), ("Packages", 20, "a" * 64)])
    lines = text.splitlines()
    assert "Codename: bookworm" in lines and "Architectures: amd64" in lines
    assert lines[-3:] == ["SHA256:", " %s 20 Packages" % ("a" * 64), " %s 10 Packages.gz" % ("b" * 64)]
    assert "Date" not in text  # compared without a date: an unchanged repository is not re-signed
    dated = apt.release_text("bookworm", "amd64", [("Packages", 20, "a" * 64)], "Wed, 25 Nov 2026 00:00:00 GMT")
    assert "Date: Wed, 25 Nov 2026 00:00:00 GMT\nSHA256:" in dated
    assert apt.without_date(dated) == apt.release_text("bookworm", "amd64", [("Packages", 20, "a" * 64)])

"""Verify molecule/closed_network: site.yml converged on an --internal podman network from the
offline bundle alone, and the isolation is real."""

import shlex

import pytest

BUNDLE = "http://c-mirror1:8089/bundle"


def _sh(*argv):
    return " ".join(shlex.quote(a) for a in argv)


@pytest.mark.parametrize("url", ["https://pypi.org/simple/", "http://deb.debian.org/debian/",
                                 "https://huggingface.co/"])
def test_outside_urls_are_unreachable(host, url):
    # curl exits 6 (cannot resolve), 7 (cannot connect) or 28 (timeout) - never 0.
    result = host.run(_sh("curl", "-sS", "-o", "/dev/null", "-m", "10", url))
    assert result.rc in (6, 7, 28), (url, result.rc, result.stderr)


def test_bundle_server_is_reachable_inside(host):
    # The positive control for the test above: the network itself works.
    code = host.check_output(_sh("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10",
                                 BUNDLE + "/MANIFEST.sha256"))
    assert code == "200"


def test_apt_sources_point_only_at_the_bundle(host):
    uris = set(host.check_output("apt-get indextargets --format '$(REPO_URI)'").split())
    expected = ("file:/srv/onprem-bundle/apt/bookworm/" if host.backend.get_hostname() == "c-mirror1"
                else BUNDLE + "/apt/bookworm/")
    assert uris == {expected}
    assert host.file("/etc/apt/sources.list.onprem-offline").contains("deb.debian.org")
    assert not host.file("/etc/apt/sources.list").contains("^deb ")


def test_bundle_repository_is_signed_and_verified(host):
    # apt accepted the InRelease signature with the bundle key (no [trusted=yes] anywhere).
    sources = host.file("/etc/apt/sources.list.d/onprem-bundle.sources").content_string
    assert "Signed-By: /usr/share/keyrings/onprem-bundle.asc" in sources
    assert "trusted" not in sources
    # apt keeps an InRelease in its lists only after checking its signature; the release is ours.
    assert host.run("ls /var/lib/apt/lists/*apt_bookworm_._InRelease").rc == 0
    assert "release o=onprem.llm,a=bookworm,n=bookworm" in host.check_output("apt-cache policy")


def test_corporate_ca_in_the_trust_store_and_pip(host):
    ca = host.file("/usr/local/share/ca-certificates/onprem-llm/onprem-llm-corp-ca.crt")
    assert ca.exists and ca.mode == 0o644
    pem = ca.content_string.strip()
    assert pem in host.file("/etc/ssl/certs/ca-certificates.crt").content_string
    pip_conf = host.file("/etc/pip.conf").content_string
    assert "cert = /etc/ssl/certs/ca-certificates.crt" in pip_conf
    assert "no-index = true" in pip_conf and "find-links = %s/wheels/" % BUNDLE in pip_conf

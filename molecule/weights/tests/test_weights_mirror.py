"""The mirror's nginx site: bound where configured, serving manifests and files, refusing dot-paths
and listings."""

import json

from test_weights import _upstream_files

testinfra_hosts = ["w-mirror"]


def _get(host, url):
    code = (
        "import sys, urllib.request, urllib.error\n"
        "try:\n"
        "    r = urllib.request.urlopen(sys.argv[1], timeout=5); print(r.status)\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n"
    )
    return int(host.check_output("python3 -c %s %s", code, url))


def test_mirror_nginx(host):
    assert host.socket("tcp://0.0.0.0:8088").is_listening
    assert host.service("nginx").is_running and host.service("nginx").is_enabled
    base = "http://127.0.0.1:8088/models"
    fetch = f"import urllib.request;print(urllib.request.urlopen(\"{base}/tiny-llama/manifest.json\").read().decode())"
    manifest = json.loads(host.check_output(f"python3 -c '{fetch}'"))
    assert sorted(f["path"] for f in manifest["files"]) == sorted(_upstream_files("tiny-llama"))
    assert _get(host, f"{base}/tiny-llama/config.json") == 200
    assert _get(host, f"{base}/tiny-llama/.onprem-verified.json") == 404
    assert _get(host, f"{base}/.store/tiny-llama/config.json") == 404
    assert _get(host, f"{base}/") in (403, 404)  # no listings
    assert _get(host, "http://127.0.0.1:8088/etc/passwd") == 404

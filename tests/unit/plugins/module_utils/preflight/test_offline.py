"""Closed-network check: what each role fetches, and what a closed network refuses."""

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.preflight import offline

BUNDLE = "http://c-mirror1:8089/bundle/"


def _sources(items, role=None):
    return [i["source"] for i in items if role is None or i["role"] == role]


def test_vllm_defaults_fetch_from_the_public_indexes():
    items = offline.artifacts({}, ["vllm_servers"], "Debian")
    assert _sources(items, "vllm") == [
        "https://pypi.org/simple", "https://download.pytorch.org/whl", "https://wheels.vllm.ai"]
    bad = offline.violations(items, [BUNDLE])
    assert [i["artifact"] for i in bad] == [
        "wheels (package index)", "torch wheels (PyTorch index)", "vLLM wheels (vLLM index)"]


def test_vllm_wheelhouse_under_the_bundle_passes():
    items = offline.artifacts({"vllm_wheelhouse": BUNDLE + "wheels/"}, ["vllm_servers"], "Debian")
    assert items == [{"role": "vllm", "artifact": "wheelhouse (vllm_wheelhouse)",
                      "source": BUNDLE + "wheels/", "kind": "url"}]
    assert offline.violations(items, [BUNDLE]) == []
    # the prefix must match on a path boundary, not as a string prefix
    assert offline.violations(items, ["http://c-mirror1:8089/bun"]) == items


def test_controller_wheelhouse_and_plan_only_fetch_nothing_outside():
    items = offline.artifacts({"vllm_wheelhouse_src": "/srv/wh"}, ["vllm_servers"])
    assert items[0]["kind"] == "controller"
    assert offline.violations(items, []) == []
    assert offline.artifacts({"vllm_plan_only": True}, ["vllm_servers"]) == []


def test_roles_only_for_the_hosts_groups():
    assert offline.artifacts({}, ["lab_nodes"], "Debian") == []
    roles = {i["role"] for i in offline.artifacts({"ollama_download_base_url": "https://github.com/x"},
                                                  ["ollama_servers"], "Debian")}
    assert roles == {"ollama"}


def test_models_from_the_hub_are_refused_and_named():
    values = {"model_weights_models": [{"name": "qwen", "repo_id": "Qwen/Qwen3-8B"}]}
    items = offline.artifacts(values, ["vllm_servers"], "Debian", "gpu1")
    weights = [i for i in items if i["role"] == "model_weights"]
    assert [i["source"] for i in weights] == ["https://huggingface.co", "https://pypi.org/simple"]
    msgs = offline.message(offline.violations(weights, [BUNDLE]), "gpu1")
    assert msgs[0] == ("closed network on gpu1: role model_weights would fetch model qwen (Hub Qwen/Qwen3-8B) "
                       "from https://huggingface.co (outside the bundle)")
    assert "Hub client wheels (pip index)" in msgs[1]


def test_hub_client_from_a_wheel_directory_is_not_an_index():
    values = {"model_weights_models": [{"name": "q", "repo_id": "a/b", "endpoint": BUNDLE + "hub"}],
              "model_weights_pip_extra_args": "--no-index --find-links /srv/wheels"}
    items = offline.artifacts(values, ["model_mirror"])
    assert _sources(items) == [BUNDLE + "hub"]
    values["model_weights_pip_extra_args"] = "--index-url=https://pypi.corp/simple"
    assert _sources(offline.artifacts(values, ["model_mirror"]))[-1] == "https://pypi.corp/simple"


def test_fanout_nodes_fetch_from_the_weights_mirror_and_the_mirror_from_sources():
    values = {"model_weights_fanout": "mirror",
              "model_weights_models": [{"name": "t", "source": "http", "url": "https://models.example.com/t"}]}
    node = offline.artifacts(values, ["vllm_servers"], "Debian", "n1")
    assert [i["kind"] for i in node if i["role"] == "model_weights"] == ["mirror"]
    assert offline.violations(node, [BUNDLE]) == [] or all(i["role"] == "vllm" for i in offline.violations(node, [BUNDLE]))
    mirror = offline.artifacts(values, ["model_mirror"], "Debian", "m1")
    assert _sources(mirror) == ["https://models.example.com/t"]


def test_ollama_archive_pulls_and_checksums():
    values = {"ollama_version": "0.32.7", "ollama_download_base_url": "https://github.com/ollama/ollama/releases/download",
              "ollama_checksum_from_release": True,
              "ollama_models": [{"name": "llama3"}, {"name": "reg.corp.example/team/m"},
                                {"name": "gone", "state": "absent"}, {"name": "f", "src": "/x.gguf"}]}
    items = offline.artifacts(values, ["ollama_servers"])
    assert _sources(items) == [
        "https://github.com/ollama/ollama/releases/download/v0.32.7/",
        "https://github.com/ollama/ollama/releases/download/v0.32.7/sha256sum.txt",
        "https://registry.ollama.ai", "https://reg.corp.example"]
    values.update(ollama_archive_src="/bundle/ollama.tar.zst", ollama_models=[])
    assert [i["kind"] for i in offline.artifacts(values, ["ollama_servers"])] == ["controller"]


@pytest.mark.parametrize("os_family,values,expected", [
    ("Debian", {}, ["", ""]),
    ("Debian", {"nvidia_driver_debian_components": True, "nvidia_driver_debian_mirror": "http://deb.debian.org/debian",
                "nvidia_driver_debian_security_mirror": "http://deb.debian.org/debian-security"},
     ["http://deb.debian.org/debian", "http://deb.debian.org/debian-security"]),
    ("Debian", {"nvidia_driver_debian_components": False}, []),
    ("RedHat", {}, ["https://developer.download.nvidia.com/compute/cuda/repos"] * 2),
    ("RedHat", {"nvidia_driver_epel_url": "https://epel.mirror.example/epel"},
     ["https://developer.download.nvidia.com/compute/cuda/repos", "https://epel.mirror.example/epel",
      "https://developer.download.nvidia.com/compute/cuda/repos"]),
    ("Debian", {"nvidia_driver_debian_components": False, "nvidia_driver_epel_url": "https://epel.mirror.example/"},
     []),
    ("Debian", {"nvidia_driver_debian_components": False, "nvidia_driver_source": "nvidia",
                "nvidia_driver_repo_url": BUNDLE + "cuda", "cuda_source": "nvidia", "cuda_repo_url": BUNDLE + "cuda",
                "nvidia_driver_container_toolkit": True},
     [BUNDLE + "cuda", "https://nvidia.github.io/libnvidia-container", BUNDLE + "cuda"]),
    ("Debian", {"nvidia_driver_source": "local", "nvidia_driver_local_repo_package": "/tmp/repo.deb"}, ["/tmp/repo.deb"]),
])
def test_driver_and_cuda_sources(os_family, values, expected):
    assert _sources(offline.artifacts(values, ["gpu_nodes"], os_family)) == expected


def test_empty_urls_are_violations():
    items = offline.artifacts({"nvidia_driver_debian_components": True}, ["gpu_nodes"], "Debian")
    assert [i["kind"] for i in items] == ["url", "url"]
    assert len(offline.violations(items, [BUNDLE])) == 2
    items = [offline._item("x", "y", "", "url")]
    assert offline.message(offline.violations(items, [BUNDLE])) == [
        "closed network: role x would fetch y from (empty URL) (outside the bundle)"]


def test_offline_models_rewrites_sources_and_keeps_the_rest():
    models = [{"name": "tiny", "source": "hf", "repo_id": "a/b", "revision": "main", "allow_patterns": ["*"],
               "fit": False, "format": "safetensors"},
              {"name": "g", "source": "controller", "path": "/x", "manifest": "m.json"}]
    assert offline.offline_models(models, BUNDLE + "models") == [
        {"name": "tiny", "fit": False, "format": "safetensors", "source": "http", "url": BUNDLE + "models/tiny"},
        {"name": "g", "source": "http", "url": BUNDLE + "models/g"}]
    with pytest.raises(ValueError, match="bundle's models URL"):
        offline.offline_models(models, "")
    with pytest.raises(ValueError, match="needs a name"):
        offline.offline_models([{"source": "hf"}], BUNDLE)

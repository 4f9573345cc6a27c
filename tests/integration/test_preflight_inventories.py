"""The inventory preflight rejects bad inventories through the real entry point, before any change.

Each case is the good base inventory below plus one change; ``site.yml`` must fail, with a message
naming the variable, changed=0 for every host in ansible-runner's stats, and no file changed
on the managed hosts. The managed hosts are two podman containers (``i-pf-gpu1`` with the GPU double
of one T4, ``i-pf-cpu1`` without GPUs) started from the lab's node image with no network and no
privileges, running ``sleep`` instead of systemd: nothing in them writes files by itself, and were
the preflight ever to pass a bad inventory, the later stages could only change (or fail in) those
containers, never this machine. "No file changed" is checked for real: ``find -newer`` against a
marker file touched after the nodes were prepared.

The playbooks run through ansible-runner (tests/tools/playbook_runner.py): the checks read its stats
and job events, the messages the failed tasks' results. Run: ``.venv/bin/python -m pytest -q
tests/integration/test_preflight_inventories.py`` as root with podman and the node image (``make images``). The vault in the inventories is encrypted with the
test password ``onprem-preflight-test``.
"""

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "tools"))
import playbook_runner  # noqa: E402  (tests/tools is not a package)

BIN = ROOT / ".venv" / "bin"
IMAGE = "localhost/onprem-llm-node:bookworm"
GPU, CPU = "i-pf-gpu1", "i-pf-cpu1"
PROFILES = {GPU: "t4x1", CPU: "none"}
MARKER = "/var/tmp/onprem-preflight-test.marker"
VAULT_PASSWORD = "onprem-preflight-test"
DOUBLE = "/usr/share/onprem-llm-double"

BASE = {
    "hosts.yml": {
        "all": {
            "children": {
                "gpu_nodes": {"hosts": {GPU: None}},
                "vllm_servers": {"hosts": {GPU: None, CPU: None}},
                "ollama_servers": {"hosts": {GPU: None}},
                "model_mirror": {"hosts": {CPU: None}},
                "gateway": {"hosts": {CPU: None}},
            }
        }
    },
    "group_vars/all/connection.yml": {
        "ansible_connection": "containers.podman.podman",
        "ansible_python_interpreter": "/usr/bin/python3",
    },
    "group_vars/all/gpu.yml": {
        "onprem_gpu_sysfs_path": DOUBLE + "/sys",
        "onprem_gpu_procfs_path": DOUBLE + "/proc",
        "gpu_preflight_show_summary": False,
    },
    # Encrypted with VAULT_PASSWORD when written.
    "group_vars/all/vault.yml": {
        "vault_vllm_api_key": "test-vllm-key-not-secret",
        "vault_gateway_key_ops": "test-gateway-key-not-secret",
    },
    "group_vars/gateway/gateway.yml": {
        "gateway_port": 8443,
        "gateway_api_keys": [{"client": "ops", "key": "{{ vault_gateway_key_ops }}"}],
    },
    "host_vars/%s.yml" % GPU: {
        "model_weights_models": [
            {"name": "llama-3.2-1b", "source": "hf", "repo_id": "meta-llama/Llama-3.2-1B-Instruct",
             "catalog": "llama-3.2-1b-instruct"},
        ],
        "vllm_instances": [
            {"name": "chat", "model": "llama-3.2-1b", "port": 8000, "max_model_len": 4096, "gpus": [0],
             "api_key": "{{ vault_vllm_api_key }}"},
        ],
        "ollama_host": "127.0.0.1:11434",
        "ollama_flash_attention": "auto",
    },
    "host_vars/%s.yml" % CPU: {
        "vllm_allow_cpu": True,
        "model_weights_fanout": "mirror",
        "model_weights_models": [{"name": "tiny", "source": "controller", "path": "/nonexistent/tiny"}],
        "vllm_instances": [
            {"name": "tiny", "model": "tiny", "port": 8000, "dtype": "float32", "max_model_len": 512,
             "enforce_eager": True, "kv_cache_memory_bytes": 67108864},
        ],
    },
}


def _gpu(inv):
    return inv["host_vars/%s.yml" % GPU]


def _cpu(inv):
    return inv["host_vars/%s.yml" % CPU]


def _set(target, key, value):
    def change(inv):
        target(inv)[key] = value
    return change


def _instance(target, index, key, value):
    def change(inv):
        if value is DELETE:
            del target(inv)["vllm_instances"][index][key]
        else:
            target(inv)["vllm_instances"][index][key] = value
    return change


def _add_instance(target, **instance):
    def change(inv):
        target(inv)["vllm_instances"].append(instance)
    return change


def _del_vault(name):
    def change(inv):
        del inv["group_vars/all/vault.yml"][name]
    return change


def _gateway(key, value):
    def change(inv):
        inv["group_vars/gateway/gateway.yml"][key] = value
    return change


def _monitoring(**settings):
    """A monitoring group (Prometheus on the CPU node) with these settings."""
    def change(inv):
        inv["hosts.yml"]["all"]["children"]["monitoring"] = {"hosts": {CPU: None}}
        inv["group_vars/monitoring/monitoring.yml"] = dict(settings)
    return change


def _gpu_model(name, catalog, repo_id):
    def change(inv):
        _gpu(inv)["model_weights_models"][0].update(name=name, catalog=catalog, repo_id=repo_id)
        _gpu(inv)["vllm_instances"][0]["model"] = name
    return change


def _many(*changes):
    def change(inv):
        for one in changes:
            one(inv)
    return change


DELETE = object()

# (id, change to the base inventory, words the error must contain: the variable's name first[, more
# ansible-playbook arguments])
CASES = [
    ("unknown-var-typo", _set(_gpu, "vllm_instance", []),
     [GPU, "vllm_instance is not a variable", "did you mean vllm_instances?"]),
    ("unknown-var-ollama", _set(_gpu, "ollama_hots", "127.0.0.1:11434"),
     [GPU, "ollama_hots", "did you mean ollama_host?"]),
    ("unknown-var-onprem", _set(_gpu, "onprem_vllm_serail", 1),
     ["onprem_vllm_serail", "did you mean onprem_vllm_serial?"]),
    # A batch size in the inventory would be ignored (play keywords never see it): refused, naming -e.
    ("play-keyword-in-inventory", _set(_gpu, "onprem_vllm_serial", 1),
     [GPU, "onprem_vllm_serial is a play keyword", "-e onprem_vllm_serial=1"]),
    ("unknown-var-gateway", _gateway("gateway_prot", 9443), [CPU, "gateway_prot", "did you mean gateway_port?"]),
    ("string-bool-yes", _set(_cpu, "vllm_allow_cpu", "yes"), [CPU, "vllm_allow_cpu", "string boolean"]),
    ("string-bool-true", _set(_gpu, "gpu_preflight_require_driver", "true"),
     [GPU, "gpu_preflight_require_driver", "string boolean"]),
    ("string-bool-suboption", _instance(_cpu, 0, "enforce_eager", "1"),
     [CPU, "vllm_instances[0].enforce_eager", "string boolean"]),
    ("port-not-int", _instance(_gpu, 0, "port", "80a"), [GPU, "vllm_instances[0].port must be an integer", "'80a'"]),
    ("port-quoted", _instance(_gpu, 0, "port", "8000"), [GPU, "vllm_instances[0].port", "without quotes"]),
    ("int-wrong-type", _set(_gpu, "gpu_preflight_min_gpus", "two"), [GPU, "gpu_preflight_min_gpus must be an integer"]),
    ("list-wrong-type", _set(_gpu, "vllm_pip_extra_index_urls", "https://pypi.example/simple"),
     [GPU, "vllm_pip_extra_index_urls must be a list"]),
    ("choice", _set(_gpu, "vllm_variant", "cu999"), [GPU, "vllm_variant must be one of"]),
    ("choice-suboption", _set(_cpu, "model_weights_models", [{"name": "tiny", "source": "s3", "path": "/x"}]),
     [CPU, "model_weights_models[0].source must be one of"]),
    ("version-as-float", _set(_gpu, "ollama_version", 0.20), [GPU, "ollama_version must be a string", "0.2"]),
    ("bool-for-string", _set(_gpu, "ollama_flash_attention", True), [GPU, "ollama_flash_attention must be a string"]),
    ("unknown-suboption", _instance(_gpu, 0, "prot", 8001),
     [GPU, "vllm_instances[0].prot is not an option", "did you mean port?"]),
    ("missing-suboption", _instance(_gpu, 0, "port", DELETE), [GPU, "vllm_instances[0].port is required"]),
    ("missing-vault-secret", _del_vault("vault_vllm_api_key"),
     [GPU, "vllm_instances[0].api_key: undefined variable vault_vllm_api_key", "define it in the vault"]),
    ("missing-vault-gateway-key", _del_vault("vault_gateway_key_ops"),
     [CPU, "gateway_api_keys[0].key: undefined variable vault_gateway_key_ops", "define it in the vault"]),
    ("duplicate-port-instances", _add_instance(_gpu, name="chat2", model="llama-3.2-1b", served_model_name="chat2", port=8000),
     [GPU, "vllm_instances[1].port (chat2): port 8000 is also used by vllm_instances[0].port (chat)"]),
    ("duplicate-port-ollama", _set(_gpu, "ollama_host", "0.0.0.0:8000"),
     [GPU, "ollama_host: port 8000 is also used by vllm_instances[0].port"]),
    ("duplicate-port-mirror-gateway", _gateway("gateway_port", 8088),
     [CPU, "gateway_port: port 8088 is also used by model_weights_mirror_port"]),
    ("duplicate-instance-name", _add_instance(_gpu, name="chat", model="llama-3.2-1b", served_model_name="other", port=8001),
     [GPU, "vllm_instances[1].name 'chat' is already used"]),
    ("duplicate-served-name", _add_instance(_gpu, name="chat2", model="llama-3.2-1b", port=8001),
     [GPU, "vllm_instances[1].served_model_name 'llama-3.2-1b' is also served"]),
    ("model-not-staged", _instance(_gpu, 0, "model", "llama-3.2-1B"),
     [GPU, "vllm_instances[0].model 'llama-3.2-1B' is not in model_weights_models", "did you mean llama-3.2-1b?"]),
    # Needs the GPU facts: fails in the preflight's second play, after the read-only gpu_facts.
    ("model-too-large", _gpu_model("llama-70b", "llama-3.1-70b-instruct", "meta-llama/Llama-3.1-70B-Instruct"),
     [GPU, "vllm_instances[0].model llama-70b (instance chat) does not fit the 1 GPU(s) listed in gpus"]),
    ("gpu-not-on-host", _instance(_gpu, 0, "gpus", [3]),
     [GPU, "vllm_instances[0].gpus (instance chat): GPU 3 is not on this host"]),
    # --limit to the bad host: the checks run for the hosts of the run, never skipped.
    ("limit-to-one-host", _set(_gpu, "vllm_allow_cpu", "no"),
     [GPU, "vllm_allow_cpu must be a boolean, got the string 'no'"], ("--limit", GPU)),
    ("cpu-host-without-cpu-build", _set(_cpu, "vllm_allow_cpu", False),
     [CPU, "vllm_instances: this host has no NVIDIA GPU", "vllm_allow_cpu: true"]),
    # Value rules (plugins/module_utils/preflight/rules.py, data/inventory_variables.yml "rules"): one
    # case per kind of rule, each with a value users write by mistake.
    # Numbers out of range, nulls.
    ("port-zero", _instance(_gpu, 0, "port", 0), [GPU, "vllm_instances[0] (chat).port must be a TCP port from 1 to 65535, got 0"]),
    ("gateway-port-negative", _gateway("gateway_port", -1), [CPU, "gateway_port must be a TCP port from 1 to 65535, got -1"]),
    ("ollama-port-too-high", _set(_gpu, "ollama_host", "127.0.0.1:70000"),
     [GPU, "ollama_host must be host:port with a port from 1 to 65535", "'127.0.0.1:70000'"]),
    ("ollama-port-word", _set(_gpu, "ollama_host", "127.0.0.1:http"), [GPU, "ollama_host must be host:port", "'127.0.0.1:http'"]),
    ("timeout-zero", _set(_cpu, "vllm_start_timeout", 0), [CPU, "vllm_start_timeout must be a whole number of at least 1"]),
    ("null-for-a-default", _set(_cpu, "vllm_start_timeout", None),
     [CPU, "vllm_start_timeout is null but has a default (600); remove the line"]),
    ("tensor-parallel-over-listed-gpus", _instance(_gpu, 0, "tensor_parallel_size", 2),
     [GPU, "vllm_instances[0] (chat): tensor_parallel_size 2 x pipeline_parallel_size 1 needs 2 GPUs but gpus lists 1"]),
    # Names that end up in unit names, file names and URLs.
    ("instance-name-injection", _instance(_cpu, 0, "name", "tiny;reboot"),
     [CPU, "vllm_instances[0] (tiny;reboot).name must be 1-64 characters", "systemd unit name"]),
    ("instance-name-traversal", _instance(_cpu, 0, "name", "../../etc"), [CPU, "vllm_instances[0] (../../etc).name must be"]),
    # re's '$' matches before a trailing newline: the name would end the unit name and add a line.
    ("instance-name-newline", _instance(_cpu, 0, "name", "tiny\n"), [CPU, "vllm_instances[0] (tiny\n).name must be"]),
    ("gateway-key-newline", _gateway("gateway_api_keys", [{"client": "app", "key": "test-gateway-key-not-secret\n"}]),
     [CPU, "gateway_api_keys[0] (app): key must be 16-256"]),
    ("model-name-space", _gpu_model("llama 3", "llama-3.2-1b-instruct", "meta-llama/Llama-3.2-1B-Instruct"),
     [GPU, "model_weights_models[0] (llama 3).name must be 1-64 characters of lower-case letters"]),
    ("ollama-model-name", _set(_gpu, "ollama_models", [{"name": "tiny llama"}]),
     [GPU, "ollama_models[0] (tiny llama).name must be an Ollama model name"]),
    ("service-account-name", _set(_cpu, "vllm_user", "vLLM user"), [CPU, "vllm_user must be a system account name"]),
    # Paths.
    ("relative-model-root", _set(_cpu, "model_weights_root", "models"),
     [CPU, "model_weights_root must be an absolute, normalised path", "'models'"]),
    ("relative-config-dir", _set(_gpu, "vllm_config_dir", "etc/onprem-llm/vllm"), [GPU, "vllm_config_dir must be an absolute"]),
    # Shapes: repository ids, pins, branches, URLs.
    ("repo-id-without-owner", _gpu_model("llama-3.2-1b", "llama-3.2-1b-instruct", "Llama-3.2-1B-Instruct"),
     [GPU, "model_weights_models[0] (llama-3.2-1b).repo_id must be a Hugging Face repository id, owner/name"]),
    ("ollama-version-latest", _set(_gpu, "ollama_version", "latest"), [GPU, "ollama_version must pin a release", "'latest'"]),
    ("driver-branch-word", _set(_gpu, "nvidia_driver_branch", "newest"), [GPU, "nvidia_driver_branch must be auto or a driver branch"]),
    ("index-url-not-a-url", _set(_gpu, "vllm_pip_index_url", "pypi.corp.example/simple"),
     [GPU, "vllm_pip_index_url must be an http://, https:// or file:// URL"]),
    # Security settings.
    ("public-address-without-key", _instance(_cpu, 0, "host", "0.0.0.0"),
     [CPU, "vllm_instances[0] (tiny): host 0.0.0.0 is not loopback, so api_key is required"]),
    ("extra-args-override-port", _instance(_gpu, 0, "extra_args", {"port": 9000}),
     [GPU, "vllm_instances[0] (chat): extra_args may not set port"]),
    ("gateway-without-clients", _gateway("gateway_api_keys", []), [CPU, "gateway_api_keys must list at least one"]),
    ("gateway-short-key", _gateway("gateway_api_keys", [{"client": "ops", "key": "short-key"}]),
     [CPU, "gateway_api_keys[0] (ops): key must be 16-256 characters"]),
    ("gateway-shared-key", _gateway("gateway_api_keys", [{"client": "ops", "key": "{{ vault_gateway_key_ops }}"},
                                                         {"client": "ci", "key": "{{ vault_gateway_key_ops }}"}]),
     [CPU, "gateway_api_keys[1] (ci): key is the same as gateway_api_keys[0]'s"]),
    ("monitoring-settings", _monitoring(monitoring_retention_time="15 days", monitoring_retention_size="50G",
                                        monitoring_alert_vllm_waiting_requests="ten",
                                        monitoring_alert_vllm_kv_cache_usage=90, monitoring_exporter_allow=["any"]),
     [CPU, "monitoring_retention_time must be a Prometheus duration", "monitoring_retention_size must be a Prometheus size",
      "monitoring_alert_vllm_waiting_requests must be a number, got the string 'ten'",
      "monitoring_alert_vllm_kv_cache_usage must be a fraction", "monitoring_exporter_allow[0] must be an IP address"]),
    ("monitoring-receiver-type", _monitoring(
        monitoring_alert_receivers=[{"name": "ops", "type": "slack", "url": "http://10.0.0.9/alerts"}],
        monitoring_smtp_from="nobody", monitoring_alert_group_wait="30 seconds"),
     [CPU, "monitoring_alert_receivers[0].type must be one of webhook, email, got 'slack'",
      "monitoring_smtp_from must be one e-mail address", "monitoring_alert_group_wait must be a Prometheus duration"]),
    ("monitoring-gpu-settings", _monitoring(
        monitoring_gpu_metrics="dcgm", monitoring_alert_gpu_temperature="hot", monitoring_alert_gpu_xid_ignore=[0],
        monitoring_alert_gpu_metrics_for="5 minutes", monitoring_dcgm_exporter_package="dcgm-exporter=4.8.2",
        monitoring_dcgm_exporter_port="9400/tcp"),
     [CPU, "monitoring_gpu_metrics must be one of auto, dcgm_exporter, nvidia_smi, none, got 'dcgm'",
      "monitoring_dcgm_exporter_package must be a package name without a version",
      "monitoring_dcgm_exporter_port must be",
      "monitoring_alert_gpu_temperature must be a number, got the string 'hot'",
      "monitoring_alert_gpu_xid_ignore[0] must be a whole number of at least 1",
      "monitoring_alert_gpu_metrics_for must be a Prometheus duration"]),
    ("monitoring-receiver-incomplete", _monitoring(
        monitoring_alert_receivers=[{"name": "ops", "type": "webhook"}, {"name": "ops", "type": "email", "to": ["a@corp.example"]}]),
     [CPU, "monitoring_alert_receivers[0] is a webhook without a url", "the name 'ops' is used twice",
      "email receivers need a mail server: set monitoring_smtp_smarthost"]),
    ("monitoring-receiver-address", _monitoring(
        monitoring_alert_receivers=[{"name": "oncall", "type": "email", "to": ["On Call <oncall@example.com>"]},
                                    {"name": "ops", "type": "webhook", "url": "10.0.0.9/alerts"}]),
     [CPU, "monitoring_alert_receivers[0] (oncall).to[0] must be one e-mail address",
      "monitoring_alert_receivers[1] (ops).url must be an http://, https:// or file:// URL"]),
    # Every other format of the rules table at once: one bad value each, every one named (the
    # preflight lists all problems in one run; test_rules.py has each format's own cases).
    ("every-other-format", _many(
        _set(_gpu, "ollama_num_parallel", -1),                      # not_negative
        _set(_gpu, "vllm_version", "latest"),                       # version_or_auto
        _set(_gpu, "nvidia_driver_version", "570"),                 # driver_version
        _set(_gpu, "gpu_preflight_min_driver_version", "r570"),     # dotted_version
        _gateway("gateway_server_name", "llm corp"),                # host
        _instance(_gpu, 0, "served_model_name", "chat model"),      # served_name
        _instance(_gpu, 0, "dtype", "float 32"),                    # word
        _set(_gpu, "ollama_checksum", "abc"),                       # sha256
        _set(_cpu, "model_weights_mirror_location", "models"),      # location
        _set(_gpu, "cuda_extra_packages", ["cuda; reboot"]),        # package
        _set(_gpu, "ollama_keep_alive", "5 minutes"),               # duration
        _gateway("gateway_tls_san", ["llm.corp"]),                  # san
        _gateway("gateway_max_body_size", "8 MB"),                  # size
        _set(_gpu, "onprem_no_proxy", "localhost, .corp"),          # no_proxy
        _set(_gpu, "ollama_cuda_visible_devices", "0, 1"),          # device_list
        _set(_gpu, "ollama_device_allow", ["nvidia0"]),             # device_allow
        _set(_gpu, "vllm_python", "python3 -I"),                    # executable
        _set(_gpu, "vllm_ray_interface", "eth 0"),                  # interface
        _set(_gpu, "model_weights_hf_token", "hf never-shown"),     # token (a secret)
        _set(_gpu, "vllm_wheelhouse", "wheels"),                    # path_or_url
        _set(_cpu, "model_weights_mirror_allow", ["any"]),          # cidr
        lambda inv: _gpu(inv)["model_weights_models"][0].update(revision="../main"),  # revision
        _set(_gpu, "vllm_ray_extra_args", ["--num-cpus 1"]),         # argument
        _set(_gpu, "model_weights_pip_extra_args", "--index-url 'http://x y'"),  # arguments
        _instance(_gpu, 0, "env", {"HF HOME": "/x"}),               # env keys (between settings)
        _instance(_gpu, 0, "gpu_memory_utilization", 1.5),          # (0, 1] (between settings)
    ), [GPU, CPU, "ollama_num_parallel must be a whole number of at least 0", "vllm_version must be auto or a release",
        "nvidia_driver_version must be a full driver version", "gpu_preflight_min_driver_version must be dotted numbers",
        "gateway_server_name must be a host name", "vllm_instances[0] (chat).served_model_name must be 1-128 characters",
        "vllm_instances[0] (chat).dtype must be one word", "ollama_checksum must be a sha256",
        "model_weights_mirror_location must be a URL path", "cuda_extra_packages[0] must be a package name",
        "ollama_keep_alive must be a duration", "gateway_tls_san[0] must be DNS:<name> or IP:<address>",
        "gateway_max_body_size must be an nginx size", "onprem_no_proxy must be a comma-separated list",
        "ollama_cuda_visible_devices must be auto or GPU indexes", "ollama_device_allow[0] must be a systemd DeviceAllow=",
        "vllm_python must be a program name", "vllm_ray_interface must be a network interface name",
        "model_weights_hf_token must be one token", "vllm_wheelhouse must be an absolute path or",
        "model_weights_mirror_allow[0] must be an address or network",
        "model_weights_models[0] (llama-3.2-1b).revision must be a branch, tag or commit",
        "vllm_ray_extra_args[0] must be one command-line argument",
        "model_weights_pip_extra_args must be command-line arguments",
        "vllm_instances[0] (chat): env key 'HF HOME' is not a valid variable name",
        "vllm_instances[0] (chat): gpu_memory_utilization must be in (0, 1] (got 1.5)"]),
]
# Values the output must never show (the secrets of the cases above).
NEVER_SHOWN = ("short-key", "test-gateway-key-not-secret", "test-vllm-key-not-secret", "hf never-shown")


def _run(argv, check=True, timeout=600, env=None):
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (rc %d):\n%s\n%s" % (" ".join(argv), proc.returncode, proc.stdout, proc.stderr))
    return proc


def _ansible_env():
    env = dict(os.environ)
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PY_COLORS="0",
               PATH="%s:%s" % (BIN, env.get("PATH", "")))
    return env


def _write_inventory(directory, files):
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret(VAULT_PASSWORD.encode()))])
    for name, data in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "---\n" + yaml.safe_dump(data, default_flow_style=False, sort_keys=False)
        if name.endswith("vault.yml"):
            path.write_bytes(vault.encrypt(text))
        else:
            path.write_text(text)
    return directory


# `podman exec` through nsenter (tests/molecule/podman-nsenter/podman): the same command in the
# container's namespaces without a podman process, twice per case.
PODMAN_EXEC = str(ROOT / "tests" / "molecule" / "podman-nsenter" / "podman")


# Written by Ansible's own runs, not by the collection: its temporary files, and the node image's
# bytecode cache of module payloads (tests/lab/node-python/onprem_ansiballz_bytecode.py).
ANSIBLE_OWN = ["/tmp", "/root/.ansible", "/root/.ansible/*", "/var/cache/onprem-ansiballz-bytecode",
               "/var/cache/onprem-ansiballz-bytecode/*"]


def _changed_files(node):
    excluded = [arg for path in ANSIBLE_OWN for arg in ("-not", "-path", path)]
    found = _run([PODMAN_EXEC, "exec", node, "find", "/", "-xdev", "(", "-newer", MARKER, "-o", "-cnewer", MARKER, ")"]
                 + excluded).stdout
    return sorted(line for line in found.splitlines() if line)


def _install_gpu_double(node, profile, scratch):
    """What tests/lab/tasks/install_gpu_double.yml does on lab nodes, with podman cp (faster)."""
    tree = scratch / node
    _run([sys.executable, str(ROOT / "tests" / "doubles" / "make_gpu_profile.py"), "--profile", profile,
          "--out", str(tree)])
    _run(["podman", "exec", node, "mkdir", "-p", DOUBLE])
    _run(["podman", "cp", "%s/." % tree, "%s:%s" % (node, DOUBLE)])
    if (tree / "install_nvidia_smi").read_text().strip() == "true":
        smi = scratch / ("%s-nvidia-smi" % node)
        source = (ROOT / "tests" / "doubles" / "nvidia_smi_double.py").read_text()
        smi.write_text(re.sub(r"^#!.*", "#!/usr/bin/python3", source, count=1))
        smi.chmod(0o755)
        _run(["podman", "cp", str(smi), "%s:/usr/bin/nvidia-smi" % node])


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    assert _run(["podman", "image", "exists", IMAGE], check=False).returncode == 0, (
        "the node image %s is missing: run `make images` first" % IMAGE)
    for node in PROFILES:
        _run(["podman", "rm", "-f", "-t", "0", node], check=False)
    try:
        for node in PROFILES:
            _run(["podman", "run", "-d", "--name", node, "--hostname", node, "--network", "none",
                  "--runtime", "runc", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
                  "--label", "onprem-llm-test=preflight", IMAGE, "sleep", "infinity"])
        setup = tmp_path_factory.mktemp("setup")
        for node, profile in PROFILES.items():
            _install_gpu_double(node, profile, setup)
        (setup / "hosts.yml").write_text(yaml.safe_dump({"all": {
            "vars": BASE["group_vars/all/connection.yml"], "hosts": dict((node, None) for node in PROFILES)}}))
        env = _ansible_env()
        # Once before the marker: whatever a first module run leaves (~/.ansible) is not a change.
        _run([str(BIN / "ansible"), "-i", str(setup / "hosts.yml"), "all", "-m", "onprem.llm.gpu_facts",
              "-a", "sysfs_path=%s/sys procfs_path=%s/proc" % (DOUBLE, DOUBLE)], env=env)
        for node in PROFILES:
            _run(["podman", "exec", node, "touch", MARKER])
            assert _changed_files(node) == [], "a node changed by itself; the snapshot would be meaningless"
        yield PROFILES
    finally:
        for node in PROFILES:
            _run(["podman", "rm", "-f", "-t", "0", node], check=False)


def _run_playbook(tmp_path, files, playbook, args=()):
    inventory = _write_inventory(tmp_path / "inventory", files)
    password = tmp_path / "vault-password"
    password.write_text(VAULT_PASSWORD + "\n")
    return playbook_runner.run(tmp_path / "runner", ROOT / playbook, inventory, project_dir=ROOT,
                               cmdline=["--vault-password-file", str(password), *args],
                               env={"PATH": "%s:%s" % (BIN, os.environ.get("PATH", ""))})


def _assert_nothing_changed(result, nodes):
    assert result.hosts(), "the run processed no host:\n" + result.stdout
    for host in result.hosts():
        changed, unreachable = result.count(host, "changed"), result.count(host, "dark")
        assert changed == 0 and unreachable == 0, "%s: changed=%d unreachable=%d\n%s" % (
            host, changed, unreachable, result.stdout)
    for node in nodes:
        assert _changed_files(node) == [], "%s changed:\n%s" % (node, result.stdout)


def test_good_inventory_passes_preflight(nodes, tmp_path):
    result = _run_playbook(tmp_path, BASE, "playbooks/preflight.yml")
    assert result.rc == 0 and result.status == "successful", result.stdout
    assert result.task_hosts("Validate the inventory of every host"), result.stdout
    fits = [task for task in {e["event_data"].get("task", "") for e in result.events if "event_data" in e}
            if task.startswith("Check that each vLLM instance's model fits")]
    assert len(fits) == 1, fits
    assert result.task_hosts(fits[0]) >= set(nodes), result.stdout
    assert result.hosts() == {GPU, CPU}, result.stats
    assert not result.stats.get("failures"), result.stats
    _assert_nothing_changed(result, nodes)


def test_matrix_has_enough_cases():
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("change, expected, args", [(case + ((),))[1:4] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_bad_inventory_is_rejected_before_any_change(nodes, tmp_path, change, expected, args):
    files = copy.deepcopy(BASE)
    change(files)
    result = _run_playbook(tmp_path, files, "site.yml", args)
    assert result.rc != 0 and result.status == "failed", result.stdout
    messages = "\n".join(result.failure_messages())
    assert "The inventory has" in messages and "nothing was changed" in messages, result.stdout
    for words in expected:
        assert words in messages, "%r not in the failed tasks' messages:\n%s" % (words, messages)
    everything = result.everything()
    for secret in NEVER_SHOWN:
        assert secret not in everything, "a secret value is in the output or the events:\n%s" % result.stdout
    _assert_nothing_changed(result, nodes)

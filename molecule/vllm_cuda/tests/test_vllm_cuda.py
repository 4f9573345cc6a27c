"""Verify molecule/vllm_cuda: the CUDA build of the shipped lock is installed for real, its torch is
the lock's CUDA build, vLLM imports, and the instance's unit gets the NVIDIA devices and no others."""

import json

testinfra_hosts = ["n-cuda1"]

PYTHON = "/opt/onprem-llm/vllm/current/bin/python"
LOCK = "vllm-0.29.0-cu130-cp312-manylinux_2_34_x86_64.txt"


def _pinned(lock_text, name):
    for line in lock_text.splitlines():
        if line.startswith(name + "=="):
            return line.split("==", 1)[1].split()[0]
    raise AssertionError("%s is not pinned in %s" % (name, LOCK))


def test_torch_is_the_locks_cuda_13_0_build(host):
    lock = host.file("/opt/onprem-llm/vllm/locks/" + LOCK).content_string
    out = json.loads(host.check_output(
        "%s -c 'import json, torch; print(json.dumps([torch.__version__, torch.version.cuda]))'" % PYTHON))
    assert out == ["%s+cu130" % _pinned(lock, "torch"), "13.0"]


def test_vllm_imports_at_the_locks_version(host):
    lock = host.file("/opt/onprem-llm/vllm/locks/" + LOCK).content_string
    assert host.check_output("%s -c 'import vllm; print(vllm.__version__)'" % PYTHON) == _pinned(lock, "vllm")


def test_every_pinned_package_is_in_the_venv(host):
    lock = host.file("/opt/onprem-llm/vllm/locks/" + LOCK).content_string
    pinned = sorted(line.split("==", 1)[0].lower().replace("_", "-")
                    for line in lock.splitlines() if "==" in line and not line.startswith("#"))
    frozen = host.check_output("%s -m pip list --format json --disable-pip-version-check" % PYTHON)
    installed = sorted(p["name"].lower().replace("_", "-") for p in json.loads(frozen))
    assert [name for name in pinned if name not in installed] == []


def test_the_unit_gets_the_nvidia_devices_only(host):
    show = host.check_output("systemctl show vllm@cuda0.service -p DevicePolicy -p DeviceAllow -p PrivateDevices")
    assert "DevicePolicy=closed" in show
    assert "PrivateDevices=no" in show
    for device in ("/dev/nvidiactl rw", "/dev/nvidia-uvm rw", "char-nvidia-caps rw"):
        assert device in show
    # systemctl prints "DeviceAllow=<device> <access> <device> <access> ..."; systemd itself adds
    # "char-rtc r" for the unit's ProtectClock=yes (systemd.exec(5)), read-only.
    tokens = " ".join(line.split("=", 1)[1] for line in show.splitlines() if line.startswith("DeviceAllow=")).split()
    pairs = list(zip(tokens[::2], tokens[1::2]))
    assert pairs and all("nvidia" in dev or (dev, access) == ("char-rtc", "r") for dev, access in pairs), pairs

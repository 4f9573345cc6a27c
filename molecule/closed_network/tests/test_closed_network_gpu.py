"""The GPU node: the NVIDIA driver and CUDA runtime the bundle planned for it, from the bundle only."""

testinfra_hosts = ["c-gpu1"]


def test_driver_userspace_and_cuda_runtime_installed_on_the_branch(host):
    # T4 on bookworm: branch 535, proprietary modules (bookworm's open modules lag the userspace).
    for name in ("nvidia-smi", "libcuda1", "libnvidia-ml1", "nvidia-persistenced", "libcudart11.0"):
        assert host.package(name).is_installed, name
    assert host.package("libcuda1").version.startswith("535.")


def test_driver_packages_came_from_the_bundle_and_are_held(host):
    policy = host.check_output("apt-cache policy libcuda1")
    assert "http://c-mirror1:8089/bundle/apt/bookworm" in policy
    assert "deb.debian.org" not in policy
    assert "libcuda1" in host.check_output("apt-mark showhold").split()

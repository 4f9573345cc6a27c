"""Platforms (as in ansible_facts, with the running kernel) and GPU facts shared by the NVIDIA
driver, CUDA and bundle planner tests."""

HOSTS = {
    "debian12": {"distribution": "Debian", "distribution_major_version": "12", "distribution_version": "12.15",
                 "architecture": "x86_64", "kernel": "6.1.0-40-amd64"},
    "debian13": {"distribution": "Debian", "distribution_major_version": "13", "distribution_version": "13.1",
                 "architecture": "x86_64", "kernel": "6.12.48+deb13-amd64"},
    "ubuntu2204": {"distribution": "Ubuntu", "distribution_major_version": "22", "distribution_version": "22.04",
                   "architecture": "x86_64", "kernel": "5.15.0-151-generic"},
    "ubuntu2404": {"distribution": "Ubuntu", "distribution_major_version": "24", "distribution_version": "24.04",
                   "architecture": "aarch64", "kernel": "6.8.0-85-generic-64k"},
    "rhel8": {"distribution": "RedHat", "distribution_major_version": "8", "distribution_version": "8.10",
              "architecture": "x86_64", "kernel": "4.18.0-553.el8_10.x86_64"},
    "rocky9": {"distribution": "Rocky", "distribution_major_version": "9", "distribution_version": "9.6",
               "architecture": "x86_64", "kernel": "5.14.0-570.el9.x86_64"},
    "rhel10": {"distribution": "RedHat", "distribution_major_version": "10", "distribution_version": "10.0",
               "architecture": "x86_64", "kernel": "6.12.0-55.el10.x86_64"},
}


def platform(name, **changes):
    """A copy of HOSTS[name]; kernel=None drops the running kernel (a platform known only from the inventory)."""
    out = dict(HOSTS[name], **changes)
    return {k: v for k, v in out.items() if v is not None}


def gpus(*archs, nvswitch=False):
    return {"nvswitch": nvswitch, "in_container": False,
            "gpus": [{"name": "GPU %s" % a, "architecture": a} for a in archs]}

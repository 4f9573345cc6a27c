"""The instances a host has a config for and the inventory no longer lists."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter.vllm import vllm_stale_instances
from ansible_collections.onprem.llm.plugins.module_utils.vllm.prune import stale_instances

DIR = "/etc/onprem-llm/vllm/"


def test_a_config_not_listed_is_stale_and_the_listed_ones_stay():
    paths = [DIR + f for f in ("tiny.yaml", "tiny.env", "old.yaml", "old.env", "big.yaml", "big.env")]
    assert stale_instances(paths, ["tiny", "big"]) == ["old"]


def test_only_instance_configs_count():
    # The role keeps other files there: the pip CA bundle, the Ray cluster's token.
    paths = [DIR + f for f in ("pip-ca-bundle.pem", "ray-auth-token.env", "orphan.env", ".yaml")]
    assert stale_instances(paths, []) == []


def test_ray_instances_are_wanted_too_and_the_result_is_sorted():
    paths = [DIR + f for f in ("zeta.yaml", "alpha.yaml", "ray70b.yaml")]
    assert stale_instances(paths, ["ray70b"]) == ["alpha", "zeta"]


def test_the_filter_refuses_what_is_not_a_list():
    with pytest.raises(AnsibleFilterError, match="two lists"):
        vllm_stale_instances(DIR + "a.yaml", ["a"])
    assert vllm_stale_instances([DIR + "a.yaml"], []) == ["a"]

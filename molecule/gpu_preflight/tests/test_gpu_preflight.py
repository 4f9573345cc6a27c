"""What gpu_preflight detected on each GPU shape, checked against the double's own profile."""

import json

import pytest

DOUBLE = "/usr/share/onprem-llm-double"


@pytest.fixture(scope="module")
def facts(host):
    return json.loads(host.file("/etc/onprem-preflight-facts.json").content_string)


@pytest.fixture(scope="module")
def profile(host):
    return json.loads(host.file(f"{DOUBLE}/profile.json").content_string)


def test_count_state_and_source_match_the_profile(facts, profile):
    expect = profile["expect"]
    assert facts["count"] == expect["count"]
    assert facts["state"] == expect["state"]
    assert facts["source"] == expect["source"]
    assert len(facts["gpus"]) == expect["count"]
    assert facts["nvswitch"] == expect.get("nvswitch", False)
    assert facts["in_container"] is True

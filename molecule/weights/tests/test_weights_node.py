"""The serving node pulled every model from the mirror, over plain HTTP, with no Hub client."""

import json

testinfra_hosts = ["w-node1"]


def test_node_fetched_from_the_mirror(host):
    models = json.loads(host.file("/etc/onprem-models-test.json").content_string)
    assert {m["source"] for m in models.values()} == {"http"}
    # source http needs no Hub client: nothing was installed for it
    assert not host.file("/opt/onprem-llm/hf-venv").exists

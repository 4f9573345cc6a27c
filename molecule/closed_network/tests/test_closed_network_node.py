"""The vLLM node: serving the tiny model it got from the bundle."""

import json
import shlex

testinfra_hosts = ["c-cpu1"]


def test_vllm_answers_a_chat_completion(host):
    body = {"model": "tiny-llama", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 4}
    out = host.check_output(" ".join(shlex.quote(a) for a in [
        "curl", "-sS", "-m", "120", "-H", "Content-Type: application/json", "-d", json.dumps(body),
        "http://127.0.0.1:8000/v1/chat/completions"]))
    answer = json.loads(out)
    assert answer["model"] == "tiny-llama"
    assert answer["choices"][0]["message"]["role"] == "assistant"
    assert answer["usage"]["completion_tokens"] > 0


def test_model_came_from_the_bundle(host):
    staged = host.file("/srv/models/tiny-llama")
    assert staged.is_symlink
    assert host.file("/srv/models/tiny-llama/model.safetensors").exists


def test_vllm_installed_from_the_bundle_wheels(host):
    conf = host.file("/etc/pip.conf").content_string
    assert "trusted-host = c-mirror1" in conf
    assert host.file("/opt/onprem-llm/vllm/current").linked_to == "/opt/onprem-llm/vllm/0.32.0-cpu"

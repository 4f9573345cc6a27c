"""Action plugin onprem.llm.inventory_check: leaf-by-leaf templating and the real catalogue files."""

from __future__ import annotations

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.onprem.llm.plugins.action.inventory_check import ROOT, load_catalogue, resolve


def _templar(**variables):
    return Templar(loader=DataLoader(), variables=variables)


def test_undefined_vault_variable_is_reported_at_its_path():
    issues = []
    value = [{"client": "ops", "key": trust_as_template("{{ vault_gateway_key_ops }}")},
             {"client": "ci", "key": trust_as_template("{{ vault_gateway_key_ci }}")}]
    resolved = resolve(_templar(vault_gateway_key_ci="s3cret"), value, "gateway_api_keys", issues)
    assert [issue.sentence() for issue in issues] == [
        "gateway_api_keys[0].key: undefined variable vault_gateway_key_ops; define it in the vault"]
    assert resolved == [{"client": "ops", "key": None}, {"client": "ci", "key": "s3cret"}]


def test_templates_resolve_to_native_types():
    issues = []
    resolved = resolve(_templar(base=8000), {"port": trust_as_template("{{ base + 1 }}"), "on": True}, "x", issues)
    assert resolved == {"port": 8001, "on": True} and issues == []


def test_templates_that_need_facts_are_left_for_later():
    issues = []
    assert resolve(_templar(), trust_as_template("{{ ansible_facts.onprem_gpu.count }}"), "x", issues) is None
    assert issues == []


def test_other_template_errors_name_the_variable():
    issues = []
    resolve(_templar(), trust_as_template("{{ 1 | no_such_filter_xyz }}"), "vllm_python", issues)
    assert len(issues) == 1 and issues[0].sentence().startswith("vllm_python: cannot be templated (")


def test_catalogue_reads_every_role_and_the_data_file():
    catalogue = load_catalogue(ROOT)
    assert catalogue.spec("vllm_instances")["_role"] == "vllm"
    assert catalogue.spec("gpu_preflight_min_gpus")["type"] == "int"
    assert "onprem_" in catalogue.prefixes


class _Self(object):
    """What ActionModule._values uses of the action: a templar over the task's variables."""

    def __init__(self, **variables):
        self._templar = _templar(**variables)


def test_values_mode_checks_the_roles_own_variables_as_the_role_sees_them():
    from ansible_collections.onprem.llm.plugins.action.inventory_check import ActionModule

    catalogue = load_catalogue(ROOT)
    task_vars = {"inventory_hostname": "n1", "vllm_prefix": "opt/vllm", "ollama_version": "latest",
                 "vllm_instances": [{"name": "a b", "port": trust_as_template("{{ base - 8000 }}")}], "base": 8000}
    problems = ActionModule._values(_Self(**task_vars), catalogue, {"roles": ["vllm"]}, task_vars)
    assert problems == [
        "n1: vllm_instances[0] (a b).name must be 1-64 characters of letters, digits, '_', '.', '-', starting with a "
        "letter or digit, without '..' (it becomes a systemd unit name, a file name and part of a URL), got 'a b'; "
        "fix the value",
        "n1: vllm_instances[0] (a b).port must be a TCP port from 1 to 65535, got 0; fix the value",
        "n1: vllm_prefix must be an absolute, normalised path (starting with '/', no '..' or '//'), got 'opt/vllm'; "
        "fix the value",
    ]
    # ollama_version belongs to another role: the vllm role leaves it to the ollama role's own guard.
    assert ActionModule._values(_Self(), catalogue, {"roles": ["nope"]}, {"inventory_hostname": "n1"}) == [
        "n1: roles nope are not roles of onprem.llm"]


def test_values_mode_checks_the_collection_settings_too():
    """onprem_gpu_sysfs_path is read by every role that detects GPUs: its rule runs in each role's guard."""
    from ansible_collections.onprem.llm.plugins.action.inventory_check import ActionModule

    catalogue = load_catalogue(ROOT)
    task_vars = {"inventory_hostname": "n1", "onprem_gpu_sysfs_path": "sys", "onprem_gpu_procfs_path": "/proc"}
    assert ActionModule._values(_Self(**task_vars), catalogue, {"roles": ["cuda"]}, task_vars) == [
        "n1: onprem_gpu_sysfs_path must be an absolute, normalised path (starting with '/', no '..' or '//'), "
        "got 'sys'; fix the value"]
    task_vars["onprem_gpu_sysfs_path"] = "/sys"
    assert ActionModule._values(_Self(**task_vars), catalogue, {"roles": ["cuda"]}, task_vars) == []


def test_values_mode_names_a_renamed_setting_the_role_would_ignore():
    from ansible_collections.onprem.llm.plugins.action.inventory_check import ActionModule

    catalogue = load_catalogue(ROOT)
    task_vars = {"inventory_hostname": "n1", "egress_bundle_port": 8089, "cuda_sysfs_path": "/sys"}
    assert ActionModule._values(_Self(**task_vars), catalogue, {"roles": ["cuda"]}, task_vars) == [
        "n1: cuda_sysfs_path was renamed to onprem_gpu_sysfs_path in onprem.llm 0.2.0; rename it in the inventory",
        "n1: egress_bundle_port was renamed to closed_network_bundle_port in onprem.llm 0.2.0; rename it in the "
        "inventory"]

# Mitogen for Ansible's linear strategy, for Molecule's runs (molecule/default/config.yml sets
# `strategy: mitogen_linear` with this directory in `strategy_plugins`). Mitogen's own plugin
# directory lies in the tools venv's site-packages, whose path depends on the interpreter, so this
# file names the strategy from the installed package instead (requirements/tools.txt pins it).
# Mitogen keeps one Python per node for the whole run instead of a fresh one per task: 30 tasks on
# one node took 2.6 s of CPU instead of 6.4 s (molecule/default/README.md).
from __future__ import annotations

DOCUMENTATION = """
    name: mitogen_linear
    short_description: Ansible's linear strategy, run over Mitogen (test harness only)
    description:
      - The linear strategy with Mitogen for Ansible's connections (the mitogen package).
      - Async tasks run on Ansible's own path (async_wrapper) over Mitogen's connection.
"""

import ansible.collections.list
import ansible.plugins.action
import ansible.plugins.loader
import ansible_mitogen.affinity
import ansible_mitogen.loaders
import ansible_mitogen.mixins
import ansible_mitogen.planner
import ansible_mitogen.strategy

_Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


# Mitogen lists every installed collection's directory for each module of a collection it runs (the
# first run of each module in a worker process, and Ansible forks a worker per task and host): the
# walk imports every collection package and parses its meta/runtime.yml, about 90 with the
# `ansible` package, 0.25 s of CPU each time (cProfile over the workers of molecule/gpu_preflight:
# 81 walks, 20 s of their 85 s). The directories do not change during a run, so the strategy lists
# them once, before the first worker forks, and every worker reuses that list.
_collection_dirs = None
_mitogen_load_collections = ansible_mitogen.planner._load_collections


def _load_collections(invocation):
    if _collection_dirs is None:
        return _mitogen_load_collections(invocation)
    invocation._extra_sys_paths.update(_collection_dirs)
    return None


ansible_mitogen.planner._load_collections = _load_collections


# The same holds for plugins: each worker imports the action plugin of its task and, on its first
# template, every file of ansible.builtin's filters and tests and of this collection's filters
# (cProfile: 15 of the 85 s). Loaded once here, before the first fork, every worker inherits them.
def _load_plugins_before_forking():
    loaders = ansible.plugins.loader
    for jinja_loader in (loaders.filter_loader, loaders.test_loader):
        for _plugin in jinja_loader.all():
            pass
    # A name no file defines: the loader imports every filter file of the collection looking for it.
    loaders.filter_loader.get_with_context("onprem.llm.not_a_filter_loads_them_all")
    for _plugin in loaders.action_loader.all(class_only=True):
        pass
    loaders.action_loader.get_with_context("onprem.llm.inventory_check", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
    """Linear, over Mitogen's connections."""

    def run(self, iterator, play_context):
        global _collection_dirs
        if _collection_dirs is None:
            _collection_dirs = [path.decode("utf-8") for path in ansible.collections.list.list_collection_dirs()]
            _load_plugins_before_forking()
        return super().run(iterator, play_context)


# Mitogen pins its processes to CPUs. Below 4 CPUs it keeps CPU 0 for its multiplexer and puts the
# playbook, its workers and every process they start (podman exec, and through it the Python on the
# node and what the modules run) on the remaining CPUs: on the 2-core CI machine, all of them on
# CPU 1, while CPU 0 stood mostly idle (/proc/stat: CPU 0 about 90 % idle, CPU 1 busy, with three
# scenarios running). Its policy with no pinning leaves placement to the kernel's scheduler.
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()


# Async tasks (`async:`) of modules that import a collection's module_utils never finish under
# Mitogen: its detached job process waits forever on an import from the controller (a Python
# stack dump of the job showed it blocked importing `ansible_collections`). Async tasks therefore
# take Ansible's own path - AnsiballZ and async_wrapper, run over Mitogen's connection - as they do
# without Mitogen; every other task keeps Mitogen's.
_mitogen_execute_module = ansible_mitogen.mixins.ActionModuleMixin._execute_module


def _execute_module(self, *args, **kwargs):
    if kwargs.get("wrap_async"):
        return ansible.plugins.action.ActionBase._execute_module(self, *args, **kwargs)
    return _mitogen_execute_module(self, *args, **kwargs)


def _is_pipelining_enabled(self, module_style, wrap_async=False):
    # Asked only on Ansible's own path, which only async tasks take: never pipelined.
    return False


ansible_mitogen.mixins.ActionModuleMixin._execute_module = _execute_module
ansible_mitogen.mixins.ActionModuleMixin._is_pipelining_enabled = _is_pipelining_enabled
# Mitogen turns AnsiballZ off (it raises here); Ansible's async path builds the job's module with it.
ansible_mitogen.mixins.ActionModuleMixin._configure_module = ansible.plugins.action.ActionBase._configure_module

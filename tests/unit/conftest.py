"""Make the checkout importable as ``ansible_collections.onprem.llm`` for plain pytest.

collections/ansible_collections/onprem/llm is a symlink to the repository root, so putting
``collections/`` on sys.path lets tests import module_utils and modules exactly as Ansible does.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))

FIXTURES = ROOT / "tests" / "fixtures"


import pytest  # noqa: E402  (after the sys.path set-up above on purpose)


@pytest.fixture
def ollama_double(tmp_path):
    """A running ollama double (tests/doubles/ollama_double) with one model, tiny:latest: its URL."""
    from ollama_double_helper import start_double

    proc, url = start_double(tmp_path, OLLAMA_NUM_PARALLEL="4")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(autouse=True)
def _fresh_module_warnings(monkeypatch):
    """Give every test the warning behaviour a module has on a target host.

    ansible-core keeps module warnings in process-wide dicts that de-duplicate by text, and once any
    controller code is imported (a filter test does) it sends them to Display instead of the result.
    """
    from ansible.module_utils import _internal
    from ansible.module_utils.common import warnings as module_warnings

    monkeypatch.setattr(_internal, "is_controller", False)
    module_warnings._global_warnings.clear()
    module_warnings._global_deprecations.clear()
    yield

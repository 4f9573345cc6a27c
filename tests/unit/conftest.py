"""Make the checkout importable as ``ansible_collections.onprem.llm`` for plain pytest.

collections/ansible_collections/onprem/llm is a symlink to the repository root, so putting
``collections/`` on sys.path lets tests import module_utils and modules exactly as Ansible does.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))

FIXTURES = ROOT / "tests" / "fixtures"

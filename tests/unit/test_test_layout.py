"""Tests sit where a maintainer looks for them: a test file per module_utils module (named after it,
in the mirrored folder) and per module, as docs/development.md says."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UTILS = ROOT / "plugins" / "module_utils"
UNIT = ROOT / "tests" / "unit" / "plugins"
# Modules whose tests are elsewhere, and where: they act on systemd units, which the Molecule
# scenarios have and this machine's unit tests do not (their logic is module_utils, tested here).
MODULES_TESTED_ELSEWHERE = {
    "inventory_check": "tests/unit/plugins/action/test_inventory_check.py (it is an action plugin's stub)",
    "service_stale": "module_utils/service_stale.py here; the module by the vllm, ollama and gateway roles in every "
                     "scenario that serves, and its restarts in molecule/ollama and molecule/closed_network",
    "service_wait": "module_utils/service_wait.py here; the module by the vllm, ollama and monitoring roles in every "
                    "scenario that serves",
}


def test_every_module_utils_module_has_its_test_file():
    missing = []
    for path in sorted(UTILS.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        folder = UNIT / "module_utils" / path.parent.relative_to(UTILS)
        if not list(folder.glob("test_*%s*.py" % path.stem)):
            missing.append(str(path.relative_to(ROOT)))
    assert missing == []


def test_every_module_has_its_test_file():
    missing = [path.stem for path in sorted((ROOT / "plugins" / "modules").glob("*.py"))
               if not list((UNIT / "modules").glob("test_%s*.py" % path.stem))
               and path.stem not in MODULES_TESTED_ELSEWHERE]
    assert missing == []


def test_test_file_names_are_unique():
    # pytest imports test files by their base name (no __init__.py here): two of one name break collection.
    names = [path.name for path in (ROOT / "tests").rglob("test_*.py")]
    assert sorted(name for name in set(names) if names.count(name) > 1) == []

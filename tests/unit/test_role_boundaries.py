"""No role reads another role's files: shared data lives in data/, other roles' defaults come through
lookup('onprem.llm.role_defaults'), and the shared tasks through onprem.llm._common's entry points
(GPU detection among them: one call of onprem.llm.gpu_facts for every role)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# role_path followed by a way up: allowed only to the collection's data/ directory.
UP = re.compile(r"role_path\s*(?:\}\}\s*|~\s*')(/\.\.[^'\"\s]*)")


def test_roles_go_up_only_to_the_collections_data():
    found = []
    for path in sorted(ROOT.glob("roles/*/**/*.yml")) + sorted(ROOT.glob("roles/*/**/*.j2")):
        for match in UP.finditer(path.read_text(encoding="utf-8")):
            if not match.group(1).startswith("/../../data/"):
                found.append("%s: %s" % (path.relative_to(ROOT), match.group(0)))
    assert found == []


def test_the_check_sees_a_sibling_reach():
    samples = ["file: \"{{ role_path }}/../ollama/vars/main.yml\"",
               "lookup('ansible.builtin.fileglob', role_path ~ '/../vllm/files/locks/*.txt')"]
    assert [UP.search(s).group(1) for s in samples] == ["/../ollama/vars/main.yml", "/../vllm/files/locks/*.txt"]
    assert UP.search("role_path ~ '/../../data/vllm-locks/*.txt'").group(1).startswith("/../../data/")


def test_gpu_detection_has_one_entry_point():
    callers = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("roles/*/tasks/*.yml")
                     if re.search(r"^\s*onprem\.llm\.gpu_facts:", p.read_text(encoding="utf-8"), re.M))
    assert callers == ["roles/_common/tasks/gpu_facts.yml"]

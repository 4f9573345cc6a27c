"""The docs hold together: every relative link in the README and docs/ resolves, and every page
translated into Korean (docs/ko/) exists and names the same variables as its English page, so the
two cannot drift apart silently."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *ROOT.glob("README.*.md"), *(ROOT / "docs").rglob("*.md"),
                *ROOT.glob("roles/*/README.md")])
# English page -> its Korean page. Add a page here when it is translated.
TRANSLATED = [
    "benchmark.md",
    "closed-network.md",
    "evaluate.md",
    "execution-environment.md",
    "gateway.md",
    "gguf-and-quantization.md",
    "lifecycle.md",
    "model-selection.md",
    "monitoring.md",
    "nvidia-driver.md",
    "ollama.md",
    "preflight.md",
    "upgrade.md",
    "vllm-troubleshooting.md",
    "vllm.md",
    "weights.md",
]

LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\n]+)`")
WORD = re.compile(r"[a-z][a-z0-9_]*[a-z0-9]")


def _variables():
    names = set()
    for spec in ROOT.glob("roles/*/meta/argument_specs.yml"):
        for entry in (yaml.safe_load(spec.read_text()) or {}).get("argument_specs", {}).values():
            names.update((entry or {}).get("options", {}))
    return names


VARIABLES = _variables()


def _named_variables(path):
    found = set()
    for span in CODE.findall(path.read_text()):
        found.update(word for word in WORD.findall(span) if word in VARIABLES)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        if not (page.parent / path).exists():
            broken.append(target)
    assert not broken, "%s links to missing files: %s" % (page.relative_to(ROOT), broken)


@pytest.mark.parametrize("name", TRANSLATED)
def test_a_translated_page_names_the_same_variables(name):
    english, korean = ROOT / "docs" / name, ROOT / "docs" / "ko" / name
    assert korean.exists(), "docs/%s is listed as translated but docs/ko/%s is missing" % (name, name)
    only_en = _named_variables(english) - _named_variables(korean)
    only_ko = _named_variables(korean) - _named_variables(english)
    assert not only_en and not only_ko, "only in English: %s; only in Korean: %s" % (sorted(only_en), sorted(only_ko))


def test_every_korean_page_is_listed_as_translated():
    assert sorted(p.name for p in (ROOT / "docs" / "ko").glob("*.md")) == sorted(TRANSLATED)


def test_the_variables_are_known():
    assert {"vllm_instances", "nvidia_driver_branch", "onprem_closed_network"} <= VARIABLES


@pytest.mark.parametrize("role", sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir()))
def test_every_role_has_a_readme_naming_its_entry_points_and_doc(role):
    readme = ROOT / "roles" / role / "README.md"
    assert readme.exists(), "roles/%s/README.md is missing" % role
    text = readme.read_text()
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for entry in specs:
        assert ("`tasks_from: %s`" % entry if entry != "main" else "`main`") in text, (role, entry)
    assert "meta/argument_specs.yml" in text
    assert re.search(r"\]\(\.\./\.\./docs/[a-z0-9-]+\.md\)", text), role


@pytest.mark.parametrize("readme", ["README.md", "README.ko.md"])
def test_the_readme_layout_names_paths_that_exist(readme):
    sections = (ROOT / readme).read_text(encoding="utf-8").split("\n## ")
    (layout,) = [section for section in sections if section.startswith(("Layout", "구성"))]
    paths = [path for path in re.findall(r"`([A-Za-z0-9_./<>-]+)`", layout) if "/" in path or "." in path]
    assert len(paths) >= 15, paths
    for path in paths:
        concrete = path.split("<")[0].rstrip("/")
        assert (ROOT / concrete).exists(), "%s names %s, which does not exist" % (readme, path)

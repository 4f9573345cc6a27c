"""Every role's public interface is declared once and completely.

For each ``roles/<role>/``: the options of ``meta/argument_specs.yml`` (entry point ``main``) are
exactly the keys of ``defaults/main.yml`` (so no variable is read but undocumented, nor documented
but never read), every option - suboptions included - has a description and a type (lists also an
element type), names carry the role prefix, and a default stated in the spec equals the one in
``defaults/main.yml``. The private role ``_common`` declares the collection-wide ``onprem_*``
variables that way, which every role shares through its dependency on it.
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").glob("*") if p.is_dir())


def _load(path):
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream) or {}


def _option_problems(options, where):
    problems = []
    for name, spec in (options or {}).items():
        spec = spec or {}
        description = spec.get("description")
        if not description or (isinstance(description, list) and not all(description)):
            problems.append(f"{where}{name}: no description")
        if "type" not in spec:
            problems.append(f"{where}{name}: no type")
        elif spec["type"] == "list" and "elements" not in spec:
            problems.append(f"{where}{name}: list without elements")
        problems += _option_problems(spec.get("options"), f"{where}{name}.")
    return problems


def role_problems(role_dir):
    """Return human-readable problems with one role's interface (empty list: fine)."""
    role = role_dir.name
    specs_file = role_dir / "meta" / "argument_specs.yml"
    defaults_file = role_dir / "defaults" / "main.yml"
    if not specs_file.is_file():
        return [f"{role}: no meta/argument_specs.yml"]
    options = (_load(specs_file).get("argument_specs") or {}).get("main", {}).get("options") or {}
    defaults = _load(defaults_file) if defaults_file.is_file() else {}

    problems = [f"{role}: {n} is in defaults/main.yml but not in argument_specs" for n in sorted(set(defaults) - set(options))]
    problems += [f"{role}: {n} is in argument_specs but not in defaults/main.yml" for n in sorted(set(options) - set(defaults))]
    prefix = "onprem_" if role.startswith("_") else f"{role}_"
    problems += [f"{role}: {n} lacks the role prefix {prefix}" for n in sorted(options) if not n.startswith(prefix)]
    problems += _option_problems(options, f"{role}: ")
    for name in sorted(set(options) & set(defaults)):
        spec = options[name] or {}
        if "default" in spec and spec["default"] != defaults[name]:
            problems.append(f"{role}: {name} default {spec['default']!r} != defaults/main.yml {defaults[name]!r}")
    return problems


@pytest.mark.parametrize("role_dir", ROLES, ids=[r.name for r in ROLES])
def test_role_interface_is_declared(role_dir):
    problems = role_problems(role_dir)
    assert not problems, "\n".join(problems)


def _make_role(tmp_path, defaults, specs):
    role = tmp_path / "demo"
    (role / "tasks").mkdir(parents=True)
    (role / "defaults").mkdir()
    (role / "meta").mkdir()
    (role / "defaults" / "main.yml").write_text(yaml.safe_dump(defaults))
    (role / "meta" / "argument_specs.yml").write_text(yaml.safe_dump({"argument_specs": {"main": {"options": specs}}}))
    return role


def test_checker_accepts_a_complete_role(tmp_path):
    role = _make_role(
        tmp_path,
        {"demo_port": 80, "demo_hosts": []},
        {
            "demo_port": {"description": "Port.", "type": "int", "default": 80},
            "demo_hosts": {"description": ["Hosts."], "type": "list", "elements": "str", "default": []},
        },
    )
    assert role_problems(role) == []


def test_checker_reports_drift_and_gaps(tmp_path):
    role = _make_role(
        tmp_path,
        {"demo_port": 80, "demo_undocumented": 1, "demo_list": []},
        {
            "demo_port": {"type": "int", "default": 8080},
            "demo_list": {"description": "A list.", "type": "list"},
            "demo_unread": {"description": "Never in defaults.", "type": "str"},
            "other_name": {"description": "Wrong prefix.", "type": "dict", "options": {"x": {"description": "x"}}},
        },
    )
    problems = "\n".join(role_problems(role))
    for expected in (
        "demo_undocumented is in defaults/main.yml but not in argument_specs",
        "demo_unread is in argument_specs but not in defaults/main.yml",
        "other_name lacks the role prefix demo_",
        "demo_port: no description",
        "demo_list: list without elements",
        "other_name.x: no type",
        "demo_port default 8080 != defaults/main.yml 80",
    ):
        assert expected in problems


def test_checker_requires_argument_specs(tmp_path):
    (tmp_path / "bare" / "tasks").mkdir(parents=True)
    assert role_problems(tmp_path / "bare") == ["bare: no meta/argument_specs.yml"]


def test_every_public_role_depends_on_the_collection_variables():
    """Its defaults are then every role's: no role reads an onprem_* setting with a default of its own."""
    for role_dir in ROLES:
        if role_dir.name.startswith("_"):
            continue
        dependencies = _load(role_dir / "meta" / "main.yml").get("dependencies") or []
        names = [d.get("role") if isinstance(d, dict) else d for d in dependencies]
        assert names == ["onprem.llm._common"], f"{role_dir.name}: dependencies {names}"

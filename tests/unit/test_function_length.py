"""No function in plugins/ runs past about 60 lines without a reason written above it.

A long function is allowed where splitting it would hide its order (a decision read top to bottom,
a file format read in file order); the reason is the comment ``# Long on purpose: ...`` directly
above the ``def`` (or its decorators).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 60
MARK = "# Long on purpose: "


def long_functions_without_a_reason(source):
    lines = source.split("\n")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > LIMIT:
            first = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
            above = first - 1
            while above >= 0 and lines[above].strip().startswith("#") and not lines[above].strip().startswith(MARK):
                above -= 1
            if above < 0 or not lines[above].strip().startswith(MARK):
                found.append((node.name, node.lineno, node.end_lineno - node.lineno + 1))
    return found


def test_long_functions_say_why():
    missing = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for name, line, length in long_functions_without_a_reason(path.read_text()):
            missing.append("%s:%d %s (%d lines)" % (path.relative_to(ROOT), line, name, length))
    assert missing == []


def test_a_long_function_without_the_comment_is_found():
    body = "\n".join("    x = %d" % i for i in range(LIMIT))
    assert long_functions_without_a_reason("def f():\n%s\n" % body) == [("f", 1, LIMIT + 1)]
    assert long_functions_without_a_reason("# Long on purpose: a table.\n# more\ndef f():\n%s\n" % body) == []
    assert long_functions_without_a_reason("def f():\n    return 1\n") == []

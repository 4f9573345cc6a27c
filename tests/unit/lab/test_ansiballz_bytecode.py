"""tests/lab/node-python/onprem_ansiballz_bytecode.py: the node images' cache for Ansible payloads.

Each case runs a fresh interpreter (the hook patches zipimport for the whole process) that imports a
module from a zip the way AnsiballZ does, with the cache in a temporary directory.
"""

import json
import subprocess
import sys
import zipfile
import zipimport
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HOOK = ROOT / "tests" / "lab" / "node-python" / "onprem_ansiballz_bytecode.py"

SOURCE = "def where():\n    return where.__code__.co_filename\n\n\nclass Inner:\n    def f(self):\n        return 1\n"

PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("onprem_ansiballz_bytecode", sys.argv[1])
hook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hook)
hook.CACHE = sys.argv[2]
if sys.argv[4] == "no-compile":
    def refuse(pathname, source):
        raise AssertionError("compiled " + pathname)
    hook._compile_source = refuse
sys.path.insert(0, sys.argv[3])
import demo_mod
print(json.dumps({"file": demo_mod.__file__, "code": demo_mod.where(), "inner": demo_mod.Inner().f()}))
"""


def make_zip(directory, name):
    directory.mkdir(parents=True)
    path = directory / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo_mod.py", SOURCE)
    return path


def probe(archive, cache, mode="compile"):
    # -S: no site, so the venv's own copy of the hook (make venv) is not loaded first.
    result = subprocess.run([sys.executable, "-S", "-c", PROBE, str(HOOK), str(cache), str(archive), mode],
                            capture_output=True, text=True, check=False)
    return result


def test_a_payload_is_compiled_once_and_then_read_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    first = make_zip(tmp_path / "ansible_stat_payload_a", "ansible_stat_payload.zip")
    out = probe(first, cache)
    assert out.returncode == 0, out.stderr
    assert len([p for p in cache.rglob("*") if p.is_file()]) == 1

    # Another run of the same module: a new temporary zip, same sources. It must not compile.
    second = make_zip(tmp_path / "ansible_stat_payload_b", "ansible_stat_payload.zip")
    out = probe(second, cache, "no-compile")
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    # The code reads as coming from this run's zip, nested code objects included.
    assert seen["file"] == str(second / "demo_mod.py")
    assert seen["code"] == str(second / "demo_mod.py")
    assert seen["inner"] == 1


def test_other_archives_are_compiled_as_before_and_not_cached(tmp_path):
    cache = tmp_path / "cache"
    archive = make_zip(tmp_path / "plain", "library.zip")
    out = probe(archive, cache)
    assert out.returncode == 0, out.stderr
    assert not cache.exists()


def test_a_damaged_cache_entry_is_compiled_again(tmp_path):
    cache = tmp_path / "cache"
    archive = make_zip(tmp_path / "ansible_x_payload_1", "ansible_x_payload.zip")
    assert probe(archive, cache).returncode == 0
    (entry,) = [p for p in cache.rglob("*") if p.is_file()]
    entry.write_bytes(b"not marshal data")
    out = probe(archive, cache)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["inner"] == 1
    assert entry.read_bytes() != b"not marshal data"


def test_is_payload_names_only_ansiballz_archives():
    spec_globals = {}
    original = zipimport._compile_source
    try:
        exec(compile(HOOK.read_text(), str(HOOK), "exec"), spec_globals)  # noqa: S102 - our own file
    finally:
        zipimport._compile_source = original  # loading the hook patches zipimport; not in pytest's process
    is_payload = spec_globals["is_payload"]
    assert is_payload("/root/.ansible/tmp/ansible_stat_payload_x1/ansible_stat_payload.zip/ansible/module_utils/basic.py")
    assert not is_payload("/usr/lib/python3.11/site-packages/foo.zip/bar.py")
    assert not is_payload("/tmp/ansible_stat_payload.py")

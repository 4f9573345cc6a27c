"""A bytecode cache for the module payloads Ansible sends to a lab or Molecule node.

Installed in the node images only (tests/lab/build-image.sh puts it in dist-packages with a .pth
line that imports it), never by the collection. Why: AnsiballZ runs every task's module from a
fresh zip (``ansible_<module>_payload.zip``), and zipimport compiles each source file in it again
because it never writes bytecode. That compile was about 0.2 s of CPU per task on the 2-core test
machines, more than half of an Ansible step. This keeps the compiled code of those payloads under
CACHE, keyed by the source's SHA-256 and the interpreter's magic number, as Python's own
__pycache__ does for files on disk. Other archives are compiled as before, and code taken from the
cache gets the payload's own path, so tracebacks and ``__file__`` read as without the cache.
"""

import zipimport

CACHE = "/var/cache/onprem-ansiballz-bytecode"

_compile_source = getattr(zipimport, "_compile_source", None)


def is_payload(pathname):
    """Whether a path inside a zip is a file of an Ansible module payload."""
    archive, sep, _inner = pathname.partition(".zip/")
    name = archive.rsplit("/", 1)[-1]
    return bool(sep) and name.startswith("ansible_") and name.endswith("_payload")


def with_filename(code, filename):
    """The code object and those nested in it, with co_filename set to filename."""
    consts = tuple(with_filename(c, filename) if isinstance(c, type(code)) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def cached_compile_source(pathname, source):
    """zipimport's compile step, through the cache for Ansible payloads."""
    if not is_payload(pathname):
        return _compile_source(pathname, source)
    # Imported here: a .pth line runs at every interpreter start on the node.
    import hashlib
    import importlib.util
    import marshal
    import os

    key = hashlib.sha256(importlib.util.MAGIC_NUMBER + source).hexdigest()
    path = os.path.join(CACHE, key[:2], key)
    try:
        with open(path, "rb") as handle:
            return with_filename(marshal.loads(handle.read()), pathname)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = _compile_source(pathname, source)
    if code is not None:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = "%s.%d.tmp" % (path, os.getpid())
            with open(tmp, "wb") as handle:
                handle.write(marshal.dumps(code))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or foreign cache only costs the compile
    return code


if _compile_source is not None:
    zipimport._compile_source = cached_compile_source

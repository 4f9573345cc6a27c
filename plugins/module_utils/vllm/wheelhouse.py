# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one-archive copy of a controller wheelhouse (role onprem.llm.vllm, ``wheelhouse_copy.yml``).

Pure logic, no Ansible import. A flat wheelhouse directory travels as one tar packed on the
controller; its name carries a hash of the files' names and sizes, so every node and run reuses
one archive and a changed wheelhouse is packed anew.
"""

import hashlib
import os


def archive_plan(files, src, archive_dir):
    """{'names': [...], 'path': '<archive_dir>/<basename(src)>-<sha16>.tar'} for ``find`` results.

    ``files``: dicts with ``path`` and ``size`` (``ansible.builtin.find``'s ``files``). Raises
    ValueError for an empty wheelhouse or a relative ``archive_dir`` (the error names the variable).
    """
    if not os.path.isabs(archive_dir or ""):
        raise ValueError("vllm_wheelhouse_archive_dir must be an absolute path on the controller, got %r"
                         % (archive_dir,))
    entries = sorted((os.path.basename(f["path"]), int(f["size"])) for f in files or [])
    if not entries:
        raise ValueError("the wheelhouse %s holds no files" % src)
    key = hashlib.sha256(" ".join("%s:%d" % entry for entry in entries).encode("utf-8")).hexdigest()[:16]
    name = "%s-%s.tar" % (os.path.basename(src.rstrip("/")), key)
    return {"names": [entry[0] for entry in entries], "path": os.path.join(archive_dir.rstrip("/") or "/", name)}

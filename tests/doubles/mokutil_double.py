#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mokutil test double: installed as /usr/bin/mokutil on lab nodes, which have no UEFI firmware, to
stand for a machine whose firmware reports Secure Boot and keeps a machine-owner key (MOK) list.

Answers as mokutil 0.6.0 (Debian 12's) prints, from the state under $ONPREM_LLM_DOUBLE_DIR (default
/usr/share/onprem-llm-double)/mok/:
  --sb-state        "SecureBoot enabled" or "SecureBoot disabled" (the file sb_state; default disabled)
  --test-key FILE   "FILE is already enrolled", "FILE is already in the enrollment request" or
                    "FILE is not enrolled" (a certificate is known by its file's SHA-256)
  --import FILE     asks "input password: " and "input password again: " on standard input, as mokutil
                    does, and queues the certificate for the next boot (enroll/ pending/)
  --onprem-double-reboot-and-confirm
                    what only the console can do on a real machine: reboot and confirm the queued keys
                    in MokManager; they become enrolled
Standard library only.
"""

from __future__ import print_function

import hashlib
import os
import sys

DEFAULT_DIR = "/usr/share/onprem-llm-double"


def state_dir():
    return os.path.join(os.environ.get("ONPREM_LLM_DOUBLE_DIR", DEFAULT_DIR), "mok")


def _ids(name):
    path = os.path.join(state_dir(), name)
    try:
        return set(os.listdir(path))
    except OSError:
        return set()


def _key_id(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def sb_state():
    try:
        with open(os.path.join(state_dir(), "sb_state")) as handle:
            enabled = handle.read().strip() == "enabled"
    except (IOError, OSError):
        enabled = False
    print("SecureBoot enabled" if enabled else "SecureBoot disabled")
    return 0


def _key_or_none(path):
    """The certificate's id, or None after mokutil's message when it cannot be read."""
    try:
        return _key_id(path)
    except (IOError, OSError) as exc:
        print("Failed to open %s: %s" % (path, exc.strerror), file=sys.stderr)
        return None


def key_status(path):
    key = _key_or_none(path)
    if key is None:
        return 255
    if key in _ids("enrolled"):
        print("%s is already enrolled" % path)
    elif key in _ids("pending"):
        print("%s is already in the enrollment request" % path)
    else:
        print("%s is not enrolled" % path)
    return 0


def import_key(path):
    key = _key_or_none(path)
    if key is None:
        return 255
    if key in _ids("enrolled"):
        print("%s is already enrolled" % path)
        return 0
    first = _prompt("input password: ")
    if first is None or first != _prompt("input password again: "):
        print("Password doesn't match", file=sys.stderr)
        return 255
    pending = os.path.join(state_dir(), "pending")
    if not os.path.isdir(pending):
        os.makedirs(pending)
    open(os.path.join(pending, key), "w").close()
    return 0


def _prompt(text):
    sys.stdout.write(text)
    sys.stdout.flush()
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


def reboot_and_confirm():
    enrolled = os.path.join(state_dir(), "enrolled")
    if not os.path.isdir(enrolled):
        os.makedirs(enrolled)
    for key in _ids("pending"):
        os.rename(os.path.join(state_dir(), "pending", key), os.path.join(enrolled, key))
    return 0


def main(argv):
    if argv == ["--sb-state"]:
        return sb_state()
    if len(argv) == 2 and argv[0] in ("--test-key", "-t"):
        return key_status(argv[1])
    if len(argv) == 2 and argv[0] in ("--import", "-i"):
        return import_key(argv[1])
    if argv == ["--onprem-double-reboot-and-confirm"]:
        return reboot_and_confirm()
    print("mokutil double: unsupported arguments %s" % " ".join(argv), file=sys.stderr)
    return 255


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the monitoring role's collectors share: the Prometheus text format and the atomic write into
the node exporter's textfile directory. Installed beside each collector script, which imports it
(the script's directory is first on sys.path)."""

from __future__ import annotations

import os
import tempfile


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format(value):
    return ("%d" % value) if float(value).is_integer() else repr(float(value))


def exposition(metrics, samples, label_order=()):
    """metrics {name: (type, help)} and samples [(name, labels, value)] -> Prometheus text format,
    grouped by name in metrics' order; labels in label_order first, then sorted."""
    lines = []
    for name, (kind, help_text) in metrics.items():
        rows = [(labels, value) for sample_name, labels, value in samples if sample_name == name]
        if not rows:
            continue
        lines.append("# HELP %s %s" % (name, help_text))
        lines.append("# TYPE %s %s" % (name, kind))
        for labels, value in rows:
            names = [label for label in label_order if label in labels] + sorted(set(labels) - set(label_order))
            text = ",".join('%s="%s"' % (label, _escape(labels[label])) for label in names)
            lines.append("%s%s %s" % (name, "{%s}" % text if text else "", _format(value)))
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    """Replace path in one rename, so the node exporter never reads a half-written file."""
    handle, temporary = tempfile.mkstemp(prefix=".onprem_llm.", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise

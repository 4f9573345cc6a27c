# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Model weight files: safetensors and GGUF header readers, model directory checks, sha256 manifests.

Stdlib only (struct, json, hashlib): target nodes need neither the ``safetensors`` nor the ``gguf``
package, and validating a model reads headers only unless checksums are asked for.
"""

from __future__ import annotations


class WeightsError(Exception):
    """A model file or directory is unusable. ``str(err)`` names the file and the problem.

    ``problems`` holds every problem found when a check collects several (manifest verification);
    otherwise it is a one-item list with the message.
    """

    def __init__(self, message, problems=None):
        super().__init__(message)
        self.problems = list(problems) if problems else [message]

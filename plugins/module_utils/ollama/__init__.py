# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ollama: model names, digests, the HTTP API client (stdlib urllib) and the decisions
``onprem.llm.ollama_model`` takes. Pure functions are kept apart from I/O so they are unit-tested
without a server; ``client.py`` is the only part that talks HTTP.
"""

from __future__ import annotations


class OllamaError(Exception):
    """The server (or the way to it) said no. ``str(err)`` is the server's own text, verbatim.

    ``status`` is the HTTP status (None for stream errors and network failures); ``transient`` says
    whether retrying the same request may succeed (network errors, timeouts, 5xx without a
    permanent cause); ``kind`` is a short classification (see ``errors.classify``).
    """

    def __init__(self, message, status=None, transient=False, kind="server"):
        super().__init__(message)
        self.status = status
        self.transient = transient
        self.kind = kind

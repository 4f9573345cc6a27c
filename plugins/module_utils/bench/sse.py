# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-sent events as OpenAI-compatible servers stream them (vLLM, Ollama, nginx in between).

``SSEDecoder.feed(bytes)`` returns the complete events' ``data`` payloads in order, whatever the
chunking on the wire; ``chunk_fields`` reads one streamed completion chunk.
"""

from __future__ import annotations

import json


class SSEDecoder(object):
    """Incremental decoder: lines end in LF, CRLF or CR; an empty line ends an event."""

    def __init__(self):
        self._buf = b""
        self._data = []

    def feed(self, block):
        self._buf += block
        events = []
        while True:
            idx = -1
            for sep in (b"\n", b"\r"):
                pos = self._buf.find(sep)
                if pos != -1 and (idx == -1 or pos < idx):
                    idx = pos
            if idx == -1:
                break
            # A CR at the very end may be the first half of CRLF: wait for more bytes.
            if self._buf[idx:idx + 1] == b"\r" and idx == len(self._buf) - 1:
                break
            line = self._buf[:idx]
            skip = 2 if self._buf[idx:idx + 2] == b"\r\n" else 1
            self._buf = self._buf[idx + skip:]
            event = self._line(line.decode("utf-8", "replace"))
            if event is not None:
                events.append(event)
        return events

    def close(self):
        """Flush an event the stream ended without its blank line."""
        events = []
        if self._buf:
            event = self._line(self._buf.decode("utf-8", "replace"))
            self._buf = b""
            if event is not None:
                events.append(event)
        if self._data:
            events.append("\n".join(self._data))
            self._data = []
        return events

    def _line(self, line):
        if line == "":
            if not self._data:
                return None
            data = "\n".join(self._data)
            self._data = []
            return data
        if line.startswith(":"):
            return None
        field, _sep, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        return None


def chunk_fields(data):
    """One ``data:`` payload -> {done, text, usage, finish_reason, error}.

    ``text`` joins the content of every choice (chat ``delta.content`` / ``delta.reasoning_content``
    or completions ``text``); ``[DONE]`` gives done=True; an ``error`` object (vLLM sends one
    mid-stream) gives its message.
    """
    out = {"done": False, "text": "", "usage": None, "finish_reason": None, "error": None}
    if data.strip() == "[DONE]":
        out["done"] = True
        return out
    try:
        obj = json.loads(data)
    except ValueError:
        out["error"] = "unparsable stream chunk: %s" % data[:120]
        return out
    if not isinstance(obj, dict):
        out["error"] = "unexpected stream chunk: %s" % data[:120]
        return out
    if obj.get("error"):
        err = obj["error"]
        out["error"] = err.get("message") if isinstance(err, dict) else str(err)
        return out
    parts = []
    for choice in obj.get("choices") or []:
        delta = choice.get("delta")
        if isinstance(delta, dict):
            parts.append(delta.get("content") or delta.get("reasoning_content") or delta.get("reasoning") or "")
        elif choice.get("text"):
            parts.append(choice["text"])
        if choice.get("finish_reason"):
            out["finish_reason"] = choice["finish_reason"]
    out["text"] = "".join(parts)
    if isinstance(obj.get("usage"), dict):
        out["usage"] = obj["usage"]
    return out

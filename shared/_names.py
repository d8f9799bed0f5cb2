"""Azure function names for Socket.IO handlers: unique, valid, and readable where possible.

Azure function names must match ``^[a-zA-Z][a-zA-Z0-9_\\-]{0,127}$`` (and the host compares them
case-insensitively). A name is ``<hub>__<event>`` for the default namespace and ``<hub>__<ns>__<event>``
otherwise. A segment is kept verbatim only when it is plain ASCII letters and digits; anything else is
sanitised (runs of other characters -> ``_``) and the name gets ``-`` plus 12 hex digits of a SHA-256 over
the exact (hub, namespace, event) triple. Only hashed names contain ``-``, and verbatim segments never
contain ``_``, so two different triples cannot map to the same name (short of a 48-bit hash collision).
"""

from __future__ import annotations

import hashlib
import json
import re

NAME_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-]{0,127}\Z")  # \Z: "$" would let a trailing newline through
_CLEAN = re.compile(r"^[A-Za-z0-9]+\Z")
_INVALID_RUN = re.compile(r"[^A-Za-z0-9]+")
_HASH_CHARS = 12
_MAX = 128


def _segment(text: str) -> tuple[str, bool]:
    """(segment, lossless)."""
    if _CLEAN.match(text):
        return text, True
    return _INVALID_RUN.sub("_", text).strip("_") or "x", False


def function_name(hub: str, namespace: str, event: str) -> str:
    """The Azure function name of the handler for ``event`` on ``namespace`` of ``hub``.

    >>> function_name("chat", "/", "join")
    'chat__join'
    >>> function_name("chat", "/admin", "kick")
    'chat__admin__kick'
    >>> function_name("chat", "/", "chat message")
    'chat__chat_message-0dce084d2361'
    """
    parts = [_segment(hub)]
    if namespace != "/":
        parts.append(_segment(namespace[1:] if namespace.startswith("/") else namespace))
    parts.append(_segment(event))
    readable = "__".join(segment for segment, _ in parts)
    lossless = all(ok for _, ok in parts) and readable[0].isalpha() and len(readable) <= _MAX
    if lossless:
        return readable
    digest = hashlib.sha256(json.dumps([hub, namespace, event]).encode("utf-8")).hexdigest()[:_HASH_CHARS]
    if not readable[0].isalpha():
        readable = "f" + readable
    readable = readable[: _MAX - _HASH_CHARS - 1].rstrip("_")
    return f"{readable}-{digest}"

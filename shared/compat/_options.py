"""The constructor options of ``AsyncServer``/``Server``: which python-socketio options are refused (with the
reason and the alternative), which are accepted and ignored, and that nothing else is accepted."""

from __future__ import annotations

import json as stdlib_json
from typing import Any

from ._handlers import unsupported

# Engine.IO/transport options: in serverless mode the service owns the connections, so they are set on the
# Web PubSub for Socket.IO resource (or the client), not here. Accepted so that ported code imports unchanged.
_IGNORED_OPTIONS = frozenset(
    {
        "async_mode",
        "async_handlers",
        "logger",
        "engineio_logger",
        "ping_interval",
        "ping_timeout",
        "max_http_buffer_size",
        "allow_upgrades",
        "http_compression",
        "compression_threshold",
        "cookie",
        "cors_allowed_origins",
        "cors_credentials",
        "monitor_clients",
        "transports",
    }
)


def check_options(
    server: str,
    *,
    client_manager: Any,
    serializer: Any,
    json: Any,
    always_connect: bool,
    namespaces: Any,
    other_options: dict[str, Any],
) -> None:
    """Refuse what serverless mode cannot honour; ``server`` is the class name for the error message."""
    if client_manager is not None:
        raise unsupported(
            "client_manager",
            "Web PubSub for Socket.IO holds every connection and room, so there is no message queue to configure",
            "Drop the argument; to emit from other functions use `with sio.emitter(out): ...`.",
        )
    if serializer != "default":
        raise unsupported(
            f"serializer={serializer!r}",
            "the extension carries text JSON packets only (no msgpack, no binary)",
            "Use the default serializer.",
        )
    if json is not None and json is not stdlib_json:
        raise unsupported(
            "a custom json module",
            "actions are encoded by the Functions worker and the extension, not by this process",
            "Convert values to JSON-compatible types before emitting.",
        )
    if always_connect:
        raise unsupported(
            "always_connect=True",
            "the service answers the client's CONNECT only after the connect function returns",
            "Leave it False; refuse by returning False or raising ConnectionRefusedError.",
        )
    if namespaces == "*":
        raise unsupported(
            "namespaces='*'",
            "each trigger is bound to one namespace, so unknown namespaces cannot be accepted",
            "List the namespaces: namespaces=['/', '/chat'].",
        )
    unknown = sorted(set(other_options) - _IGNORED_OPTIONS)
    if unknown:
        raise TypeError(f"{server}() got unexpected keyword arguments: {', '.join(unknown)}.")

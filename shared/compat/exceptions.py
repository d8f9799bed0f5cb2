"""python-socketio's exception tree (``socketio.exceptions``), so ported code keeps its ``except`` clauses.

::

    SocketIOError
     ├── ConnectionError
     │    └── ConnectionRefusedError   raise in a connect handler to refuse the socket
     ├── TimeoutError
     ├── BadNamespaceError
     └── DisconnectedError

``UnsupportedError`` (``shared.UnsupportedError``, also a ``NotImplementedError``) is re-exported here: every
python-socketio call that serverless mode cannot provide raises it with the reason and the alternative.
"""

from __future__ import annotations

from typing import Any

from .._errors import UnsupportedError


class SocketIOError(Exception):
    pass


class ConnectionError(SocketIOError):  # noqa: A001 (python-socketio's name, shadowing the builtin on purpose)
    pass


class ConnectionRefusedError(ConnectionError):  # noqa: A001
    """Raise from a connect handler to refuse the connection (the builtin ``ConnectionRefusedError`` works too).

    ``ConnectionRefusedError(message, data)`` keeps python-socketio's ``error_args``, but serverless mode answers
    the service with a status code only (docs/protocol.md#return-values): the client's ``connect_error`` does not carry
    them.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.error_args: dict[str, Any] = {"message": str(args[0]) if args else "Connection rejected by server"}
        if len(args) == 2:
            self.error_args["data"] = args[1]
        elif len(args) > 2:
            self.error_args["data"] = args[1:]


class TimeoutError(SocketIOError):  # noqa: A001
    pass


class BadNamespaceError(SocketIOError):
    pass


class DisconnectedError(SocketIOError):
    pass


__all__ = [
    "BadNamespaceError",
    "ConnectionError",
    "ConnectionRefusedError",
    "DisconnectedError",
    "SocketIOError",
    "TimeoutError",
    "UnsupportedError",
]

"""sioless: Socket.IO handlers as Python Azure Functions (Web PubSub for Socket.IO, serverless mode).

``SocketIOBlueprint`` turns decorated handlers into functions with a ``socketiotrigger`` and a ``socketio``
output binding; handlers get a ``Socket`` and the event's arguments, and return the ack. See docs/api.md.
Only ``azure.functions`` and the standard library are imported here (cold start).
"""

from __future__ import annotations

from typing import Any as _Any

from ._blueprint import SocketIOBlueprint
from ._broadcast import BroadcastOperator
from ._dispatch import HandlerSpec
from ._errors import AckError, ConnectRefused, SiolessError, UnsupportedError
from ._names import function_name
from ._request import ClientCertificate, ConnectRequest, Headers, MultiValueMap
from ._socket import Emitter, Socket
from ._sockets import UnknownSocketError
from ._storage import StorageError, configure_storage


def __getattr__(name: str) -> _Any:
    # `shared.protocol`, `.presence`, `.sessions` and `.compat` are imported on first use: handlers rarely need
    # them, and cold start counts.
    if name in ("protocol", "presence", "sessions", "compat"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AckError",
    "BroadcastOperator",
    "ClientCertificate",
    "compat",
    "configure_storage",
    "ConnectRefused",
    "ConnectRequest",
    "Emitter",
    "function_name",
    "HandlerSpec",
    "Headers",
    "MultiValueMap",
    "presence",
    "protocol",
    "sessions",
    "SiolessError",
    "Socket",
    "SocketIOBlueprint",
    "StorageError",
    "UnknownSocketError",
    "UnsupportedError",
]

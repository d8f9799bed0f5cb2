"""sioless: Socket.IO handlers as Python Azure Functions (Web PubSub for Socket.IO, serverless mode).

``SocketIOBlueprint`` turns decorated handlers into functions with a ``socketiotrigger`` and a ``socketio``
output binding; handlers get a ``Socket`` and the event's arguments, and return the ack. See docs/api.md.
Only ``azure.functions`` and the standard library are imported here (cold start).
"""

from __future__ import annotations

from typing import Any as _Any

from ._blueprint import SocketIOBlueprint
from ._dispatch import HandlerSpec
from ._emitter import BroadcastOperator, Emitter
from ._errors import AckError, ConnectRefused, SiolessError, UnsupportedError
from ._names import function_name
from ._request import ClientCertificate, ConnectRequest, Headers, MultiValueMap
from ._socket import Socket


def __getattr__(name: str) -> _Any:
    # `shared.protocol` is imported on first use: handlers rarely need it, and cold start counts.
    if name == "protocol":
        import importlib

        return importlib.import_module(".protocol", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AckError",
    "BroadcastOperator",
    "ClientCertificate",
    "ConnectRefused",
    "ConnectRequest",
    "Emitter",
    "function_name",
    "HandlerSpec",
    "Headers",
    "MultiValueMap",
    "protocol",
    "SiolessError",
    "Socket",
    "SocketIOBlueprint",
    "UnsupportedError",
]

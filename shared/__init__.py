"""sioless: Socket.IO handlers as Python Azure Functions (Web PubSub for Socket.IO, serverless mode).

``SocketIOBlueprint`` turns decorated handlers into functions with a ``socketiotrigger`` and a ``socketio``
output binding; handlers get a ``Socket`` and the event's arguments, and return the ack. See docs/api.md.

Every public name is loaded on first use (module ``__getattr__``), so ``import shared.protocol`` (pure standard
library) works where ``azure-functions`` is not installed, e.g. in the emulator, and cold start only pays for
what a function app touches. Why the folder is called ``shared``, and how to vendor it: README.md.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:  # for type checkers and IDEs; at run time the names below load lazily
    from . import compat, presence, protocol, sessions, storage
    from ._blueprint import SocketIOBlueprint
    from ._broadcast import BroadcastOperator
    from ._dispatch import HandlerSpec
    from ._errors import AckError, ConnectRefused, SiolessError, UnsupportedError
    from ._names import function_name
    from ._request import ClientCertificate, ConnectRequest, Headers, MultiValueMap
    from ._socket import Emitter, Socket
    from ._sockets import UnknownSocketError
    from ._storage import StorageError, configure_storage

# name -> the module that defines it ("" for the submodules themselves)
_WHERE = {
    "AckError": "._errors",
    "BroadcastOperator": "._broadcast",
    "ClientCertificate": "._request",
    "compat": "",
    "configure_storage": "._storage",
    "ConnectRefused": "._errors",
    "ConnectRequest": "._request",
    "Emitter": "._socket",
    "function_name": "._names",
    "HandlerSpec": "._dispatch",
    "Headers": "._request",
    "MultiValueMap": "._request",
    "presence": "",
    "protocol": "",
    "sessions": "",
    "SiolessError": "._errors",
    "Socket": "._socket",
    "SocketIOBlueprint": "._blueprint",
    "storage": "",
    "StorageError": "._storage",
    "UnknownSocketError": "._sockets",
    "UnsupportedError": "._errors",
}


def __getattr__(name: str) -> _typing.Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = (
        _importlib.import_module(f".{name}", __name__)
        if where == ""
        else getattr(_importlib.import_module(where, __name__), name)
    )
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
    "storage",
    "StorageError",
    "UnknownSocketError",
    "UnsupportedError",
]

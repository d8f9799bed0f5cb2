"""Offline Azure Functions dev host with the Socket.IO extension's behaviour (not deployed).

``python -m devhost`` plays the Functions host: it starts a worker process running Microsoft's Python worker
runtime (``azure-functions-runtime``), which imports and indexes ``function_app.py``; the host applies
``local.settings.json``, serves HTTP triggers at ``/api/...`` and the extension webhook at
``/runtime/webhooks/socketio``, and sends each invocation to the worker. ``python -m devhost.stack`` starts
Azurite + emulator + dev host together. See docs/devhost.md.

Names load lazily (PEP 562): the worker process imports ``devhost._worker`` through this package and must not
pull in the host's dependencies, or sioless's ``shared``, before it loads the app.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import create_app
    from ._channel import AppLoadError, WorkerChannel, WorkerCrashedError
    from ._functions import Binding, FunctionConfigError, FunctionInfo
    from ._host import DevHost
    from ._invoke import Invocation, Invoker
    from ._settings import Settings, SettingsError, load_settings
    from ._values import typed_data

_EXPORTS = {
    "AppLoadError": "._channel",
    "Binding": "._functions",
    "create_app": "._app",
    "DevHost": "._host",
    "FunctionConfigError": "._functions",
    "FunctionInfo": "._functions",
    "Invocation": "._invoke",
    "Invoker": "._invoke",
    "load_settings": "._settings",
    "Settings": "._settings",
    "SettingsError": "._settings",
    "typed_data": "._values",
    "WorkerChannel": "._channel",
    "WorkerCrashedError": "._channel",
}

__all__ = [
    "AppLoadError",
    "Binding",
    "create_app",
    "DevHost",
    "FunctionConfigError",
    "FunctionInfo",
    "Invocation",
    "Invoker",
    "load_settings",
    "Settings",
    "SettingsError",
    "typed_data",
    "WorkerChannel",
    "WorkerCrashedError",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'devhost' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value

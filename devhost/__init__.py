"""Offline Azure Functions dev host with the Socket.IO extension's behaviour (not deployed).

``python -m devhost`` loads ``function_app.py`` like the Python worker, applies ``local.settings.json`` and
serves HTTP triggers at ``/api/...`` and the extension webhook at ``/runtime/webhooks/socketio``.
``python -m devhost.stack`` starts Azurite + emulator + dev host together. See docs/devhost.md.
"""

from __future__ import annotations

from ._app import create_app
from ._host import DevHost
from ._invoke import Invocation, Invoker
from ._loader import AppLoadError, Binding, FunctionLoadError, LoadedFunction, index_function_app, validate_function
from ._settings import Settings, SettingsError, load_settings

__all__ = [
    "AppLoadError",
    "Binding",
    "create_app",
    "DevHost",
    "FunctionLoadError",
    "index_function_app",
    "Invocation",
    "Invoker",
    "load_settings",
    "LoadedFunction",
    "Settings",
    "SettingsError",
    "validate_function",
]

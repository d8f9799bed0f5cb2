"""Offline Web PubSub for Socket.IO (serverless mode) emulator. Not deployed; see docs/emulator.md.

Run it with ``python -m emulator``; start it from tests or scripts with :func:`emulator.testing.start_emulator`.
"""

from __future__ import annotations

from ._app import EmulatorApp
from ._config import DEFAULT_URL_TEMPLATE, DEV_PRIMARY_KEY, DEV_SECONDARY_KEY, ConfigError, EmulatorConfig, HubSettings
from ._odata import FilterError, compile_filter
from ._server import Started, running, serve

__all__ = [
    "compile_filter",
    "ConfigError",
    "DEFAULT_URL_TEMPLATE",
    "DEV_PRIMARY_KEY",
    "DEV_SECONDARY_KEY",
    "EmulatorApp",
    "EmulatorConfig",
    "FilterError",
    "HubSettings",
    "running",
    "serve",
    "Started",
]

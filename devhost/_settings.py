"""App settings the way ``func start`` applies them: ``local.settings.json`` ``Values`` as environment variables.

Precedence (highest first): explicit overrides (``--setting K=V``, the stack), the process environment,
``local.settings.json``. Without ``local.settings.json`` the dev host falls back to
``local.settings.json.example`` and says so, so a fresh clone runs against the local emulator.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("devhost")

DEFAULT_FUNCTION_TIMEOUT = 30.0
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$")


class SettingsError(ValueError):
    """A settings file the dev host cannot use; the message names the file and the problem."""


def parse_timespan(text: str) -> float:
    """``hh:mm:ss`` (optionally ``d.hh:mm:ss`` / fractional seconds) as in host.json ``functionTimeout``."""
    match = _TIMESPAN.match(text.strip())
    if not match:
        raise SettingsError(f"host.json functionTimeout {text!r} is not a hh:mm:ss timespan.")
    days, hours, minutes, seconds, fraction = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}).") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} must hold a JSON object.")
    return data


@dataclass
class Settings:
    """Resolved app settings and the host.json values the dev host honours."""

    values: dict[str, str] = field(default_factory=dict)
    function_timeout: float = DEFAULT_FUNCTION_TIMEOUT
    route_prefix: str = "api"
    source: str = ""
    # local.settings.json "Host": {"CORS": "origin,origin", "CORSCredentials": true} (what func start reads).
    cors: str = ""
    cors_credentials: bool = False

    def get(self, name: str, default: str | None = None) -> str | None:
        if name in self.values:
            return self.values[name]
        return os.environ.get(name, default)

    def apply_to_environ(self) -> None:
        """Expose the values as environment variables, as the real host does for the worker."""
        for key, value in self.values.items():
            os.environ[key] = value


def load_settings(
    app_dir: Path,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    function_timeout: float | None = None,
) -> Settings:
    """Read ``local.settings.json`` (or the example) and ``host.json`` from ``app_dir``."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    local = app_dir / "local.settings.json"
    example = app_dir / "local.settings.json.example"
    file_values: dict[str, str] = {}
    if local.is_file():
        source = local
    elif example.is_file():
        source = example
        log.warning(
            "No local.settings.json in %s; using local.settings.json.example (local emulator settings). "
            "Copy it to local.settings.json to change them.",
            app_dir,
        )
    else:
        source = None
        log.warning("No local.settings.json in %s; using the environment only.", app_dir)
    if source is not None:
        local_json = _read_json(source)
        _read_host_section(settings, local_json.get("Host"), source)
        raw = local_json.get("Values", {})
        if not isinstance(raw, dict):
            raise SettingsError(f"{source}: 'Values' must be a JSON object of strings.")
        file_values = {str(k): str(v) for k, v in raw.items() if v is not None}
        settings.source = str(source)
    # Only the names the app declares (plus overrides) come from the environment, so the
    # settings view stays small; the worker still sees the whole environment.
    merged = dict(file_values)
    for key in file_values:
        if key in environ:
            merged[key] = environ[key]
    merged.update(overrides or {})
    settings.values = merged
    host_json = app_dir / "host.json"
    if host_json.is_file():
        host = _read_json(host_json)
        timeout = host.get("functionTimeout")
        if isinstance(timeout, str):
            settings.function_timeout = parse_timespan(timeout)
        settings.route_prefix = read_route_prefix(app_dir)
    if function_timeout is not None:
        settings.function_timeout = function_timeout
    return settings


def _read_host_section(settings: Settings, host: object, source: Path) -> None:
    if host is None:
        return
    if not isinstance(host, dict):
        raise SettingsError(f"{source}: 'Host' must be a JSON object.")
    cors = host.get("CORS")
    if cors is not None:
        if not isinstance(cors, str):
            raise SettingsError(
                f'{source}: Host.CORS must be a string of comma-separated origins, e.g. "http://a,http://b".'
            )
        settings.cors = cors
    credentials = host.get("CORSCredentials")
    if isinstance(credentials, str) and credentials.strip().lower() in ("true", "false"):
        credentials = credentials.strip().lower() == "true"
    if credentials is not None:
        if not isinstance(credentials, bool):
            raise SettingsError(f"{source}: Host.CORSCredentials must be true or false.")
        settings.cors_credentials = credentials


def read_route_prefix(app_dir: Path) -> str:
    """host.json ``extensions.http.routePrefix`` ("api" when absent; "" is a valid prefix)."""
    host_json = app_dir / "host.json"
    if not host_json.is_file():
        return "api"
    http = _read_json(host_json).get("extensions", {})
    if isinstance(http, dict) and isinstance(http.get("http"), dict):
        prefix = http["http"].get("routePrefix")
        if isinstance(prefix, str):
            return prefix.strip("/")
    return "api"


def resolve_app_setting(settings: Settings, value: str) -> str:
    """``%name%`` placeholders in binding properties resolve to app settings (the host's name resolver)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        resolved = settings.get(name) or os.environ.get(name)
        if resolved is None:
            raise SettingsError(f"Binding property refers to app setting %{name}% which is not set.")
        return resolved

    return re.sub(r"%([^%]+)%", replace, value)

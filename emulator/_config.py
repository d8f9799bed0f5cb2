"""Emulator settings: keys, endpoint, hubs and their event handler settings (flags and/or a JSON file)."""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from shared.protocol import webhook

# The dev key of local.settings.json.example: the Functions side and the emulator agree on it out of the box.
DEV_PRIMARY_KEY = "c2lvbGVzcy1sb2NhbC1kZXYta2V5LW5vdC1hLXNlY3JldA=="
DEV_SECONDARY_KEY = "c2lvbGVzcy1sb2NhbC1kZXYtc2Vjb25kYXJ5LWtleQ=="
DEFAULT_URL_TEMPLATE = f"http://localhost:7071{webhook.WEBHOOK_PATH}"
SYSTEM_EVENTS = webhook.SYSTEM_EVENTS
FAILURE_POLICIES = ("close_connection", "disconnect_socket", "ignore")
# REST hub name pattern (docs/protocol.md#hubs-sockets-and-namespaces).
HUB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_`,.\[\]]{0,127}$")


class ConfigError(ValueError):
    """A setting the emulator cannot run with; the message names the setting."""


@dataclass(frozen=True)
class HubSettings:
    """One hub's event handler settings (docs/protocol.md#event-handler-settings,
    docs/protocol.md#system-event-configuration)."""

    name: str
    url_template: str | None = DEFAULT_URL_TEMPLATE
    system_events: frozenset[str] = frozenset(SYSTEM_EVENTS)
    user_event_pattern: str = "*"
    allow_anonymous: bool = False

    def upstream_url(self, event_name: str) -> str | None:
        """The event handler URL for one event, with ``{hub}`` and ``{event}`` filled in; None without handler."""
        if not self.url_template:
            return None
        return self.url_template.replace("{hub}", self.name).replace("{event}", event_name)

    def wants_system_event(self, event: str) -> bool:
        return bool(self.url_template) and event in self.system_events

    def wants_user_event(self, event: str) -> bool:
        """Whether ``event`` matches the comma-separated pattern list (``*`` = every event)."""
        if not self.url_template or not self.user_event_pattern:
            return False
        patterns = [p.strip() for p in self.user_event_pattern.split(",") if p.strip()]
        return any(p == "*" or fnmatch.fnmatchcase(event, p) for p in patterns)


@dataclass(frozen=True)
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    # The host the Functions side writes in its connection string; also WebHook-Request-Origin
    # (docs/protocol.md#abuse-protection, docs/protocol.md#signatures).
    endpoint_host: str = "localhost"
    scheme: str = "http"
    primary_key: str = DEV_PRIMARY_KEY
    secondary_key: str = DEV_SECONDARY_KEY
    hubs: tuple[HubSettings, ...] = (HubSettings("chat"), HubSettings("whiteboard"))
    # Unknown hubs are created on first use with ``hub_defaults`` (the real service has no hub registry either).
    hubs_on_demand: bool = True
    hub_defaults: HubSettings = field(default_factory=lambda: HubSettings("*"))
    upstream_timeout: float = 30.0
    validation_timeout: float = 10.0
    validation_ttl: float = 60.0
    user_event_failure: str = "close_connection"
    # Claim names in the connect body: "jwt" keeps them (sub, role, ...); "dotnet" maps sub/role to the .NET claim
    # type URIs the official generic emulator produces (docs/protocol.md#connect-request-contents: the real service is
    # unknown).
    claims_naming: str = "jwt"
    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    max_payload: int = 1_000_000
    history_size: int = 200

    def __post_init__(self) -> None:
        if self.user_event_failure not in FAILURE_POLICIES:
            raise ConfigError(
                f"user_event_failure must be one of {', '.join(FAILURE_POLICIES)}, not {self.user_event_failure!r}."
            )
        for hub in self.hubs:
            if not HUB_NAME.match(hub.name):
                raise ConfigError(f"Hub name {hub.name!r} does not match {HUB_NAME.pattern}.")
        if self.claims_naming not in ("jwt", "dotnet"):
            raise ConfigError(f"claims_naming must be 'jwt' or 'dotnet', not {self.claims_naming!r}.")
        if self.upstream_timeout <= 0 or self.validation_timeout <= 0:
            raise ConfigError("Timeouts must be positive numbers of seconds.")
        if self.ping_interval < 1 or self.ping_interval != int(self.ping_interval) or self.ping_timeout <= 0:
            # engineio advertises pingInterval as int(seconds) * 1000: fractions would be announced wrongly
            raise ConfigError("ping_interval must be a whole number of seconds (>= 1); ping_timeout positive.")
        if self.max_payload < 1024:
            raise ConfigError("max_payload must be at least 1024 bytes.")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k in (self.primary_key, self.secondary_key) if k)

    def endpoint(self, port: int | None = None) -> str:
        """``scheme://endpoint_host:port`` (no trailing slash) for the actual port."""
        return f"{self.scheme}://{self.endpoint_host}:{port if port is not None else self.port}"

    def connection_string(self, port: int | None = None, key: str | None = None) -> str:
        return (
            f"Endpoint={self.scheme}://{self.endpoint_host};Port={port if port is not None else self.port};"
            f"AccessKey={key or self.primary_key};Version=1.0;"
        )

    def hub_settings(self, name: str) -> HubSettings | None:
        for hub in self.hubs:
            if hub.name == name:
                return hub
        if self.hubs_on_demand and HUB_NAME.match(name):
            return replace(self.hub_defaults, name=name)
        return None


def _hub_from_json(name: str, raw: dict[str, Any], base: HubSettings) -> HubSettings:
    unknown = set(raw) - {"urlTemplate", "systemEvents", "userEventPattern", "allowAnonymous"}
    if unknown:
        raise ConfigError(
            f"Hub {name!r}: unknown setting(s) {sorted(unknown)}; expected urlTemplate, systemEvents, "
            "userEventPattern, allowAnonymous."
        )
    events = raw.get("systemEvents", sorted(base.system_events))
    bad = set(events) - set(SYSTEM_EVENTS)
    if bad:
        raise ConfigError(f"Hub {name!r}: unknown system event(s) {sorted(bad)}; expected {', '.join(SYSTEM_EVENTS)}.")
    return HubSettings(
        name=name,
        url_template=raw.get("urlTemplate", base.url_template) or None,
        system_events=frozenset(events),
        user_event_pattern=raw.get("userEventPattern", base.user_event_pattern),
        allow_anonymous=bool(raw.get("allowAnonymous", base.allow_anonymous)),
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m emulator", description="Offline Web PubSub for Socket.IO emulator.")
    p.add_argument("--config", type=Path, help="JSON config file (flags given on the command line win).")
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8080; 0 = pick a free one)")
    p.add_argument(
        "--endpoint-host", help="host in the printed connection string and WebHook-Request-Origin (default localhost)"
    )
    p.add_argument("--primary-key", help="primary access key (default: the dev key of local.settings.json.example)")
    p.add_argument("--secondary-key", help="secondary access key")
    p.add_argument("--hub", action="append", help="hub name (repeatable; default chat and whiteboard)")
    p.add_argument(
        "--url-template",
        help=f"event handler URL template for the hubs (default {DEFAULT_URL_TEMPLATE}; "
        "'' = no event handler); {hub} and {event} are filled in",
    )
    p.add_argument(
        "--system-events",
        help="comma list of system events sent upstream (default connect,connected,disconnected; '' = none)",
    )
    p.add_argument("--user-event-pattern", help="comma list of user event names or '*' (default '*')")
    p.add_argument("--anonymous-hub", action="append", default=[], help="hub that accepts clients without a token")
    p.add_argument("--no-hubs-on-demand", action="store_true", help="refuse hubs that are not configured")
    p.add_argument("--upstream-timeout", type=float, help="seconds to wait for an event handler (default 30)")
    p.add_argument("--validation-timeout", type=float, help="seconds for the abuse-protection handshake (default 10)")
    p.add_argument(
        "--claims-naming",
        choices=("jwt", "dotnet"),
        help="claim names in the connect body (default jwt: sub, role; dotnet: .NET claim-type URIs)",
    )
    p.add_argument(
        "--user-event-failure",
        choices=FAILURE_POLICIES,
        help="what a failed user-event webhook does (default close_connection, docs/protocol.md#failed-user-events)",
    )
    p.add_argument("--ping-interval", type=float, help="Engine.IO ping interval in seconds (default 25)")
    p.add_argument("--ping-timeout", type=float, help="Engine.IO ping timeout in seconds (default 20)")
    p.add_argument("--max-payload", type=int, help="Engine.IO maxPayload in bytes (default 1000000)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return p


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Merge defaults < config file < flags."""
    raw: dict[str, Any] = {}
    if args.config:
        try:
            raw = json.loads(args.config.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"Cannot read config file {args.config}: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"Config file {args.config} must hold a JSON object.")

    def pick(flag: Any, key: str, default: Any) -> Any:
        return flag if flag is not None else raw.get(key, default)

    base = EmulatorConfig()
    defaults = HubSettings("*")
    if args.url_template is not None:
        defaults = replace(defaults, url_template=args.url_template or None)
    if args.system_events is not None:
        events = frozenset(e.strip() for e in args.system_events.split(",") if e.strip())
        bad = events - set(SYSTEM_EVENTS)
        if bad:
            raise ConfigError(f"--system-events: unknown event(s) {sorted(bad)}; expected {', '.join(SYSTEM_EVENTS)}.")
        defaults = replace(defaults, system_events=events)
    if args.user_event_pattern is not None:
        defaults = replace(defaults, user_event_pattern=args.user_event_pattern)
    if "hubDefaults" in raw:
        defaults = _hub_from_json("*", raw["hubDefaults"], defaults)

    hubs: dict[str, HubSettings] = {}
    raw_hubs = raw.get("hubs", {})
    if not isinstance(raw_hubs, dict):
        raise ConfigError("Config 'hubs' must be an object of hub name -> settings.")
    names = args.hub or list(raw_hubs) or [h.name for h in base.hubs]
    for name in names:
        hubs[name] = _hub_from_json(name, raw_hubs.get(name, {}), replace(defaults, name=name))
    for name in args.anonymous_hub:
        hubs[name] = replace(hubs.get(name, replace(defaults, name=name)), allow_anonymous=True)

    return EmulatorConfig(
        host=pick(args.host, "host", base.host),
        port=int(pick(args.port, "port", base.port)),
        endpoint_host=pick(args.endpoint_host, "endpointHost", base.endpoint_host),
        primary_key=pick(args.primary_key, "primaryKey", base.primary_key),
        secondary_key=pick(args.secondary_key, "secondaryKey", base.secondary_key),
        hubs=tuple(hubs.values()),
        hubs_on_demand=not args.no_hubs_on_demand and bool(raw.get("hubsOnDemand", True)),
        hub_defaults=defaults,
        upstream_timeout=float(pick(args.upstream_timeout, "upstreamTimeout", base.upstream_timeout)),
        validation_timeout=float(pick(args.validation_timeout, "validationTimeout", base.validation_timeout)),
        user_event_failure=pick(args.user_event_failure, "userEventFailure", base.user_event_failure),
        claims_naming=pick(args.claims_naming, "claimsNaming", base.claims_naming),
        ping_interval=float(pick(args.ping_interval, "pingInterval", base.ping_interval)),
        ping_timeout=float(pick(args.ping_timeout, "pingTimeout", base.ping_timeout)),
        max_payload=int(pick(args.max_payload, "maxPayload", base.max_payload)),
    )

"""Connection strings ``Endpoint=...;AccessKey=...;Port=...;Version=1.0;`` parsed as the extension does
(docs/protocol.md#extension-settings)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit


class ConnectionStringError(ValueError):
    """A connection string the extension would refuse; the message names the part at fault."""


@dataclass(frozen=True)
class ConnectionString:
    """The parts of a Web PubSub connection string that matter: the endpoint (port applied) and the key."""

    endpoint: str
    access_key: str | None = None

    @property
    def host(self) -> str:
        """The endpoint host without port: what ``WebHook-Request-Origin`` must equal
        (docs/protocol.md#abuse-protection)."""
        return urlsplit(self.endpoint).hostname or ""

    @classmethod
    def parse(cls, text: str) -> ConnectionString:
        """Split on ``;``, each ``key=value`` at the first ``=``; keys case-insensitive, no duplicates;
        ``Endpoint`` required (trailing ``/`` trimmed); optional ``Port`` (1..65535) overrides the port;
        ``Version`` ignored."""
        values: dict[str, str] = {}
        for part in text.split(";"):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise ConnectionStringError(f"Connection string part {key.strip()!r} has no '='.")
            key = key.strip().lower()
            if key in values:
                raise ConnectionStringError(f"Connection string has a duplicate key {key!r}.")
            values[key] = value.strip()
        endpoint = values.get("endpoint", "").rstrip("/")
        if not endpoint:
            raise ConnectionStringError("Connection string has no Endpoint.")
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectionStringError(f"Connection string Endpoint {endpoint!r} is not an http(s) URL.")
        if "port" in values:
            try:
                port = int(values["port"])
            except ValueError:
                port = 0
            if not 1 <= port <= 65535:
                raise ConnectionStringError(f"Connection string Port {values['port']!r} is not in 1..65535.")
            default = 443 if parts.scheme == "https" else 80
            netloc = parts.hostname if port == default else f"{parts.hostname}:{port}"
            endpoint = urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")
        return cls(endpoint=endpoint, access_key=values.get("accesskey") or None)

    def __repr__(self) -> str:
        # Never show the key: repr ends up in logs.
        return f"ConnectionString(endpoint={self.endpoint!r}, access_key={'***' if self.access_key else None})"

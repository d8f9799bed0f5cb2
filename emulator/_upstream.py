"""Webhook calls to the event handler (docs/protocol.md#webhooks): abuse protection, CloudEvents headers, signatures,
timeouts."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from shared.protocol import signature_header
from shared.protocol import webhook as envelope

log = logging.getLogger("emulator.upstream")


@dataclass(frozen=True)
class UpstreamResult:
    """The outcome of one blocking webhook: ``ok`` iff 2xx; ``error`` is a sentence fit for a client message."""

    status: int | None
    body: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class CallRecord:
    """One upstream call as the inspector shows it (no keys: the URL loses its query, e.g. ``?code=``).
    ``at`` is the wall-clock time (seconds since the epoch), formatted only when the inspector asks."""

    at: float
    hub: str
    event: str
    kind: str
    url: str
    connection_id: str
    namespace: str
    status: int | None
    latency_ms: float
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        fields = dict(self.__dict__)
        at = fields.pop("at")
        return {"time": datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds"), **fields}


@dataclass
class _Validation:
    ok_until: float = 0.0
    retry_at: float = 0.0
    backoff: float = 1.0
    last_error: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


# ce-id: unique per event (CloudEvents: source + id); a random process prefix and a counter, 32 hex digits as the
# uuid4 it replaces, without a uuid object and 16 random bytes per webhook.
_ID_PREFIX = os.urandom(8).hex()
_ids = itertools.count(1)


def _event_id() -> str:
    return f"{_ID_PREFIX}{next(_ids):016x}"


_second: tuple[int, str] = (0, "")


def _event_time() -> str:
    """``ce-time``: UTC, ISO 8601 with microseconds and ``Z`` (the formatted second is reused within it)."""
    global _second
    now = time.time()
    second = int(now)
    if second != _second[0]:
        _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_second[1]}.{int((now - second) * 1_000_000):06d}Z"


@functools.lru_cache(maxsize=256)  # a hub posts to a few URLs; this runs once per webhook for the inspector
def _redact(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class Upstream:
    """Sends webhooks with a pooled ``aiohttp.ClientSession`` and keeps the last N calls for the inspector.

    aiohttp rather than httpx: httpcore's pool scans every pooled connection on every request, which made the
    upstream client the emulator's main CPU cost with hundreds of connections (docs/reliability.md)."""

    def __init__(
        self,
        *,
        origin: str,
        keys: tuple[str, ...],
        timeout: float,
        validation_timeout: float,
        validation_ttl: float,
        history_size: int,
    ) -> None:
        self.origin = origin
        self._keys = keys
        self.timeout = timeout
        self.validation_timeout = validation_timeout
        self.validation_ttl = validation_ttl
        self.history: deque[CallRecord] = deque(maxlen=history_size)
        self._validations: dict[str, _Validation] = {}
        self._session: aiohttp.ClientSession | None = None
        self._timeouts = {t: aiohttp.ClientTimeout(total=t) for t in (timeout, validation_timeout)}
        # ce-signature depends only on the connection id: one HMAC per key per connection, not per webhook.
        self._signatures: dict[str, str] = {}

    def _client(self) -> aiohttp.ClientSession:
        # Built on first use: an aiohttp session belongs to the running loop. At most 200 webhooks in flight
        # (the rest wait for a pooled connection, within their timeout); idle connections are kept for reuse.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=200, limit_per_host=0, keepalive_timeout=30)
            # No cookie jar: the service sends no cookies with webhooks, so a handler's Set-Cookie must not come back.
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _request(
        self, method: str, url: str, headers: dict[str, str], timeout: float, body: bytes | None = None
    ) -> tuple[int, str, str]:
        """One request: status, body text (UTF-8, lenient) and the ``WebHook-Allowed-Origin`` header."""
        async with self._client().request(
            method,
            url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=self._timeouts.get(timeout) or aiohttp.ClientTimeout(total=timeout),
        ) as response:
            text = (await response.read()).decode("utf-8", errors="replace")
            return response.status, text, response.headers.get("WebHook-Allowed-Origin", "")

    async def _validate(self, url: str) -> str | None:
        """Abuse-protection handshake (docs/protocol.md#abuse-protection, docs/protocol.md#timeouts-and-retries):
        OPTIONS, then GET if OPTIONS is 404/405; needs a
        2xx and ``WebHook-Allowed-Origin`` of ``*`` or our origin. A success is reused for ``validation_ttl``;
        a failure backs off from 1 s, doubling up to 60 s. Returns an error sentence or None."""
        state = self._validations.get(url)
        if state is None:
            state = self._validations[url] = _Validation()
        elif time.monotonic() < state.ok_until:  # the common case: validated, no lock to take
            return None
        async with state.lock:
            now = time.monotonic()
            if now < state.ok_until:
                return None
            if now < state.retry_at and state.last_error:
                return state.last_error
            headers = {envelope.ORIGIN: self.origin, envelope.CE_AWPS_VERSION: "1.0"}
            error: str | None = None
            try:
                status, _, origins = await self._request("OPTIONS", url, headers, self.validation_timeout)
                if status in (404, 405):
                    status, _, origins = await self._request("GET", url, headers, self.validation_timeout)
                allowed = {origin.lower() for origin in envelope.split_header_list(origins)}
                if not 200 <= status < 300:
                    error = f"abuse-protection validation of {_redact(url)} returned {status}"
                elif "*" not in allowed and self.origin.lower() not in allowed:
                    error = (
                        f"abuse-protection validation of {_redact(url)} did not allow origin {self.origin!r} "
                        "(missing WebHook-Allowed-Origin)"
                    )
            except TimeoutError:
                error = f"abuse-protection validation of {_redact(url)} timed out after {self.validation_timeout:g} s"
            except (aiohttp.ClientError, ValueError) as exc:
                error = f"abuse-protection validation of {_redact(url)} failed: {type(exc).__name__}: {exc}"
            if error is None:
                state.ok_until, state.backoff, state.last_error = now + self.validation_ttl, 1.0, None
            else:
                log.warning("%s", error)
                state.retry_at, state.last_error = now + state.backoff, error
                state.backoff = min(state.backoff * 2, 60.0)
            return error

    def signature(self, connection_id: str) -> str:
        """The ``ce-signature`` value of a connection (remembered for the last 16,384 connection ids)."""
        value = self._signatures.get(connection_id)
        if value is None:
            if len(self._signatures) >= 16_384:
                del self._signatures[next(iter(self._signatures))]
            value = self._signatures[connection_id] = signature_header(self._keys, connection_id)
        return value

    def _headers(
        self,
        *,
        hub: str,
        event_type: str,
        event_name: str,
        connection_id: str,
        namespace: str,
        socket_id: str,
        user_id: str | None,
        content_type: str,
    ) -> dict[str, str]:
        """The CloudEvents headers of one webhook (str values; aiohttp sends them as UTF-8, so non-ASCII event
        names and user ids pass rather than failing the call)."""
        headers = {
            envelope.ORIGIN: self.origin,
            "Content-Type": content_type,
            envelope.CE_SPECVERSION: "1.0",
            envelope.CE_TYPE: event_type,
            envelope.CE_SOURCE: f"/hubs/{hub}/client/{connection_id}",
            envelope.CE_ID: _event_id(),
            envelope.CE_TIME: _event_time(),
            envelope.CE_SIGNATURE: self.signature(connection_id),
            envelope.CE_CONNECTION_ID: connection_id,
            envelope.CE_HUB: hub,
            envelope.CE_EVENT_NAME: event_name,
            envelope.CE_NAMESPACE: namespace,
            envelope.CE_SOCKET_ID: socket_id,
            envelope.CE_AWPS_VERSION: "1.0",
        }
        if user_id:
            headers[envelope.CE_USER_ID] = user_id
        return headers

    async def call(
        self,
        url: str,
        *,
        hub: str,
        kind: str,
        event_name: str,
        connection_id: str,
        namespace: str,
        socket_id: str,
        user_id: str | None,
        body: bytes,
        content_type: str,
    ) -> UpstreamResult:
        """POST one event; never raises. ``kind`` is ``connect``/``connected``/``disconnected``/``message``."""
        started = time.monotonic()
        status: int | None = None
        text = ""
        error = await self._validate(url)
        if error is None:
            event_type = envelope.USER_MESSAGE_TYPE if kind == "message" else envelope.event_type(kind)
            headers = self._headers(
                hub=hub,
                event_type=event_type,
                event_name=event_name,
                connection_id=connection_id,
                namespace=namespace,
                socket_id=socket_id,
                user_id=user_id,
                content_type=content_type,
            )
            try:
                status, text, _ = await self._request("POST", url, headers, self.timeout, body)
                if not 200 <= status < 300:
                    error = f"the {event_name!r} event handler returned {status}"
            except TimeoutError:
                error = f"the {event_name!r} event handler did not answer within {self.timeout:g} s"
            except aiohttp.ClientError as exc:
                error = f"the {event_name!r} event handler could not be reached ({type(exc).__name__}: {exc})"
            except ValueError as exc:  # e.g. a client's event name with a line break cannot be a header value
                error = f"the {event_name!r} event cannot be sent as a webhook ({exc})"
        latency = (time.monotonic() - started) * 1000
        self.history.append(
            CallRecord(
                at=time.time(),
                hub=hub,
                event=event_name,
                kind=kind,
                url=_redact(url),
                connection_id=connection_id,
                namespace=namespace,
                status=status,
                latency_ms=round(latency, 2),
                error=error,
            )
        )
        if error:
            log.warning("upstream %s %s [%s %s]: %s", kind, event_name, hub, namespace, error)
        return UpstreamResult(status=status, body=text, error=error)

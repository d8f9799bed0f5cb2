"""Per-socket event limits for the samples: size and rate, the same on every instance (docs/limits.md).

- **Size**: the event's arguments as compact JSON (UTF-8) may not exceed ``max_bytes``. Checked in memory.
- **Rate**: a token bucket per socket (``per_second`` refill, ``burst`` capacity) kept in Azure Table
  ``siolesslimits``, one row per socket, updated with an ETag, so every instance sees the same bucket: no
  counter in process memory. Cost: 1 read + 1 conditional write per event (a retry only when two events of one
  socket race on two instances).
- Exceeding a limit gets an error ack (``{"error": "rate limit: ..."}``) and changes nothing; the socket stays
  connected. Only a socket that keeps going — ``strikes`` refused events in a row, none allowed in between — is
  disconnected (the disconnect is carried out before its last ack could be sent, so the client sees a server
  disconnect instead).

Every number is an app setting with a default (``settings`` names them); ``guard`` wraps a handler.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from shared import AckError, Socket
from shared.storage import call_storage, table_client

TABLE = "siolesslimits"
STRIKES_SETTING = "SIOLESS_RATE_LIMIT_STRIKES"
DEFAULT_STRIKES = 50
_RETRIES = 4

logger = logging.getLogger("limits")
F = TypeVar("F", bound=Callable[..., Any])


def setting_number(name: str, default: float, *, minimum: float = 0.0) -> float:
    """A number of at least ``minimum`` from app setting ``name``, else ``default`` (a bad value is logged)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum:
        logger.warning("%s=%r is not a usable number; using %s", name, raw, default)
        return default
    return value


@dataclass(frozen=True)
class Budget:
    """``max_bytes`` per event; ``per_second`` refill and ``burst`` capacity of the socket's bucket
    (``per_second`` 0: no rate limit, no storage call per event)."""

    max_bytes: int
    per_second: float
    burst: float

    @property
    def strikes(self) -> int:
        """Refused events in a row after which the socket is disconnected."""
        return int(setting_number(STRIKES_SETTING, DEFAULT_STRIKES, minimum=1))


def take_token(pk: str, rk: str, per_second: float, burst: float) -> tuple[bool, int, float] | None:
    """One token from the bucket in row ``pk``/``rk`` of :data:`TABLE`: ``(allowed, refusals in a row, tokens
    left)``, or None when other instances kept changing the row (a conflict reads again, at most 4 times)."""
    from azure.core import MatchConditions
    from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
    from azure.data.tables import UpdateMode

    table = table_client(TABLE)
    for _ in range(_RETRIES):
        now = time.time()
        try:
            entity: Any = call_storage(lambda: table.get_entity(pk, rk), "read the rate limit")
        except ResourceNotFoundError:
            entity = None
        if entity is None:
            tokens, strikes = burst, 0
        else:
            elapsed = max(now - float(entity["at"]), 0.0)
            tokens = min(burst, float(entity["tokens"]) + elapsed * per_second)
            strikes = int(entity.get("strikes") or 0)
        allowed = tokens >= 1.0
        tokens, strikes = (tokens - 1.0, 0) if allowed else (tokens, strikes + 1)
        row = {"PartitionKey": pk, "RowKey": rk, "tokens": tokens, "at": now, "strikes": strikes}
        try:
            if entity is None:
                call_storage(functools.partial(table.create_entity, row), "record the rate limit")
            else:
                write = functools.partial(
                    table.update_entity,
                    row,
                    mode=UpdateMode.REPLACE,
                    etag=entity.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                call_storage(write, "record the rate limit")
        except (ResourceExistsError, ResourceModifiedError):
            continue  # another instance took a token from this bucket meanwhile: read again
        return allowed, strikes, tokens
    return None


def table_key(text: str) -> str:
    # Table keys may not hold / \ # ? or control characters: keep it simple and reversible enough for humans.
    return "".join(c if c.isalnum() or c in "-_.~" else f"%{ord(c):02x}" for c in text)


class EventLimits:
    """The limits of one hub; ``budget()`` reads its settings at each event (cheap; tests can change them)."""

    def __init__(self, hub: str, budget: Callable[[], Budget]) -> None:
        self.hub = hub
        self.budget = budget

    # -- the checks ---------------------------------------------------------------------------------------------

    def check(self, socket: Socket, event: str, args: tuple[Any, ...]) -> None:
        """Raise :class:`AckError` if the event is too large or comes too fast (then maybe disconnect)."""
        budget = self.budget()
        size = len(json.dumps(args, separators=(",", ":"), ensure_ascii=False, default=str).encode())
        if size > budget.max_bytes:
            raise AckError(f"message too large: {size} bytes (at most {budget.max_bytes}); nothing was done")
        if budget.per_second <= 0:
            return
        allowed, strikes = self._take(socket.namespace, socket.id, budget)
        if allowed:
            return
        if strikes >= budget.strikes:
            logger.warning("%s: socket %s kept exceeding the rate limit: disconnecting it", self.hub, socket.id)
            socket.disconnect()
            raise AckError(
                f"rate limit: {strikes} events refused in a row; this socket is being disconnected", disconnected=True
            )
        raise AckError(
            f"rate limit: at most {budget.per_second:g} events a second (bursts of {budget.burst:g}); "
            f"{event!r} was not handled, try again shortly"
        )

    def _take(self, namespace: str, socket_id: str, budget: Budget) -> tuple[bool, int]:
        """One token from the socket's bucket: ``(allowed, refusals in a row)``."""
        taken = take_token(table_key(f"{self.hub}|{namespace}"), table_key(socket_id), budget.per_second, budget.burst)
        if taken is None:
            raise AckError("rate limit: too many concurrent events from this socket; try again shortly")
        return taken[0], taken[1]

    def forget(self, namespace: str, socket_id: str) -> None:
        """Drop the socket's bucket (at disconnect, or when presence forgets it). Missing is fine."""
        table = table_client(TABLE)
        pk, rk = table_key(f"{self.hub}|{namespace}"), table_key(socket_id)
        call_storage(lambda: table.delete_entity(pk, rk), "forget the rate limit")

    # -- the decorator ------------------------------------------------------------------------------------------

    def guard(self, event: str) -> Callable[[F], F]:
        """Check the limits before the handler runs (its signature, as the blueprint sees it, is unchanged)."""

        def decorate(handler: F) -> F:
            @functools.wraps(handler)
            def guarded(socket: Socket, *args: Any) -> Any:
                self.check(socket, event, args)
                return handler(socket, *args)

            return guarded  # type: ignore[return-value]

        return decorate

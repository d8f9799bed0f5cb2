"""A bound on negotiations per client, the same on every instance (docs/limits.md "Negotiate").

Each negotiate takes a token from a bucket in Azure Table ``siolesslimits`` (functions/_limits.py
``take_token``), partition ``negotiate|<hub>``, one row per client: the signed-in user while App Service
Authentication is on, else the client's IP address from ``client-ip``, the header App Service's front end sets
(``address:port``) and overwrites when a client sends its own. A request without either (offline: the dev host
sets no ``client-ip``) is not limited. Too many: HTTP 429 with ``Retry-After`` and ``{"error": ...}``.

Rows of clients whose bucket has filled up again are deleted by the hub's timer (:func:`prune_idle`), so the
partition holds only recently active clients.
"""

from __future__ import annotations

import json
import logging
import math
import time
from functools import partial
from typing import Any

import azure.functions as func

from shared import StorageError
from shared.storage import StorageConfigError, call_storage, table_client

from ._identity import PRINCIPAL_ID_HEADER, app_service_auth_enabled
from ._limits import TABLE, setting_number, table_key, take_token

CLIENT_IP_HEADER = "client-ip"
DEFAULT_PER_SECOND = 1.0
DEFAULT_BURST = 30.0

logger = logging.getLogger("limits")


def rate() -> tuple[float, float]:
    """``(per_second, burst)`` from ``SIOLESS_NEGOTIATE_PER_SECOND`` (0: no limit) and ``SIOLESS_NEGOTIATE_BURST``."""
    return (
        setting_number("SIOLESS_NEGOTIATE_PER_SECOND", DEFAULT_PER_SECOND),
        setting_number("SIOLESS_NEGOTIATE_BURST", DEFAULT_BURST, minimum=1),
    )


def client_key(req: func.HttpRequest) -> str | None:
    """``user:<principal id>`` for a signed-in caller, else ``ip:<address>``, else None (nobody to count)."""
    if app_service_auth_enabled():
        principal = (req.headers.get(PRINCIPAL_ID_HEADER) or "").strip()
        if principal:
            return f"user:{principal}"
    raw = (req.headers.get(CLIENT_IP_HEADER) or "").strip()
    if not raw:
        return None
    return f"ip:{_address(raw)}"


def _address(raw: str) -> str:
    """The address of ``1.2.3.4:5678``, ``[2001:db8::1]:5678``, ``2001:db8::1`` or ``1.2.3.4``."""
    if raw.startswith("[") and "]" in raw:
        return raw[1 : raw.index("]")]
    if raw.count(":") == 1:
        return raw.split(":", 1)[0]
    return raw


def _partition(hub: str) -> str:
    return table_key(f"negotiate|{hub}")


def refusal(req: func.HttpRequest, hub: str) -> func.HttpResponse | None:
    """None if this negotiate may go ahead, else the 429 answer. Storage trouble lets it go ahead (logged): the
    bound protects the service from floods, it must not take negotiate down with the storage account."""
    per_second, burst = rate()
    key = client_key(req) if per_second > 0 else None
    if key is None:
        return None
    try:
        taken = take_token(_partition(hub), table_key(key), per_second, burst)
    except (StorageError, StorageConfigError) as exc:
        logger.warning("negotiate limit not applied (%s): %s", hub, exc)
        return None
    if taken is None:
        wait, message = 1, "too many concurrent negotiations from this client; try again in 1 s"
    elif taken[0]:
        return None
    else:
        wait = max(1, math.ceil((1.0 - taken[2]) / per_second))
        message = (
            f"too many negotiations from this client: at most {per_second:g} a second (bursts of {burst:g}); "
            f"try again in {wait} s"
        )
    return func.HttpResponse(
        json.dumps({"error": message}),
        status_code=429,
        mimetype="application/json",
        headers={"Retry-After": str(wait), "Cache-Control": "no-store"},
    )


def prune_idle(hub: str, now: float | None = None) -> int:
    """Delete the buckets of ``hub`` that have filled up again (idle for ``burst / per_second`` seconds): a full
    bucket and no row are the same. Returns how many went. One query on the hub's partition, one delete each."""
    per_second, burst = rate()
    if per_second <= 0:
        return 0
    cutoff = (time.time() if now is None else now) - burst / per_second
    table = table_client(TABLE)
    pk = _partition(hub)
    rows: list[Any] = call_storage(
        lambda: list(
            table.query_entities(
                "PartitionKey eq @pk and at lt @cutoff", parameters={"pk": pk, "cutoff": cutoff}, select=["RowKey"]
            )
        ),
        "list idle negotiate limits",
    )
    for row in rows:
        call_storage(partial(table.delete_entity, pk, row["RowKey"]), "delete an idle negotiate limit")
    return len(rows)

"""The chat's recent messages per room in Azure Table ``chatmessages``, so a page back from a reconnection gets
what was relayed while it was away (functions/chat.py ``join`` with ``{"rejoin": true, "since": ts}``).

Partition = the room, RowKey = ``<ts, 13 digits>-<id>`` (time order). Cost: 1 insert per message, 1 query per
re-join. Bounded by age: the chat's timer ``chat_history_sweep`` (:func:`prune`) deletes the rows older than
``SIOLESS_CHAT_HISTORY_MAX_AGE_SECONDS`` (docs/limits.md).
"""

from __future__ import annotations

import os
import time
from functools import partial
from itertools import islice
from typing import Any

from shared import StorageError
from shared.storage import call_storage, table_client

from ._limits import setting_number

TABLE = "chatmessages"
HISTORY = 100  # messages a re-joining page gets at most
DEFAULT_MAX_AGE = 3600.0  # seconds
BATCH = 100  # deletes per Table transaction (the service's limit; one partition per transaction)
_FIELDS = ("id", "room", "from", "text", "ts")


def _key(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.~" else f"%{ord(c):02x}" for c in text)


def enabled() -> bool:
    """``SIOLESS_CHAT_HISTORY=0`` turns it off (no storage call per message; rejoins get no ``missed``)."""
    return os.environ.get("SIOLESS_CHAT_HISTORY", "1").strip() != "0"


def max_age() -> float:
    """``SIOLESS_CHAT_HISTORY_MAX_AGE_SECONDS``: how long a message is kept for re-joining pages."""
    return setting_number("SIOLESS_CHAT_HISTORY_MAX_AGE_SECONDS", DEFAULT_MAX_AGE)


def record(message: dict[str, Any]) -> None:
    entity = {"PartitionKey": _key(message["room"]), "RowKey": f"{message['ts']:013d}-{message['id']}", **message}
    entity["sender"] = entity.pop("from")  # "from" reads badly in OData filters; stored under another name
    entity["ts"] = float(message["ts"])  # milliseconds overflow Int32 (the SDK's type for int); a double is exact
    call_storage(partial(table_client(TABLE).create_entity, entity), "store the message")


def since(room: str, ts: int) -> list[dict[str, Any]]:
    """Messages of ``room`` with a timestamp after ``ts``, oldest first, the first :data:`HISTORY` of them."""
    table = table_client(TABLE)
    query = "PartitionKey eq @pk and RowKey gt @after"
    params = {"pk": _key(room), "after": f"{max(ts, 0):013d}-~"}
    pages = table.query_entities(query, parameters=params, results_per_page=HISTORY)
    rows = call_storage(lambda: list(islice(pages, HISTORY)), "read missed messages")
    return [
        {"id": row["id"], "room": row["room"], "from": row["sender"], "text": row["text"], "ts": int(row["ts"])}
        for row in rows
    ]


def prune(max_age: float, now_ms: int | None = None) -> int:
    """Delete the messages (every room) older than ``max_age`` seconds; returns how many went.

    One query over the table (RowKeys start with the timestamp: ``RowKey lt <cutoff>`` selects the old rows of
    every room) and one transaction per room and 100 rows. A row another sweep deleted meanwhile fails its
    transaction: that batch is deleted row by row (the SDK ignores a missing row there)."""
    if max_age < 0:
        raise ValueError(f"max_age must not be negative, got {max_age!r}")
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    cutoff = f"{max(now_ms - int(max_age * 1000), 0):013d}"
    table = table_client(TABLE)
    rows = call_storage(
        lambda: list(
            table.query_entities("RowKey lt @cutoff", parameters={"cutoff": cutoff}, select=["PartitionKey", "RowKey"])
        ),
        "list old messages",
    )
    by_room: dict[str, list[str]] = {}
    for row in rows:
        by_room.setdefault(row["PartitionKey"], []).append(row["RowKey"])
    for room, keys in by_room.items():
        for start in range(0, len(keys), BATCH):
            batch = [("delete", {"PartitionKey": room, "RowKey": key}) for key in keys[start : start + BATCH]]
            try:
                call_storage(partial(table.submit_transaction, batch), "delete old messages")
            except StorageError:
                raise
            except Exception:  # TableTransactionError: a row of the batch is gone already
                for _, key in batch:
                    call_storage(partial(table.delete_entity, room, key["RowKey"]), "delete old messages")
    return len(rows)

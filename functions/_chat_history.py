"""The chat's recent messages per room in Azure Table ``chatmessages``, so a page back from a reconnection gets
what was relayed while it was away (functions/chat.py ``join`` with ``{"rejoin": true, "since": ts}``).

Partition = the room, RowKey = ``<ts, 13 digits>-<id>`` (time order). Cost: 1 insert per message, 1 query per
re-join. Rows are not pruned here: a deployment that keeps chats for long adds a timer that deletes old rows.
"""

from __future__ import annotations

import os
from functools import partial
from itertools import islice
from typing import Any

from shared.storage import call_storage, table_client

TABLE = "chatmessages"
HISTORY = 100  # messages a re-joining page gets at most
_FIELDS = ("id", "room", "from", "text", "ts")


def _key(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.~" else f"%{ord(c):02x}" for c in text)


def enabled() -> bool:
    """``SIOLESS_CHAT_HISTORY=0`` turns it off (no storage call per message; rejoins get no ``missed``)."""
    return os.environ.get("SIOLESS_CHAT_HISTORY", "1").strip() != "0"


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

"""Hub ``whiteboard``: the collaborative whiteboard sample, serverless (docs/whiteboard.md).

The events of Azure-Samples/socket.io-webapp-integration (docs/whiteboard.md), each client emit carrying one
array argument. Shapes live in Azure Tables (one row per shape), the background image in Blob Storage, the
user count in ``shared.presence``; no state in memory, so any instance can serve any event.

- ``addShape [id, shape]`` / ``updateShape [author, id, shape]`` store the shape (``updateShape`` is also
  relayed); ``patchShape [author, id, points]`` is relayed only (not stored: the drawing client ends every
  stroke with ``updateShape``, which stores the whole shape); ``removeShape [author, id]``; ``clear author``;
  ``newMessage [author, name, text]`` (relayed, not stored).
- ``GET /api/diagram``, ``POST /api/background/upload``, ``GET /api/background/{id}``,
  ``GET /api/whiteboard/negotiate``, ``GET /api/whiteboard`` (the page).

Bad input gets an error ack (``{"error": ...}``) and the sender a ``refused {event, error}`` event (for clients
that ask for no ack), and changes nothing; relays go to everyone but the sender.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import azure.functions as func

from shared import AckError, Socket, SocketIOBlueprint, StorageError, presence
from shared.storage import call_storage, container_client, table_client

from . import _identity, _negotiate_limits
from . import _whiteboard_model as model
from ._identity import NEGOTIATE_USER_ID
from ._limits import Budget, EventLimits, setting_number
from ._service import socket_exists

HUB = "whiteboard"
BOARD = "default"  # the sample has one board; the partition key leaves room for more
SHAPES_TABLE = "whiteboardshapes"
META_TABLE = "whiteboardmeta"
BACKGROUNDS = "whiteboard-backgrounds"
MAX_UPLOAD = 5 * 1024 * 1024
MAX_MESSAGE = 1000
# Presence sweep (docs/whiteboard.md "Settings"): the timer's NCRONTAB schedule is an app setting, and sockets
# younger than the minimum age are left alone (they may still be arriving at the service).
SWEEP_SCHEDULE = "%SIOLESS_PRESENCE_SWEEP_SCHEDULE%"
PRESENCE_MIN_AGE_SETTING = "SIOLESS_PRESENCE_MIN_AGE_SECONDS"
DEFAULT_PRESENCE_MIN_AGE = 20.0
# Service checks the sweep runs at once (one HEAD each): below the SDK's HTTP connection pool (10 per host).
DEFAULT_SWEEP_CONCURRENCY = 8
DEFAULT_MAX_SHAPES = 2000

logger = logging.getLogger("whiteboard")
bp = SocketIOBlueprint(hub=HUB, presence=True)
_PAGE = Path(__file__).resolve().parent.parent / "web" / "whiteboard" / "index.html"
_BACKGROUND_ID = re.compile(r"^[0-9a-f]{32}$")


# -- socket events ------------------------------------------------------------------------------------------


def _broadcast_users(socket: Socket) -> None:
    count, taken_at = presence.snapshot(HUB, socket.namespace)
    # Counts taken concurrently may arrive out of order: clients keep the newest (docs/state.md "Counting").
    socket.server.emit("updateUser", count, taken_at)


@bp.on_connected()
def connected(socket: Socket) -> None:
    _broadcast_users(socket)


@bp.on_disconnect()
def disconnected(socket: Socket) -> None:
    _broadcast_users(socket)
    limits.forget(socket.namespace, socket.id)


@bp.function_name("whiteboard_presence_sweep")
@bp.timer_trigger(arg_name="timer", schedule=SWEEP_SCHEDULE, run_on_startup=False, use_monitor=False)
@bp.emitter_output("out")
def sweep_presence(timer: func.TimerRequest, out: func.Out[str]) -> None:
    """Forget sockets the service no longer has (their ``disconnected`` never arrived: a crash, a lost webhook)
    and, if any, send everyone the corrected user count (docs/state.md "Pruning")."""
    min_age = _setting_seconds(PRESENCE_MIN_AGE_SETTING, DEFAULT_PRESENCE_MIN_AGE)
    concurrency = int(setting_number("SIOLESS_PRESENCE_SWEEP_CONCURRENCY", DEFAULT_SWEEP_CONCURRENCY, minimum=1))
    exists = partial(socket_exists, HUB, "/")
    removed = presence.prune(HUB, "/", exists, min_age=min_age, concurrency=concurrency)
    for socket_id in removed:
        limits.forget("/", socket_id)
    _negotiate_limits.prune_idle(HUB)  # one query: the partition holds only clients active in the last burst
    if removed:
        logger.info("presence sweep: forgot %d socket(s) the service no longer has", len(removed))
        count, taken_at = presence.snapshot(HUB, "/")
        with bp.emitter(out) as emitter:
            emitter.emit("updateUser", count, taken_at)


def _setting_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        logger.warning("%s=%r is not a number of seconds; using %s", name, raw, default)
        return default
    return max(value, 0.0)


def _store(shape_id: str, shape: dict[str, Any]) -> None:
    entity = model.to_entity(BOARD, shape_id, shape)
    table = table_client(SHAPES_TABLE)
    from azure.core.exceptions import ResourceNotFoundError
    from azure.data.tables import UpdateMode

    try:  # a new shape must fit under the board's bound; replacing one never adds
        call_storage(lambda: table.get_entity(BOARD, shape_id, select=["RowKey"]), "find the shape")
    except ResourceNotFoundError:
        _check_room_for_one_more(table)
    call_storage(lambda: table.upsert_entity(entity, mode=UpdateMode.REPLACE), f"store shape {shape_id!r}")


def _check_room_for_one_more(table: Any) -> None:
    """The bound on shapes per board (docs/whiteboard.md "Settings"). Counting lists the board's keys (one
    page per 1,000 shapes); adds racing on several instances can each see room for one, so a board can end
    up a few shapes over the bound, never more than the number of concurrent writers."""
    bound = int(setting_number("SIOLESS_WHITEBOARD_MAX_SHAPES", DEFAULT_MAX_SHAPES, minimum=1))
    rows = call_storage(
        lambda: list(table.query_entities("PartitionKey eq @pk", parameters={"pk": BOARD}, select=["RowKey"])),
        "count shapes",
    )
    if len(rows) >= bound:
        raise AckError(f"the board is full: {len(rows)} shapes (at most {bound}); remove shapes or clear the board")


def _budget() -> Budget:
    return Budget(
        max_bytes=int(setting_number("SIOLESS_WHITEBOARD_MAX_EVENT_BYTES", 262_144, minimum=1)),
        per_second=setting_number("SIOLESS_WHITEBOARD_EVENTS_PER_SECOND", 20),
        burst=setting_number("SIOLESS_WHITEBOARD_EVENT_BURST", 60, minimum=1),
    )


limits = EventLimits(HUB, _budget)

REFUSED = "refused"
F = TypeVar("F", bound=Callable[..., Any])


def tell_sender(event: str) -> Callable[[F], F]:
    """A refused event also sends the sender ``refused {"event", "error"}``, the error ack's reason.

    Clients that ask for no ack (Microsoft's whiteboard client) otherwise never learn why their input went
    nowhere; one listener shows it (docs/whiteboard.md#when-a-limit-refuses-its-input)."""

    def decorate(handler: F) -> F:
        @functools.wraps(handler)
        def refusing(socket: Socket, *args: Any) -> Any:
            try:
                return handler(socket, *args)
            except AckError as exc:
                socket.emit(REFUSED, {"event": event, "error": exc.message})
                raise

        return refusing  # type: ignore[return-value]

    return decorate


@bp.on("addShape")
@tell_sender("addShape")
@limits.guard("addShape")
def add_shape(socket: Socket, message: Any) -> dict[str, Any]:
    shape_id, shape = model.unpack(message, ("id", "shape"), "addShape")
    shape_id, shape = model.shape_id(shape_id), model.check_shape(shape)
    _store(shape_id, shape)
    return {"ok": True}


@bp.on("updateShape")
@tell_sender("updateShape")
@limits.guard("updateShape")
def update_shape(socket: Socket, message: Any) -> dict[str, Any]:
    author, shape_id, shape = model.unpack(message, ("author", "id", "shape"), "updateShape")
    author, shape_id, shape = model.author(author), model.shape_id(shape_id), model.check_shape(shape)
    _store(shape_id, shape)
    socket.broadcast.emit("updateShape", [author, shape_id, shape])
    return {"ok": True}


@bp.on("patchShape")
@tell_sender("patchShape")
@limits.guard("patchShape")
def patch_shape(socket: Socket, message: Any) -> dict[str, Any]:
    author, shape_id, points = model.unpack(message, ("author", "id", "points"), "patchShape")
    author, shape_id, points = model.author(author), model.shape_id(shape_id), model.check_points(points)
    socket.broadcast.emit("patchShape", [author, shape_id, points])
    return {"ok": True}


@bp.on("removeShape")
@tell_sender("removeShape")
@limits.guard("removeShape")
def remove_shape(socket: Socket, message: Any) -> dict[str, Any]:
    author, shape_id = model.unpack(message, ("author", "id"), "removeShape")
    author, shape_id = model.author(author), model.shape_id(shape_id)
    table = table_client(SHAPES_TABLE)
    from azure.core.exceptions import ResourceNotFoundError

    try:  # the SDK's delete ignores a missing entity: look first, so an unknown id gets a clear answer
        call_storage(lambda: table.get_entity(BOARD, shape_id, select=["RowKey"]), "find the shape")
    except ResourceNotFoundError:
        raise AckError(f"unknown shape id {shape_id!r}") from None
    call_storage(lambda: table.delete_entity(BOARD, shape_id), "remove the shape")
    socket.broadcast.emit("removeShape", [author, shape_id])
    return {"ok": True}


@bp.on("clear")
@tell_sender("clear")
@limits.guard("clear")
def clear(socket: Socket, message: Any) -> dict[str, Any]:
    author = model.author(message[0] if isinstance(message, list) and len(message) == 1 else message)
    removed = _clear_board()
    socket.broadcast.emit("clear", author)
    return {"ok": True, "removed": removed}


def _clear_board() -> int:
    table = table_client(SHAPES_TABLE)
    rows = call_storage(
        lambda: list(table.query_entities("PartitionKey eq @pk", parameters={"pk": BOARD}, select=["RowKey"])),
        "list shapes",
    )
    keys = [row["RowKey"] for row in rows]
    for start in range(0, len(keys), 100):
        operations = [("delete", {"PartitionKey": BOARD, "RowKey": key}) for key in keys[start : start + 100]]
        try:
            call_storage(partial(table.submit_transaction, operations), "clear shapes")
        except StorageError:
            raise
        except Exception:  # a shape removed meanwhile fails the batch: delete one by one (missing is fine)
            for _, row in operations:
                call_storage(partial(table.delete_entity, BOARD, row["RowKey"]), "clear shapes")
    _set_background(None)
    return len(keys)


@bp.on("newMessage")
@tell_sender("newMessage")
@limits.guard("newMessage")
def new_message(socket: Socket, message: Any) -> dict[str, Any]:
    author, name, text = model.unpack(message, ("author", "name", "text"), "newMessage")
    author, name = model.author(author), model.text(name, "name", 64)
    text = model.text(text, "text", MAX_MESSAGE)
    socket.broadcast.emit("newMessage", [author, name, text])
    return {"ok": True}


# -- background ---------------------------------------------------------------------------------------------


def _get_background() -> str | None:
    from azure.core.exceptions import ResourceNotFoundError

    table = table_client(META_TABLE)
    try:
        entity = call_storage(lambda: table.get_entity(BOARD, "background"), "read the background")
    except ResourceNotFoundError:
        return None
    return entity.get("id") or None


def _set_background(background_id: str | None) -> None:
    table = table_client(META_TABLE)
    entity = {"PartitionKey": BOARD, "RowKey": "background", "id": background_id or ""}
    call_storage(lambda: table.upsert_entity(entity), "set the background")


def _json(value: Any, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(value), status_code=status, mimetype="application/json", headers={"Cache-Control": "no-store"}
    )


def _error(message: str, status: int) -> func.HttpResponse:
    return _json({"error": message}, status)


@bp.function_name("whiteboard_diagram")
@bp.route(route="diagram", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def diagram(req: func.HttpRequest) -> func.HttpResponse:
    """``{"shapes": {id: shape}, "background": id | null}``, shapes in drawing order."""
    try:
        table = table_client(SHAPES_TABLE)
        rows = call_storage(
            lambda: list(table.query_entities("PartitionKey eq @pk", parameters={"pk": BOARD})), "read shapes"
        )
        background = _get_background()
    except StorageError as exc:
        return _error(exc.message, 503)
    shapes = model.from_entities(rows)
    return _json({"shapes": shapes, "background": background})


@bp.function_name("whiteboard_background_upload")
@bp.route(route="background/upload", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.emitter_output("out")
def upload_background(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
    """The image as the raw body (``Content-Type: image/...``) or as multipart field ``file``; <= 5 MiB."""
    try:
        content, content_type = model.image_from_request(
            req.get_body() or b"", req.headers.get("content-type", ""), MAX_UPLOAD
        )
    except model.BadImage as exc:
        return _error(str(exc), exc.status)
    background_id = os.urandom(16).hex()  # not uuid4: importing uuid costs cold start (it loads platform)
    try:
        container = container_client(BACKGROUNDS)
        from azure.storage.blob import ContentSettings

        call_storage(
            lambda: container.upload_blob(
                background_id, content, overwrite=True, content_settings=ContentSettings(content_type=content_type)
            ),
            "store the background",
        )
        previous = _get_background()
        _set_background(background_id)
    except StorageError as exc:
        return _error(exc.message, 503)
    if previous:
        try:  # best effort: a leftover blob is only storage, never shown
            call_storage(lambda: container.delete_blob(previous), "delete the old background")
        except Exception as exc:
            logger.warning("could not delete background %s: %s", previous, exc)
    with bp.emitter(out) as emitter:
        emitter.emit("updateBackground", background_id)
    return _json({"id": background_id})


@bp.function_name("whiteboard_background")
@bp.route(route="background/{id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def background(req: func.HttpRequest) -> func.HttpResponse:
    background_id = req.route_params.get("id", "")
    if not _BACKGROUND_ID.match(background_id):
        return _error("a background id is 32 hexadecimal characters", 400)
    from azure.core.exceptions import ResourceNotFoundError

    try:
        container = container_client(BACKGROUNDS)
        downloaded = call_storage(lambda: container.download_blob(background_id), "read the background")
        data = call_storage(downloaded.readall, "read the background")
    except ResourceNotFoundError:
        return _error(f"no background {background_id}", 404)
    except StorageError as exc:
        return _error(exc.message, 503)
    content_type = downloaded.properties.content_settings.content_type or "application/octet-stream"
    return func.HttpResponse(
        data, status_code=200, mimetype=content_type, headers={"Cache-Control": "public, max-age=86400, immutable"}
    )


@bp.function_name("whiteboard_negotiate")
@bp.route(route="whiteboard/negotiate", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.generic_input_binding(arg_name="negotiation", type="socketionegotiation", hub=HUB, userId=NEGOTIATE_USER_ID)
def negotiate(req: func.HttpRequest, negotiation: str) -> func.HttpResponse:
    """``{endpoint, path, token, userId, name}`` for ``io(endpoint, {path, query: {access_token: token}})``:
    the signed-in principal, else a guest (functions/_identity.py); 429 for a client that negotiates too often
    (functions/_negotiate_limits.py)."""
    return _negotiate_limits.refusal(req, HUB) or _identity.negotiate(req, negotiation, HUB)


@bp.function_name("whiteboard_page")
@bp.route(route="whiteboard", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def page(req: func.HttpRequest) -> func.HttpResponse:
    """The whiteboard page; its scripts and styles come from ``/api/pages/whiteboard/...`` (functions/pages.py)."""
    return func.HttpResponse(
        _PAGE.read_bytes(), mimetype="text/html", charset="utf-8", headers={"Cache-Control": "no-cache"}
    )

"""The whiteboard's data model: validation of what clients send, and shapes as table entities (pure, stdlib).

A shape is ``{"kind", "color", "width", "data"}`` (the original sample's model): ``data`` is ``[x1, y1, x2, y2]`` for
line/rect/ellipse, ``[cx, cy, r]`` for circle, ``[x0, y0, x1, y1, ...]`` for polyline. A table property holds at
most 64 KiB and an entity 1 MiB, so ``data`` is stored as JSON split over properties ``d0``, ``d1``, ... of
``CHUNK`` characters; ``MAX_POINTS`` keeps the whole entity far below 1 MiB (docs/whiteboard.md "Limits").
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from shared import AckError

KINDS = {"polyline": None, "line": 4, "rect": 4, "circle": 3, "ellipse": 4}  # kind -> fixed data length
MAX_POINTS = 10_000  # per polyline; 20,000 numbers of at most 12 characters: < 250,000 characters of JSON
MAX_PATCH_POINTS = 2_000
MAX_COORDINATE = 1_000_000
MAX_WIDTH = 100
CHUNK = 30_000  # characters per property: 60 KB as UTF-16, under the 64 KiB property limit
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_COLOR = re.compile(r"^(#[0-9A-Fa-f]{3,8}|[A-Za-z]{1,32})$")
_IMAGE_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


class BadImage(ValueError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def unpack(message: Any, names: tuple[str, ...], event: str) -> tuple[Any, ...]:
    """The one array argument every whiteboard emit carries, as a tuple of ``len(names)`` items."""
    if not isinstance(message, list) or len(message) != len(names):
        got = f"an array of {len(message)}" if isinstance(message, list) else type(message).__name__
        raise AckError(f"{event} expects one array [{', '.join(names)}], got {got}")
    return tuple(message)


def shape_id(value: Any) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise AckError(f"a shape id is 1 to 64 letters, digits, '-' or '_', got {value!r:.80}")
    return value


def author(value: Any) -> str:
    return text(value, "author", 64)


def text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AckError(f"{what} must be a non-empty string")
    if len(value) > limit:
        raise AckError(f"{what} is longer than {limit} characters")
    return value


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AckError(f"shape coordinates must be numbers, got {value!r:.40}")
    if not math.isfinite(value) or abs(value) > MAX_COORDINATE:
        raise AckError(f"shape coordinates must be finite and within ±{MAX_COORDINATE}, got {value!r:.40}")
    return value if isinstance(value, int) else round(value, 2)


def check_points(points: Any, limit: int = MAX_PATCH_POINTS) -> list[int | float]:
    """An even-length list of coordinates: ``[x0, y0, x1, y1, ...]`` with at most ``limit`` points."""
    if not isinstance(points, list) or not points or len(points) % 2:
        raise AckError("points must be a non-empty array of x, y pairs")
    if len(points) > 2 * limit:
        raise AckError(f"too many points: {len(points) // 2} (at most {limit})")
    return [_number(v) for v in points]


def check_shape(shape: Any) -> dict[str, Any]:
    """The validated, normalized shape; AckError naming what is wrong."""
    if not isinstance(shape, Mapping):
        raise AckError(f"a shape is an object {{kind, color, width, data}}, got {type(shape).__name__}")
    kind = shape.get("kind")
    if kind not in KINDS:
        raise AckError(f"unknown shape kind {kind!r:.40}; one of {', '.join(KINDS)}")
    color = shape.get("color")
    if not isinstance(color, str) or not _COLOR.match(color):
        raise AckError(f"color must be a colour name or #hex, got {color!r:.40}")
    width = shape.get("width")
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width <= MAX_WIDTH:
        raise AckError(f"width must be a number in (0, {MAX_WIDTH}], got {width!r:.40}")
    data = shape.get("data")
    expected = KINDS[kind]
    if expected is None:
        if isinstance(data, list) and len(data) > 2 * MAX_POINTS:
            raise AckError(f"polyline too long: {len(data) // 2} points (at most {MAX_POINTS}); split the stroke")
        values = check_points(data, MAX_POINTS)
    else:
        if not isinstance(data, list) or len(data) != expected:
            got = len(data) if isinstance(data, list) else type(data).__name__
            raise AckError(f"a {kind} has {expected} numbers of data, got {got}")
        values = [_number(v) for v in data]
        if kind == "circle" and values[2] < 0:
            raise AckError("a circle's radius must not be negative")
    return {"kind": kind, "color": color, "width": width, "data": values}


def to_entity(board: str, shape_id: str, shape: Mapping[str, Any]) -> dict[str, Any]:
    data = json.dumps(shape["data"], separators=(",", ":"))
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or ["[]"]
    entity: dict[str, Any] = {
        "PartitionKey": board,
        "RowKey": shape_id,
        "kind": shape["kind"],
        "color": shape["color"],
        "width": float(shape["width"]),
        "chunks": len(chunks),
        "t": time.time(),
    }
    for index, chunk in enumerate(chunks):
        entity[f"d{index}"] = chunk
    return entity


def from_entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    data = json.loads("".join(entity[f"d{i}"] for i in range(int(entity["chunks"]))))
    width = entity["width"]
    return {
        "kind": entity["kind"],
        "color": entity["color"],
        "width": int(width) if float(width).is_integer() else width,
        "data": data,
    }


def from_entities(entities: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{id: shape}`` in drawing order (the time each shape was last stored)."""
    ordered = sorted(entities, key=lambda e: (float(e.get("t") or 0), e["RowKey"]))
    return {entity["RowKey"]: from_entity(entity) for entity in ordered}


def sniff_image(content: bytes) -> str | None:
    for magic, kind in _IMAGE_TYPES.items():
        if content.startswith(magic):
            return kind
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_from_request(body: bytes, content_type: str, limit: int) -> tuple[bytes, str]:
    """``(image bytes, content type)`` from a raw image body or a multipart form with a ``file`` field."""
    if len(body) > limit + 64 * 1024:
        raise BadImage(f"the upload is larger than {limit // (1024 * 1024)} MiB", 413)
    if content_type.lower().startswith("multipart/form-data"):
        # Imported here: multipart parsing is rare and the email package costs cold start.
        from email.parser import BytesParser
        from email.policy import HTTP

        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        parts = [p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
        if not message.is_multipart() or not parts:
            raise BadImage("the form has no 'file' field", 400)
        payload = parts[0].get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
    else:
        content = body
    if not content:
        raise BadImage("the upload is empty", 400)
    if len(content) > limit:
        raise BadImage(f"the image is larger than {limit // (1024 * 1024)} MiB", 413)
    kind = sniff_image(content)
    if kind is None:
        raise BadImage("not a PNG, JPEG, GIF or WebP image", 415)
    return content, kind

"""functions/_whiteboard_model.py: validation, chunked entities, uploads (no storage needed)."""

from __future__ import annotations

import json

import pytest

from functions import _whiteboard_model as model
from shared import AckError


def test_valid_shapes_are_normalized() -> None:
    shape = model.check_shape({"kind": "polyline", "color": "#ABC", "width": 2, "data": [1, 2.3456, 3, 4]})
    assert shape == {"kind": "polyline", "color": "#ABC", "width": 2, "data": [1, 2.35, 3, 4]}
    assert model.check_shape({"kind": "circle", "color": "red", "width": 1, "data": [1, 2, 3], "x": 1})["data"] == [
        1,
        2,
        3,
    ]


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ([], "is an object"),
        ({"kind": "star", "color": "red", "width": 1, "data": [1, 2]}, "unknown shape kind"),
        ({"kind": "line", "color": "red", "width": 1, "data": [1, 2, 3]}, "has 4 numbers"),
        ({"kind": "circle", "color": "red", "width": 1, "data": [1, 2, -3]}, "radius"),
        ({"kind": "line", "color": "url(x)", "width": 1, "data": [1, 2, 3, 4]}, "color"),
        ({"kind": "line", "color": "red", "width": True, "data": [1, 2, 3, 4]}, "width"),
        ({"kind": "line", "color": "red", "width": 1, "data": [1, 2, 3, float("nan")]}, "finite"),
        ({"kind": "line", "color": "red", "width": 1, "data": [1, 2, 3, 10**7]}, "within"),
        ({"kind": "polyline", "color": "red", "width": 1, "data": [1, 2, 3]}, "pairs"),
        ({"kind": "polyline", "color": "red", "width": 1, "data": [0] * 20002}, "polyline too long"),
    ],
)
def test_bad_shapes_are_refused_with_a_reason(shape: object, message: str) -> None:
    with pytest.raises(AckError, match=message):
        model.check_shape(shape)


def test_unpack_and_ids() -> None:
    assert model.unpack(["a", "b"], ("author", "id"), "removeShape") == ("a", "b")
    with pytest.raises(AckError, match=r"removeShape expects one array \[author, id\], got an array of 1"):
        model.unpack(["a"], ("author", "id"), "removeShape")
    with pytest.raises(AckError, match="got str"):
        model.unpack("a", ("author", "id"), "removeShape")
    with pytest.raises(AckError, match="shape id"):
        model.shape_id("a/b")


def test_largest_polyline_fits_an_entity() -> None:
    data = [-999_999.99] * (2 * model.MAX_POINTS)
    shape = model.check_shape({"kind": "polyline", "color": "black", "width": 1, "data": data})
    entity = model.to_entity("b", "id", shape)
    chunks = [v for k, v in entity.items() if k.startswith("d")]
    assert entity["chunks"] == len(chunks) > 1
    assert all(len(c.encode("utf-16-le")) <= 64 * 1024 for c in chunks), "each property under 64 KiB"
    assert sum(len(str(v).encode("utf-16-le")) for v in entity.values()) < 1024 * 1024 * 0.6, "entity under 1 MiB"
    assert model.from_entity(entity) == shape


def test_entities_come_back_in_drawing_order() -> None:
    shape = {"kind": "line", "color": "red", "width": 1.5, "data": [1, 2, 3, 4]}
    first, second = model.to_entity("b", "z", shape), model.to_entity("b", "a", shape)
    second["t"] = first["t"] + 1
    assert list(model.from_entities([second, first])) == ["z", "a"]
    assert json.loads(json.dumps(model.from_entities([first])))["z"]["width"] == 1.5


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 20


def test_images_raw_and_multipart() -> None:
    assert model.image_from_request(PNG, "image/png", 1000) == (PNG, "image/png")
    assert model.image_from_request(b"RIFF\0\0\0\0WEBPVP8 ", "image/webp", 1000)[1] == "image/webp"
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + PNG + b"\r\n--XX--\r\n"
    )
    assert model.image_from_request(body, "multipart/form-data; boundary=XX", 1000) == (PNG, "image/png")


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"", "image/png", 400),
        (b"<svg></svg>", "image/svg+xml", 415),
        (b"GIF8" + b"\0" * 10, "image/gif", 415),
        (PNG + b"\0" * 2000, "image/png", 413),
        (
            b'--XX\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--XX--\r\n',
            "multipart/form-data; boundary=XX",
            400,
        ),
    ],
)
def test_bad_uploads(body: bytes, content_type: str, status: int) -> None:
    with pytest.raises(model.BadImage) as raised:
        model.image_from_request(body, content_type, 1000)
    assert raised.value.status == status and str(raised.value)

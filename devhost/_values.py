"""Values between the host and the worker: TypedData in, and what the host makes of TypedData coming back.

Every rule here is the host's or the Socket.IO extension's (docs/devhost.md#the-host-role):

- :func:`typed_data`: a host value as the ``TypedData`` the host sends (str -> ``string``, dict/list -> ``json``,
  bytes -> ``bytes``, int -> ``int``, float -> ``double``).
- :func:`host_value`: ``TypedData`` from the worker as the host reads it (``string`` stays a string, ``json`` is
  parsed into an object/array, ``bytes`` stay bytes, ``http`` stays the ``RpcHttp`` message).
- :func:`merge_return_dict`: a returned JSON object's top-level keys overwrite same-named output bindings when
  the function has no ``$return`` binding (the host's ``HandleOutputDictionary``).
- :func:`socketio_items`: one output value as the list of items the host adds to the ``socketio`` collector
  (``FunctionBinding.ReadAsEnumerable``): a ``json`` array is iterated, a JSON-looking string is parsed (an array
  iterated, anything else wrapped), any other value is one item. Every item must be a JSON object.
- :func:`trigger_response`: the ``socketiotrigger`` return value as the extension's ``BuildValidResponse`` reads
  it: a JSON object (dict, or a string holding one) with case-sensitive ``statusCode`` and ``ack``.
"""

from __future__ import annotations

import http
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import _protos


class OutputValueError(ValueError):
    """An output value the host cannot bind; the invocation fails with this message."""


class ReturnValueError(ValueError):
    """A trigger return value the extension cannot use; the webhook answers 500 with this message."""


def typed_data(value: Any) -> Any:
    """The ``TypedData`` for a host value (``None`` -> an empty ``TypedData``)."""
    if value is None:
        return _protos.TypedData()
    if isinstance(value, str):
        return _protos.TypedData(string=value)
    if isinstance(value, (bytes, bytearray)):
        return _protos.TypedData(bytes=bytes(value))
    if isinstance(value, bool):
        return _protos.TypedData(int=int(value))
    if isinstance(value, int):
        return _protos.TypedData(int=value)
    if isinstance(value, float):
        return _protos.TypedData(double=value)
    if isinstance(value, (dict, list)):
        return _protos.TypedData(json=json.dumps(value, ensure_ascii=False))
    raise TypeError(f"no TypedData for a {type(value).__name__}")


def host_value(data: Any) -> Any:
    """A ``TypedData`` from the worker as a host value; an unset ``TypedData`` is ``None``."""
    if data is None:
        return None
    kind = data.WhichOneof("data")
    if kind is None:
        return None
    if kind == "json":
        return json.loads(data.json)
    if kind in ("collection_string", "collection_bytes", "collection_double", "collection_sint64"):
        return list(getattr(getattr(data, kind), kind.removeprefix("collection_")))
    return getattr(data, kind)


def merge_return_dict(
    return_value: Any, outputs: dict[str, Any], output_names: Iterable[str], has_return_binding: bool
) -> dict[str, Any]:
    """``HandleOutputDictionary``: without ``$return``, a returned object's keys overwrite same-named outputs."""
    if has_return_binding or not isinstance(return_value, dict):
        return outputs
    merged = dict(outputs)
    for name in output_names:
        if name in return_value:
            merged[name] = return_value[name]
    return merged


def _looks_like_json(text: str) -> bool:
    # The host's Utility.IsJson: trimmed text that starts with { or [ and ends with } or ].
    stripped = text.strip()
    return len(stripped) >= 2 and stripped[0] in "{[" and stripped[-1] in "}]"


def socketio_items(value: Any) -> list[dict[str, Any]]:
    """The items the host adds to the ``socketio`` collector for one output value; each must be an object."""
    if isinstance(value, list):
        items = value
    elif isinstance(value, str) and _looks_like_json(value):
        try:
            token = json.loads(value)
        except json.JSONDecodeError as exc:
            raise OutputValueError(f"socketio output is not valid JSON: {exc.msg}.") from None
        items = token if isinstance(token, list) else [token]
    else:
        items = [value]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise OutputValueError(
                f"socketio output item {index} is {_kind(item)}, not a JSON object (an action with actionName)."
            )
    return items


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "a string that is not a JSON object" if not _looks_like_json(value) else "a string"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"


@dataclass(frozen=True)
class TriggerResponse:
    """What the extension answers for a connect or acked event: the status and the ack arguments, if any."""

    status: int
    ack: list[Any] | None


def _status_code(value: Any) -> int:
    """``statusCode`` as an int or a .NET ``HttpStatusCode`` name (``Unauthorized``)."""
    if isinstance(value, bool):
        raise ReturnValueError(f"statusCode must be an integer or a status name, got {value!r}.")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", value).upper()
        try:
            return int(http.HTTPStatus[snake])
        except KeyError:
            pass
    raise ReturnValueError(f"statusCode {value!r} is not an HTTP status.")


def trigger_response(value: Any) -> TriggerResponse:
    """``BuildValidResponse``: ``None`` -> 200; a JSON object (dict or object string) -> its statusCode/ack."""
    if value is None:
        return TriggerResponse(200, None)
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ReturnValueError(f"Response should be a JObject: the return value is not JSON ({exc.msg}).") from None
    if not isinstance(value, Mapping):
        raise ReturnValueError(
            f'Response should be a JObject: got {_kind(value)} (return json.dumps({{"ack": [...]}}) or a dict).'
        )
    status = _status_code(value["statusCode"]) if "statusCode" in value else 200
    ack = value.get("ack")
    if ack is not None and not isinstance(ack, list):
        raise ReturnValueError(f"'ack' must be a JSON array, got {_kind(ack)}.")
    return TriggerResponse(status, ack)

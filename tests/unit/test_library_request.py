"""ConnectRequest: multi-valued maps, case-insensitive headers, certificates, user id, no secrets in repr."""

from __future__ import annotations

import pytest

from shared import ConnectRequest
from shared._request import NAME_IDENTIFIER_CLAIM, TriggerDataError


def make(**fields: object) -> ConnectRequest:
    return ConnectRequest.from_trigger({"namespace": "/", "socketId": "s", **fields})


def test_multi_valued_maps_and_one_value_getter() -> None:
    request = make(query={"room": ["a", "b"], "EIO": ["4"]}, claims={"sub": ["alice"], "role": ["x", "y"]})
    assert request.query["room"] == ["a", "b"]
    assert request.query.get_one("room") == "a"
    assert request.query.get_all("room") == ["a", "b"]
    assert request.query.get_one("missing") is None
    assert request.query.get_one("missing", "d") == "d"
    assert request.claims.get_all("role") == ["x", "y"]
    assert "room" in request.query and "Room" not in request.query


def test_header_names_are_case_insensitive() -> None:
    request = make(headers={"User-Agent": ["node"], "x-Custom": ["1", "2"]})
    assert request.headers.get_one("user-agent") == "node"
    assert request.headers["USER-AGENT"] == ["node"]
    assert request.headers.get_all("X-CUSTOM") == ["1", "2"]
    assert "x-custom" in request.headers


def test_user_id_from_sub_or_name_identifier() -> None:
    assert make(claims={"sub": ["alice"]}).user_id == "alice"
    assert make(claims={NAME_IDENTIFIER_CLAIM: ["bob"]}).user_id == "bob"
    assert make(claims={}).user_id is None
    assert make(claims=None).user_id is None
    assert make().user_id is None


@pytest.mark.parametrize("key", ["thumbprint", "Thumbprint"])
def test_certificate_thumbprint_in_either_case(key: str) -> None:
    request = make(clientCertificates=[{key: "ABC", "content": "-----BEGIN CERTIFICATE-----"}])
    assert request.client_certificates[0].thumbprint == "ABC"
    assert request.client_certificates[0].content == "-----BEGIN CERTIFICATE-----"


def test_null_and_empty_values() -> None:
    request = make(claims=None, query={}, headers=None, clientCertificates=None)
    assert len(request.claims) == 0 and len(request.query) == 0 and len(request.headers) == 0
    assert request.client_certificates == ()


def test_repr_shows_names_never_values() -> None:
    request = make(claims={"sub": ["alice"]}, query={"access_token": ["eyJsecret"]}, headers={"Authorization": ["B x"]})
    text = repr(request) + repr(request.query) + repr(request.headers) + repr(request.claims)
    assert "eyJsecret" not in text and "alice" not in text and "B x" not in text
    assert "access_token" in text


@pytest.mark.parametrize(
    "fields",
    [{"claims": ["sub"]}, {"headers": "x"}, {"clientCertificates": {"thumbprint": "x"}}, {"query": {"a": {"b": 1}}}],
)
def test_wrong_shapes_are_refused_clearly(fields: dict[str, object]) -> None:
    with pytest.raises(TriggerDataError):
        make(**fields)

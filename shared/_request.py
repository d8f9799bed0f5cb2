"""Typed view of the ``connect`` trigger JSON (docs/protocol.md#trigger-payloads): claims, query, headers,
certificates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .protocol.webhook import NAME_IDENTIFIER_CLAIM  # the claim type .NET maps `sub` to


class TriggerDataError(ValueError):
    """The trigger JSON does not have the shape docs/protocol.md#trigger-payloads describes."""


def _values_of(name: str, raw: Any, where: str) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return [item if isinstance(item, str) else str(item) for item in raw]
    if isinstance(raw, (str, int, float, bool)):
        return [raw if isinstance(raw, str) else str(raw)]
    raise TriggerDataError(f"'{where}' entry {name!r} must be a list of strings, got {type(raw).__name__}.")


class MultiValueMap(Mapping[str, list[str]]):
    """``{name: [values]}`` as the service sends claims, query and headers, with a one-value getter.

    ``repr`` shows the names only: claims, query (``access_token``) and headers (``authorization``) hold secrets.
    """

    __slots__ = ("_data",)
    _case_insensitive = False

    def __init__(self, raw: Mapping[str, Any] | None = None, *, where: str = "values") -> None:
        data: dict[str, list[str]] = {}
        if raw is not None:
            if not isinstance(raw, Mapping):
                raise TriggerDataError(f"'{where}' must be a JSON object, got {type(raw).__name__}.")
            for name, values in raw.items():
                key = self._key(str(name))
                data.setdefault(key, []).extend(_values_of(str(name), values, where))
        self._data = data

    def _key(self, name: str) -> str:
        return name.lower() if self._case_insensitive else name

    def __getitem__(self, name: str) -> list[str]:
        return self._data[self._key(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def get_one(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default`` when it is absent or has no values."""
        values = self._data.get(self._key(name))
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        """All values of ``name`` (an empty list when absent)."""
        return list(self._data.get(self._key(name), ()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(names={sorted(self._data)!r})"


class Headers(MultiValueMap):
    """Headers of the client's Engine.IO connection; names are case-insensitive (stored lower-case)."""

    __slots__ = ()
    _case_insensitive = True


class ClientCertificate:
    """One client certificate: ``thumbprint`` and, when the service sends it, the PEM ``content``."""

    __slots__ = ("thumbprint", "content")

    def __init__(self, thumbprint: str, content: str | None = None) -> None:
        self.thumbprint = thumbprint
        self.content = content

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientCertificate) and (self.thumbprint, self.content) == (
            other.thumbprint,
            other.content,
        )

    def __hash__(self) -> int:
        return hash((self.thumbprint, self.content))

    def __repr__(self) -> str:
        return f"ClientCertificate(thumbprint={self.thumbprint!r})"


def _certificates(raw: Any) -> tuple[ClientCertificate, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise TriggerDataError(f"'clientCertificates' must be a JSON array, got {type(raw).__name__}.")
    certificates = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise TriggerDataError(f"each client certificate must be a JSON object, got {type(item).__name__}.")
        # The binding reference shows `thumbprint`; Newtonsoft without a [DataMember] name writes `Thumbprint`
        # (docs/protocol.md#trigger-payloads).
        thumbprint = item.get("thumbprint", item.get("Thumbprint")) or ""
        content = item.get("content", item.get("Content"))
        certificates.append(ClientCertificate(str(thumbprint), None if content is None else str(content)))
    return tuple(certificates)


class ConnectRequest:
    """What a ``connect`` handler learns about the client (the Engine.IO connection, not the webhook call)."""

    __slots__ = ("claims", "query", "headers", "client_certificates")

    def __init__(
        self,
        claims: MultiValueMap,
        query: MultiValueMap,
        headers: Headers,
        client_certificates: tuple[ClientCertificate, ...] = (),
    ) -> None:
        self.claims = claims
        self.query = query
        self.headers = headers
        self.client_certificates = client_certificates

    @classmethod
    def from_trigger(cls, data: Mapping[str, Any]) -> ConnectRequest:
        return cls(
            claims=MultiValueMap(data.get("claims"), where="claims"),
            query=MultiValueMap(data.get("query"), where="query"),
            headers=Headers(data.get("headers"), where="headers"),
            client_certificates=_certificates(data.get("clientCertificates")),
        )

    @property
    def user_id(self) -> str | None:
        """The ``sub`` claim (the negotiate ``userId``), or the .NET name-identifier claim; None when absent."""
        return self.claims.get_one("sub") or self.claims.get_one(NAME_IDENTIFIER_CLAIM) or None

    def __repr__(self) -> str:
        # Never show values: claims and the query (access_token) are credentials.
        return (
            f"ConnectRequest(claims={sorted(self.claims)!r}, query={sorted(self.query)!r}, "
            f"headers={sorted(self.headers)!r}, client_certificates={len(self.client_certificates)})"
        )

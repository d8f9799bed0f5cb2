"""Webhook signatures (docs/protocol.md#signatures): ``sha256=hex(HMAC_SHA256(accessKey, connectionId))`` per key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from .webhook import split_header_list


def signature_of(access_key: str, connection_id: str) -> str:
    """``sha256=<lowercase hex>`` of one key, as the service sends it."""
    digest = hmac.new(access_key.encode("utf-8"), connection_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_header(access_keys: Iterable[str], connection_id: str) -> str:
    """The ``ce-signature`` value: one entry per access key (primary, secondary), comma-separated."""
    return ",".join(signature_of(key, connection_id) for key in access_keys if key)


def signature_matches(header: str | None, access_key: str, connection_id: str) -> bool:
    """Whether any entry of a ``ce-signature`` header (split on ``,`` and spaces) is this key's signature,
    compared case-insensitively, as the extension does."""
    if not header:
        return False
    expected = signature_of(access_key, connection_id).lower()
    return any(hmac.compare_digest(entry.lower(), expected) for entry in split_header_list(header))

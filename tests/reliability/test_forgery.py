"""The forgery matrix over real HTTP (tests/reliability/forgery.py): forged webhooks at the dev host, forged
client tokens at the emulator's handshake, forged bearer tokens at its REST API -- all refused, each with a
reason; the signed control row of each target is accepted."""

from __future__ import annotations

import pytest

from devhost.stack import Stack

from .forgery import Attempt, forgery_matrix

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def matrix(sioless_stack: Stack) -> list[Attempt]:
    return forgery_matrix(sioless_stack)


def test_every_forgery_is_refused_with_a_reason(matrix: list[Attempt]) -> None:
    forged = [a for a in matrix if not a.control]
    assert len(forged) >= 40
    accepted = [a for a in forged if not a.refused]
    assert accepted == [], accepted
    # 401 for bad credentials, 400 for a missing header or a refused validation; the body says why
    assert {a.status for a in forged} <= {400, 401}
    silent = [a for a in forged if not a.message.strip()]
    assert silent == [], silent


def test_the_signed_control_rows_are_accepted(matrix: list[Attempt]) -> None:
    controls = {a.target: a.status for a in matrix if a.control}
    assert controls == {"dev host webhook": 200, "emulator client handshake": 200, "emulator REST": 202}


@pytest.mark.parametrize(
    ("target", "case", "reason"),
    [
        ("emulator client handshake", "no exp", "no expiry"),
        ("emulator client handshake", "alg none", "alg"),
        ("emulator client handshake", "RS256 label, HMAC signature", "alg"),
        ("emulator REST", "HS512 with the access key", "alg"),
        ("emulator REST", "tampered payload", "neither access key"),
        ("emulator REST", "token for another route", "audience"),
        ("dev host webhook", "foreign origin, valid signature", "ce-signature"),
        ("dev host webhook", "validation from a foreign origin", "WebHook-Request-Origin"),
    ],
)
def test_reasons_name_what_to_fix(matrix: list[Attempt], target: str, case: str, reason: str) -> None:
    (attempt,) = [a for a in matrix if (a.target, a.case) == (target, case)]
    assert reason in attempt.message, attempt

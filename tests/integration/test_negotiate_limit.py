"""Negotiate is bounded per client (functions/_negotiate_limits.py, docs/limits.md#negotiate), through the stack.

Requests carry ``client-ip`` as App Service's front end sets it; the signed-in path uses the dev host's stand-in
for App Service Authentication (``SIOLESS_DEV_AUTH=1``), which also strips client-sent principal headers.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devhost.stack import Stack
from functions import _limits, _negotiate_limits
from shared import configure_storage

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = {"SIOLESS_NEGOTIATE_PER_SECOND": "0.5", "SIOLESS_NEGOTIATE_BURST": "3", "SIOLESS_DEV_AUTH": "1"}
CHAT, BOARD = "/api/chat/negotiate", "/api/whiteboard/negotiate"
REFUSED = "too many negotiations from this client: at most 0.5 a second (bursts of 3); try again in "


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    stack = Stack(extra_env=SETTINGS)
    try:
        yield stack.start()
    finally:
        stack.stop()


def _statuses(client: httpx.Client, path: str, n: int, **headers: str) -> list[int]:
    return [client.get(path, headers=headers).status_code for _ in range(n)]


def test_each_address_gets_its_burst_then_429_with_a_reason_and_refills(stack: Stack) -> None:
    with httpx.Client(base_url=stack.devhost_url, timeout=10) as client:
        first = {"client-ip": "203.0.113.7:50123"}
        assert _statuses(client, CHAT, 3, **first) == [200, 200, 200]
        refused = client.get(CHAT, headers=first)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"].startswith(REFUSED), refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 2
        # the same address from another port is the same client; another address (IPv6) has its own bucket;
        # the other hub keeps its own buckets.
        assert client.get(CHAT, headers={"client-ip": "203.0.113.7:40000"}).status_code == 429
        assert _statuses(client, CHAT, 3, **{"client-ip": "[2001:db8::1]:443"}) == [200, 200, 200]
        assert client.get(BOARD, headers=first).status_code == 200
        # no address (the dev host sets none offline): nothing to count
        assert _statuses(client, CHAT, 5) == [200] * 5
        time.sleep(2.1)  # one token back at 0.5 a second
        assert _statuses(client, CHAT, 2, **first) == [200, 429]


def test_a_signed_in_user_has_a_bucket_of_their_own(stack: Stack) -> None:
    with httpx.Client(base_url=stack.devhost_url, timeout=10) as client:
        shared_address = {"client-ip": "198.51.100.9:1234"}
        assert _statuses(client, CHAT, 3, **shared_address) == [200, 200, 200]
        assert client.get(CHAT, headers=shared_address).status_code == 429
        client.get("/.auth/login/dev", params={"user_id": "dora"})
        # Behind the same address, the signed-in user is counted as themself.
        assert _statuses(client, CHAT, 4, **shared_address) == [200, 200, 200, 429]


def test_idle_buckets_are_deleted_by_the_sweep(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    configure_storage(stack.storage)
    try:
        with httpx.Client(base_url=stack.devhost_url, timeout=10) as client:
            assert client.get(BOARD, headers={"client-ip": "192.0.2.55:1"}).status_code == 200
        table = _limits.table_client(_limits.TABLE)
        pk = _limits.table_key("negotiate|whiteboard")
        rk = _limits.table_key("ip:192.0.2.55")
        assert table.get_entity(pk, rk)["tokens"] == pytest.approx(2, abs=0.1)
        # Not idle yet: kept. Idle for longer than a full refill (3 / 0.5 = 6 s): deleted.
        _negotiate_limits.prune_idle("whiteboard", now=time.time())
        assert table.get_entity(pk, rk)["RowKey"] == rk
        assert _negotiate_limits.prune_idle("whiteboard", now=time.time() + 7) >= 1
        keys = {row["RowKey"] for row in table.query_entities("PartitionKey eq @pk", parameters={"pk": pk})}
        assert rk not in keys
    finally:
        configure_storage()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")
def test_the_connect_helper_passes_the_reason_on(stack: Stack) -> None:
    # web/sioless.js's negotiate, with a fetch that adds the header App Service would.
    script = """
    const { default: sioless } = await import(process.argv[1]);
    const withAddress = (url, options) =>
      fetch(url, { ...options, headers: { ...options.headers, "client-ip": "192.0.2.77:9" } });
    try {
      for (let i = 0; i < 5; i++) await sioless.negotiate(process.argv[2], withAddress);
      console.log("no refusal");
    } catch (err) { console.log(err.message); }
    """
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script, str(ROOT / "web" / "sioless.js"), stack.devhost_url + CHAT],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    assert out.startswith(f"sioless: negotiate {stack.devhost_url}{CHAT} answered HTTP 429: {REFUSED}"), out

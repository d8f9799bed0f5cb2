"""Reliability under load, faults and hostile input: the figures of docs/reliability.md.

Cases (all over the full offline stack with the sample apps, real node socket.io-client sockets):

- ``load``: N clients over R rooms of the chat sample, each sending M acked messages (the next after the ack),
  for several rounds of fresh clients: acks, deliveries expected vs received, lost, duplicates, per-sender order
  as each receiver saw it, ack latency p50/p99/max, throughput, CPU seconds, RSS of emulator and dev host after
  every round (baseline: the idle stack) and their peaks;
- ``faults``: the dev host SIGKILLed under traffic, Azurite restarted under whiteboard writes, the emulator
  restarted (SIGTERM, then SIGKILL) under connected whiteboard clients;
- ``forgery``: the forgery matrix (forged webhooks, client tokens, REST tokens): refused / accepted per target.

Fuzzing is bounded and lives in the test suite (tests/reliability/test_hostile.py). Usage::

    .venv/bin/python benchmarks/reliability.py [--clients 500 --rooms 10 --messages 20 --rounds 3]
        [--cases load,faults,forgery] [--fault-clients 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._harness import cpu_seconds  # noqa: E402
from devhost.stack import Stack  # noqa: E402
from tests.reliability.conftest import NO_RATE_LIMITS  # noqa: E402
from tests.reliability.faults import azurite_restart, devhost_crash, emulator_restart  # noqa: E402
from tests.reliability.forgery import forgery_matrix  # noqa: E402
from tests.reliability.harness import (  # noqa: E402
    devhost_pid,
    memory,
    node_available,
    run_load,
    wait_drained,
)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def load_case(args: argparse.Namespace) -> bool:
    stack = Stack(app_dir=ROOT, azurite_ports=None, extra_env=NO_RATE_LIMITS).start()
    ok = True
    try:
        emulator, devhost = stack.emulator.pid, devhost_pid(stack)
        time.sleep(1.0)
        idle = (memory(emulator), memory(devhost))
        print(
            f"\n== load: {args.clients} clients x {args.messages} acked messages, {args.rooms} rooms "
            f"({args.clients // args.rooms} per room), {args.rounds} rounds of fresh clients, pace {args.pace_ms} ms"
        )
        print(f"idle stack (baseline): emulator RSS {idle[0].rss_mib:.0f} MiB, dev host RSS {idle[1].rss_mib:.0f} MiB")
        header = (
            f"{'round':>5} {'conn':>5} {'acks':>6} {'expected':>9} {'received':>9} {'lost':>5} {'dup':>4} "
            f"{'order!':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'ack/s':>6} {'deliv/s':>8} "
            f"{'emu cpu':>8} {'dh cpu':>7} {'emu RSS':>8} {'dh RSS':>7} {'left':>5}"
        )
        print(header)
        rss_after = []
        for round_no in range(1, args.rounds + 1):
            cpu_before = (cpu_seconds(emulator), cpu_seconds(devhost))
            result = run_load(
                stack,
                clients=args.clients,
                rooms=args.rooms,
                messages=args.messages,
                pace_ms=args.pace_ms,
                prefix=f"round{round_no}-",
            )
            left = wait_drained(stack)
            after = (memory(emulator), memory(devhost))
            rss_after.append(after)
            cpu = (cpu_seconds(emulator) - cpu_before[0], cpu_seconds(devhost) - cpu_before[1])
            print(
                f"{round_no:>5} {result['connected']:>5} {result['acks']:>6} {result['expected']:>9} "
                f"{result['received']:>9} {result['lost']:>5} {result['duplicates']:>4} {result['orderViolations']:>6} "
                f"{_ms(result['ackP50Ms']):>7} {_ms(result['ackP99Ms']):>7} {_ms(result['ackMaxMs']):>7} "
                f"{result['ackedPerSecond']:>6.0f} {result['deliveriesPerSecond']:>8.0f} "
                f"{cpu[0]:>7.1f}s {cpu[1]:>6.1f}s "
                f"{after[0].rss_mib:>7.0f}M {after[1].rss_mib:>6.0f}M {left['connections']:>5}"
            )
            round_ok = (
                result["connected"] == args.clients
                and result["acks"] == args.clients * args.messages
                and result["received"] == result["expected"]
                and result["lost"] == result["duplicates"] == result["unexpected"] == result["orderViolations"] == 0
                and left == {"connections": 0, "sockets": 0, "groups": 0}
            )
            if not round_ok:
                ok = False
                print(
                    f"      round {round_no} NOT clean: {json.dumps({k: v for k, v in result.items() if k != 'log'})}"
                )
                print(result["log"])
            print(
                f"      connect+join {result['connectSeconds']:.1f} s, send {result['sendSeconds']:.1f} s, "
                f"ack errors {result['ackErrors']}, ack timeouts {result['ackTimeouts']}, "
                f"unexpected disconnects {result['unexpectedDisconnects']}"
            )
        peaks = (memory(emulator).peak_mib, memory(devhost).peak_mib)
        growth = (
            rss_after[-1][0].rss_mib - rss_after[0][0].rss_mib,
            rss_after[-1][1].rss_mib - rss_after[0][1].rss_mib,
        )
        print(f"peak RSS: emulator {peaks[0]:.0f} MiB, dev host {peaks[1]:.0f} MiB")
        print(
            f"RSS after round {args.rounds} vs after round 1: emulator {growth[0]:+.1f} MiB, "
            f"dev host {growth[1]:+.1f} MiB; "
            f"vs idle: emulator x{rss_after[-1][0].rss_mib / idle[0].rss_mib:.2f}, "
            f"dev host x{rss_after[-1][1].rss_mib / idle[1].rss_mib:.2f}"
        )
    finally:
        stack.stop()
    return ok


def _show(title: str, figures: dict[str, Any]) -> None:
    print(f"-- {title}")
    for key, value in figures.items():
        print(f"   {key:<40} {value}")


async def faults_case(args: argparse.Namespace) -> tuple[bool, bool | None]:
    n = args.fault_clients
    with tempfile.TemporaryDirectory(prefix="sioless-reliability-") as where:
        stack = Stack(app_dir=ROOT, azurite_location=Path(where) / "azurite", extra_env=NO_RATE_LIMITS).start()
        try:
            print(f"\n== faults (upstream timeout: the emulator's default, 30 s; {n} clients per case)")
            crash = await devhost_crash(stack, senders=n // 2, bystanders=n // 2, traffic_s=1.0, down_s=2.0)
            _show("dev host SIGKILL under traffic, down 2 s, restarted", crash)
            storage = await azurite_restart(stack, writers=max(2, n // 4), down_s=1.0)
            _show("Azurite (disk) restarted under whiteboard writes", storage)
            graceful = await emulator_restart(stack, clients=n, sig=signal.SIGTERM)
            _show("emulator SIGTERM + restart under whiteboard clients", graceful)
            crashed = await emulator_restart(stack, clients=n, sig=signal.SIGKILL, timeout_ms=90_000)
            _show("emulator SIGKILL + restart under whiteboard clients", crashed)
            forged = forgery_case(stack) if args.forgery else None
        finally:
            stack.stop()
    faults_ok = (
        crash["no_outcome"] == 0
        and crash["bystanders_same_id"] == n // 2
        and crash["deliveries_after_restart_received"] == crash["deliveries_after_restart_expected"]
        and storage["shapes_acked_missing"] == 0
        and storage["users_after"] == storage["users_before"]
        and graceful["reconnected"] == n
        and graceful["users"] == [n] * n
    )
    return faults_ok, forged


def forgery_case(stack: Stack) -> bool:
    attempts = forgery_matrix(stack)
    print("\n== forgery matrix")
    targets = sorted({a.target for a in attempts})
    for target in targets:
        rows = [a for a in attempts if a.target == target and not a.control]
        refused = [a for a in rows if a.refused]
        control = [a.status for a in attempts if a.target == target and a.control]
        statuses = sorted({a.status for a in refused})
        print(
            f"   {target:<28} forged {len(rows):>2}, refused {len(refused):>2} {statuses}, signed control -> {control}"
        )
        for attempt in rows:
            if not attempt.refused:
                print(f"      ACCEPTED: {attempt.case} -> {attempt.status}")
    return all(a.refused for a in attempts if not a.control)


def main() -> int:
    # python-engineio's client logs "packet queue is empty, aborting" when a closed client's writer ends: noise here
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pace-ms", type=float, default=0, help="pause between a client's messages (default 0)")
    parser.add_argument("--fault-clients", type=int, default=40)
    parser.add_argument("--cases", default="load,faults,forgery")
    args = parser.parse_args()
    cases = {c.strip() for c in args.cases.split(",") if c.strip()}
    args.forgery = "forgery" in cases
    if not node_available():
        print("reliability: node and node_modules/socket.io-client are needed (run `make setup`).", file=sys.stderr)
        return 2
    results: dict[str, bool] = {}
    if "load" in cases:
        results["load"] = load_case(args)
    if "faults" in cases:
        results["faults"], forged = asyncio.run(faults_case(args))
        if forged is not None:
            results["forgery"] = forged
    elif args.forgery:
        stack = Stack(app_dir=ROOT, azurite_ports=None, extra_env=NO_RATE_LIMITS).start()
        try:
            results["forgery"] = forgery_case(stack)
        finally:
            stack.stop()
    print("\n== verdict: " + ", ".join(f"{name} {'OK' if ok else 'NOT OK'}" for name, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

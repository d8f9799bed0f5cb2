"""Per-event dispatch cost of a sioless handler next to a hand-written generic-trigger function (issue 15's goal:
sioless ≤ 1.2× the hand-written one), as a direct call and through Microsoft's worker runtime.

Both functions live in ``benchmarks/dispatch_app/function_app.py`` and handle one user event with an ack, the chat
message of a room chat: parse the trigger JSON, emit one event to a room except the sender (one ``sendToRooms``
action written to the ``socketio`` output binding) and return the ack JSON. The sioless one also does what the
library promises (checks the trigger data and the handler's arguments, checks the emit, turns any failure into
an error ack); the hand-written one is the least a user writes for the same result, with no checks. Both give the
same return value and output value (checked before timing).

- direct: the function the worker calls (``get_user_function()``), called in this process with a minimal
  ``Out``; batches alternate between the functions, so other load on the machine slows both alike; CPU time per
  event is the figure of record. A third function, the hand-written one with the JSON calls the library makes
  (``JSONDecoder.raw_decode`` and ``JSONEncoder().encode`` rather than ``json.loads``/``json.dumps``), shows
  how much of the difference is the library's own work.
- worker: both functions registered in one app, loaded by the dev host's worker process
  (``azure_functions_runtime``, as ``python -m devhost`` runs it) and invoked one at a time through the dev
  host's invoker (``InvocationRequest`` out, ``InvocationResponse`` back, read as host values; the action is not
  sent anywhere), batches alternating between the two functions.

Ratios are of medians taken in the same run. Run: .venv/bin/python benchmarks/library_dispatch.py
[--no-worker] [--rounds 10] [--invocations 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._dispatch import APP_DIR, HAND_WRITTEN, TRIGGER, Out, load_functions  # noqa: E402
from benchmarks._harness import cpu_seconds, record  # noqa: E402

GOAL = 1.2


_DECODER = json.JSONDecoder()
_ENCODE = json.JSONEncoder().encode


def hand_written_same_json(sio: str, out: Any) -> str:
    """The hand-written function with the JSON calls the library makes (``JSONDecoder.raw_decode``, the encoder's
    ``encode``) instead of ``json.loads``/``json.dumps``: the ratio against it is the library's own overhead."""
    request = _DECODER.raw_decode(sio)[0]
    room, text = request["parameters"]
    out.set(
        _ENCODE(
            {
                "actionName": "sendToRooms",
                "namespace": request["namespace"],
                "rooms": [room],
                "eventName": "chat message",
                "parameters": [text],
                "exceptRooms": [request["socketId"]],
            }
        )
    )
    return _ENCODE({"ack": [{"ok": True}]})


def check_same(ours: Callable[..., Any], hand_written: Callable[..., Any]) -> None:
    out_a, out_b = Out(), Out()
    assert ours(TRIGGER, out_a) == hand_written(TRIGGER, out_b), "results differ"
    assert json.loads(out_a.value) == json.loads(out_b.value), "actions differ"
    out_c = Out()
    assert hand_written_same_json(TRIGGER, out_c) == hand_written(TRIGGER, out_b) and out_c.value == out_b.value


def direct(functions: list[Callable[..., Any]], rounds: int, number: int) -> list[tuple[float, float]]:
    """(CPU, wall) microseconds per call of each function: the medians over ``rounds`` rounds of one batch of
    ``number`` calls each, the order rotating every round. CPU time (this thread's) is the figure of record:
    unlike wall time it does not grow when other processes take the cores."""
    out = Out()

    def batch(fn: Callable[..., Any]) -> tuple[float, float]:
        cpu, wall = time.thread_time(), time.perf_counter()
        for _ in range(number):
            fn(TRIGGER, out)
        return (time.thread_time() - cpu) / number * 1e6, (time.perf_counter() - wall) / number * 1e6

    for fn in functions:  # warm up
        batch(fn)
    times: list[list[tuple[float, float]]] = [[] for _ in functions]
    for round_ in range(rounds):
        for offset in range(len(functions)):
            index = (offset + round_) % len(functions)
            times[index].append(batch(functions[index]))
    return [(statistics.median(t[0] for t in side), statistics.median(t[1] for t in side)) for side in times]


async def through_worker(rounds: int, number: int) -> dict[str, tuple[float, float]]:
    """{"ours"/"hand-written": (median µs per sequential invocation, worker CPU µs per invocation)}."""
    from devhost import WorkerChannel, typed_data
    from devhost._functions import FunctionInfo
    from devhost._invoke import Invoker

    channel = WorkerChannel(APP_DIR, os.environ, log_level="warning")
    metadata = await channel.start()
    try:
        functions = {item.name: FunctionInfo.from_metadata(item) for item in metadata}
        hand_written = functions.pop(HAND_WRITTEN)
        (ours,) = functions.values()
        invoker = Invoker(channel, function_timeout=30.0)
        results = {}
        for function in (ours, hand_written):
            inputs = {function.trigger.name: typed_data(TRIGGER)}
            result = await invoker.invoke(function, inputs, "benchmark")
            assert result.succeeded, result.error
            results[function.name] = (result.return_value, result.outputs)
        (ours_result, ours_out), (hand_result, hand_out) = results[ours.name], results[hand_written.name]
        assert ours_result == hand_result, (ours_result, hand_result)
        assert ours_out == hand_out, (ours_out, hand_out)

        async def batch(function: FunctionInfo) -> tuple[float, float]:
            inputs = {function.trigger.name: typed_data(TRIGGER)}
            assert channel.pid is not None
            cpu = cpu_seconds(channel.pid)
            started = time.perf_counter()
            for _ in range(number):
                await invoker.invoke(function, inputs, "benchmark")
            wall = time.perf_counter() - started
            return wall / number * 1e6, (cpu_seconds(channel.pid) - cpu) / number * 1e6

        await batch(ours), await batch(hand_written)  # warm up
        walls: dict[str, list[float]] = {ours.name: [], hand_written.name: []}
        cpus: dict[str, list[float]] = {ours.name: [], hand_written.name: []}
        for round_ in range(rounds):
            for function in (ours, hand_written) if round_ % 2 else (hand_written, ours):
                wall, cpu = await batch(function)
                walls[function.name].append(wall)
                cpus[function.name].append(cpu)
        return {
            side: (statistics.median(walls[name]), statistics.fmean(cpus[name]))  # CPU: /proc counts 10 ms ticks
            for side, name in (("ours", ours.name), ("hand-written", hand_written.name))
        }
    finally:
        await channel.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="alternating batches per side (default 10)")
    parser.add_argument("--invocations", type=int, default=1000, help="per worker batch (default 1000)")
    parser.add_argument("--no-worker", action="store_true", help="only the direct call")
    args = parser.parse_args()
    ours, hand_written = load_functions()
    check_same(ours, hand_written)  # same observable result first, so the comparison is fair
    number = 20000
    (mine, wall_mine), (theirs, wall_theirs), (lean, _) = direct(
        [ours, hand_written, hand_written_same_json], args.rounds, number
    )
    ratio = mine / theirs
    print(f"direct call ({args.rounds} rounds of one batch of {number:,} events per function, medians)")
    print(f"  hand-written generic trigger : {theirs:7.2f} us CPU/event   (wall {wall_theirs:6.2f} us)")
    print(f"  sioless SocketIOBlueprint    : {mine:7.2f} us CPU/event   (wall {wall_mine:6.2f} us)")
    print(f"  ratio sioless / hand-written : {ratio:7.2f}x   (wall {wall_mine / wall_theirs:.2f}x)   goal <= {GOAL}x")
    print(
        f"  (the hand-written one with the library's JSON calls: {lean:.2f} us CPU/event; "
        f"sioless / it {mine / lean:.2f}x, the library's own overhead)"
    )
    record(
        "library dispatch, direct call, CPU per event",
        "µs",
        mine,
        ratio=f"{ratio:.2f}× hand-written",
        goal=f"≤ {GOAL}× hand-written",
        note=f"hand-written generic trigger {theirs:.2f} µs",
    )
    if args.no_worker:
        return
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("devhost").setLevel(logging.WARNING)
    invocations = args.invocations
    worker = asyncio.run(through_worker(args.rounds, invocations))
    (w_mine, c_mine), (w_theirs, c_theirs) = worker["ours"], worker["hand-written"]
    print(
        f"through the worker runtime (dev host's worker process, one invocation at a time; "
        f"{args.rounds} alternating batches of {invocations} per side)"
    )
    print(f"  hand-written generic trigger : {w_theirs:7.1f} us/invocation   worker CPU {c_theirs:6.1f} us")
    print(f"  sioless SocketIOBlueprint    : {w_mine:7.1f} us/invocation   worker CPU {c_mine:6.1f} us")
    print(
        f"  ratio sioless / hand-written : {w_mine / w_theirs:7.2f}x   worker CPU {c_mine / c_theirs:.2f}x   "
        f"(goal <= {GOAL}x)"
    )
    record(
        "library dispatch through the worker runtime, per invocation",
        "µs",
        w_mine,
        ratio=f"{w_mine / w_theirs:.2f}× hand-written",
        goal=f"≤ {GOAL}× hand-written",
        note=f"hand-written {w_theirs:.0f} µs; worker CPU {c_mine:.0f} vs {c_theirs:.0f} µs",
    )


if __name__ == "__main__":
    main()

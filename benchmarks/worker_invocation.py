"""The cost of one socketiotrigger invocation through Microsoft's worker runtime, against a direct call.

The function is the sioless ``SocketIOBlueprint`` handler of ``benchmarks/dispatch_app`` (the chat message that
benchmarks/library_dispatch.py also times: one sendToRooms action on the output binding, an ack). Measured in one run:

- direct: the same wrapper called in this process (``get_user_function()(trigger, out)``), the baseline;
- worker, sequential: ``InvocationRequest`` -> the dev host's worker process (``azure_functions_runtime``) ->
  ``InvocationResponse``, one at a time, through the host's invoker (request built, response read back as host
  values; the socketio output is not sent, so no REST call is in the figure);
- worker, 32 in flight: the same with 32 concurrent invocations (per-invocation cost from the throughput).

Run: .venv/bin/python benchmarks/worker_invocation.py [--invocations 2000]
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
import timeit
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._dispatch import APP_DIR, HAND_WRITTEN, TRIGGER, Out, load_functions  # noqa: E402
from devhost import WorkerChannel, typed_data  # noqa: E402
from devhost._functions import FunctionInfo  # noqa: E402
from devhost._invoke import Invoker  # noqa: E402


def direct_us(number: int, repeat: int) -> tuple[float, Any, Any]:
    """Microseconds per direct call of the wrapper, and its return value and output (for the fairness check)."""
    wrapper, _ = load_functions()
    out = Out()
    result = wrapper(TRIGGER, out)
    timeit.repeat(lambda: wrapper(TRIGGER, Out()), number=500, repeat=1)  # warm up
    times = timeit.repeat(lambda: wrapper(TRIGGER, Out()), number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6, result, out.value


async def worker_us(invocations: int) -> tuple[float, float, Any, Any]:
    channel = WorkerChannel(APP_DIR, os.environ, log_level="warning")
    metadata = await channel.start()
    try:
        (function,) = (FunctionInfo.from_metadata(item) for item in metadata if item.name != HAND_WRITTEN)
        invoker = Invoker(channel, function_timeout=30.0)
        inputs = {function.trigger.name: typed_data(TRIGGER)}
        first = await invoker.invoke(function, inputs, "benchmark")
        assert first.succeeded, first.error
        for _ in range(200):  # warm up
            await invoker.invoke(function, inputs, "benchmark")
        started = time.perf_counter()
        for _ in range(invocations):
            await invoker.invoke(function, inputs, "benchmark")
        sequential = (time.perf_counter() - started) / invocations * 1e6
        in_flight = 32
        started = time.perf_counter()
        for _ in range(invocations // in_flight):
            results = await asyncio.gather(*(invoker.invoke(function, inputs, "benchmark") for _ in range(in_flight)))
            assert all(result.succeeded for result in results)
        concurrent = (time.perf_counter() - started) / (invocations // in_flight * in_flight) * 1e6
        return sequential, concurrent, first.return_value, first.outputs
    finally:
        await channel.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invocations", type=int, default=2000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("devhost").setLevel(logging.WARNING)
    sequential, concurrent, worker_return, worker_outputs = asyncio.run(worker_us(args.invocations))
    direct, direct_return, direct_output = direct_us(20000, 7)
    # Same observable result both ways, so the comparison is fair.
    assert worker_return == direct_return, (worker_return, direct_return)
    assert worker_outputs["out"] == json.loads(direct_output) or worker_outputs["out"] == direct_output
    print(f"direct call of the wrapper          : {direct:9.1f} us/invocation")
    print(f"worker process, sequential          : {sequential:9.1f} us/invocation   ratio {sequential / direct:6.1f}x")
    print(f"worker process, 32 in flight        : {concurrent:9.1f} us/invocation   ratio {concurrent / direct:6.1f}x")
    print(f"(median of 7 x 20000 direct calls; {args.invocations} worker invocations each way, same process)")


if __name__ == "__main__":
    main()

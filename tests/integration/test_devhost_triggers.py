"""Timer and Storage Queue triggers on real parts: Azurite, dev host processes, the emulator and a python-socketio
client. Timers fire on one instance only (a blob lease), and move to another when it stops; queue messages are
delivered, retried and poisoned after five dequeues; timer and queue functions reach clients with an Emitter.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueClient

from devhost._singleton import ListenerLock, SingletonOptions
from devhost.processes import ManagedProcess, popen
from devhost.pytest_plugin import close_client, connect_client
from devhost.stack import REPO, Stack, start_azurite, storage_connection_string

pytestmark = pytest.mark.integration

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"


@pytest.fixture
def storage() -> Iterator[str]:
    azurite = start_azurite()
    try:
        yield storage_connection_string(*azurite.ready["ports"])
    finally:
        azurite.stop()


HOST_ID = "triggers-test"


def _devhost(app: str, storage: str) -> ManagedProcess:
    env = dict(os.environ, AzureWebJobsStorage=storage, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    env["AzureFunctionsWebHost__hostid"] = HOST_ID
    command = [sys.executable, "-u", "-m", "devhost", "--app-dir", str(APPS / app), "--port", "0"]
    process = ManagedProcess(app, popen(command, REPO, env))
    process.pump("DEVHOST_READY")
    process.wait_ready(30)
    return process


async def _take(storage: str, queue: str) -> list[str]:
    """Every message now visible in ``queue`` (base64-decoded), removed from it."""
    taken: list[str] = []
    async with QueueClient.from_connection_string(storage, queue) as client:
        try:
            async for message in client.receive_messages(max_messages=32, messages_per_page=32):
                taken.append(base64.b64decode(message.content).decode())
                await client.delete_message(message)
        except Exception as exc:  # the queue does not exist yet
            if "QueueNotFound" not in str(exc):
                raise
    return taken


async def _wait_for(predicate: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


def _holder(processes: list[ManagedProcess], function: str) -> ManagedProcess:
    marker = f"Singleton lock acquired for '{function}'"
    holders = [p for p in processes if any(marker in line for line in p.output)]
    assert len(holders) == 1, [p.output[-20:] for p in processes]
    return holders[0]


async def _plant_status(storage: str, timer: str, status: dict[str, str]) -> None:
    """A schedule status blob where the host keeps it, as if an earlier host had run the timer."""
    async with BlobServiceClient.from_connection_string(storage) as service:
        await service.create_container("azure-webjobs-hosts")
        blob = service.get_blob_client("azure-webjobs-hosts", f"timers/{HOST_ID}/Host.Functions.{timer}/status")
        await blob.upload_blob(json.dumps(status).encode())


async def test_timers_fire_once_per_occurrence_across_two_instances_and_fail_over(storage: str) -> None:
    # on_startup (1 January) last ran on 1 January last year: this year's occurrence was missed.
    year = time.gmtime().tm_year
    missed = {
        "Last": f"{year - 1}-01-01T00:00:00+00:00",
        "Next": f"{year}-01-01T00:00:00+00:00",
        "LastUpdated": f"{year - 1}-01-01T00:00:00+00:00",
    }
    await _plant_status(storage, "on_startup", missed)
    processes = [_devhost("timers", storage), _devhost("timers", storage)]
    try:
        startup: list[dict[str, Any]] = []
        ticks: list[dict[str, Any]] = []

        async def collected(min_ticks: int, min_startups: int) -> bool:
            startup.extend(json.loads(text) for text in await _take(storage, "startup"))
            ticks.extend(json.loads(text) for text in await _take(storage, "ticks"))
            return len(ticks) >= min_ticks and len(startup) >= min_startups

        await _wait_for(lambda: collected(6, 1), "the past-due occurrence and six one-second ticks")
        # The missed occurrence fired once, on the lock holder, with the TimerRequest the host sends.
        assert len(startup) == 1
        assert startup[0] | {"pid": 0} == {
            "pid": 0,
            "type": "TimerRequest",
            "past_due": True,
            "schedule": {"AdjustForDST": True},
            "schedule_status": missed,
        }
        # Every tick came from one instance, at most one per second of schedule.
        assert len({tick["pid"] for tick in ticks}) == 1
        span = ticks[-1]["at"] - ticks[0]["at"]
        # (+3: a tick may run up to a second late under load; fired twice, six ticks would span about 2.5 s)
        assert len(ticks) <= span + 3, f"{len(ticks)} ticks in {span:.1f} s: fired twice?"
        holder = _holder(processes, "every_second")
        other = next(p for p in processes if p is not holder)
        assert any("runs on another instance" in line for line in other.output)

        # A graceful stop releases the lease: the other instance takes the timers over (and runs on startup).
        first_pid = ticks[0]["pid"]
        holder.stop()
        ticks.clear()
        startup.clear()

        async def taken_over() -> bool:
            await collected(0, 0)
            return any(tick["pid"] != first_pid for tick in ticks) and len(startup) == 1

        await _wait_for(taken_over, "the second instance to take the timers over")
        # Not past due any more (the first instance stored its run): run_on_startup, with the stored status.
        assert startup[0]["pid"] != first_pid
        assert startup[0]["past_due"] is False
        status = startup[0]["schedule_status"]
        assert status["Next"] == f"{year + 1}-01-01T00:00:00+00:00"
        assert status["Last"].startswith(f"{year}-") and status["Last"] == status["LastUpdated"]
        assert any("Singleton lock acquired for 'every_second'" in line for line in other.output)
    finally:
        for process in processes:
            process.stop()


async def test_timer_and_queue_functions_reach_connected_clients_and_failures_end_in_the_poison_queue() -> None:
    with Stack(app_dir=APPS / "triggers") as stack:
        client = await connect_client(stack.devhost_url, negotiate_path="/api/triggers/negotiate")
        ticks: asyncio.Queue[Any] = asyncio.Queue()
        works: asyncio.Queue[Any] = asyncio.Queue()
        client.on("tick", ticks.put_nowait)
        client.on("work", works.put_nowait)
        try:
            # The timer function's Emitter reaches the client through the socketio output binding.
            assert await asyncio.wait_for(ticks.get(), 10) == {"past_due": False}

            async with QueueClient.from_connection_string(stack.storage, "work") as work:
                await work.create_queue()
                sent = await work.send_message(base64.b64encode(b"hello").decode())
                got = await asyncio.wait_for(works.get(), 15)
                assert got == {
                    "body": "hello",
                    "id": sent.id,
                    "dequeue_count": 1,
                    "inserted": sent.inserted_on.isoformat(),
                    "has_pop_receipt": True,
                }

                await work.send_message(base64.b64encode(b"fail").decode())

                poison: list[str] = []

                async def poisoned() -> bool:
                    poison.extend(await _take(stack.storage, "work-poison"))
                    return bool(poison)

                await _wait_for(poisoned, "the failing message to reach work-poison")
                assert poison == ["fail"]
                log = stack.outputs()["devhost"]
                assert any("Moving message to queue 'work-poison'" in line for line in log)
                assert await _take(stack.storage, "work") == []
                output = stack.outputs()["devhost"]
                failures = [line for line in output if "Executed 'Functions.work' (Failed" in line]
                assert len(failures) == 5, "\n".join(output[-40:])
                assert works.empty()

                # A graceful stop cuts off a message in flight after a grace period and gives it back at once.
                output = stack.outputs()["devhost"]
                seen = len(output)
                await work.send_message(base64.b64encode(b"slow").decode())

                async def running() -> bool:
                    return any("Executing 'Functions.work' (Reason='New queue" in line for line in output[seen:])

                await _wait_for(running, "the slow message to be picked up")
                stack.stop_devhost()
                (message,) = await work.peek_messages(max_messages=32)
                assert base64.b64decode(message.content) == b"slow" and message.dequeue_count == 1
        finally:
            await close_client(client)


async def test_the_listener_lock_runs_one_holder_at_a_time_and_a_finished_listener_is_not_restarted(
    storage: str,
) -> None:
    options = SingletonOptions(listener_lock_period=15, listener_lock_recovery_polling_interval=0.1)
    first_may_end = asyncio.Event()
    runs: list[str] = []

    async def first() -> None:
        runs.append("first")
        await first_may_end.wait()

    async def second() -> None:
        runs.append("second")

    holder = asyncio.create_task(ListenerLock(storage, HOST_ID, "x.Listener", options).run_while_held(first, "x"))
    await _wait_for(lambda: _async(runs == ["first"]), "the first listener to hold the lock")
    waiter = asyncio.create_task(ListenerLock(storage, HOST_ID, "x.Listener", options).run_while_held(second, "x"))
    await asyncio.sleep(1.0)  # ten recovery polls: the lease is held, so the second listener must not run
    assert runs == ["first"]
    first_may_end.set()
    # The first listener ended: its lock returns (no restart) and releases the lease; the second then runs once.
    await asyncio.wait_for(holder, 10)
    await asyncio.wait_for(waiter, 10)
    assert runs == ["first", "second"]


async def _async(value: bool) -> bool:
    return value


def test_a_bad_schedule_stops_python_m_devhost_with_exit_code_2_and_the_hosts_message(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\n"
        "app = func.FunctionApp()\n\n"
        '@app.timer_trigger(schedule="0 0 25 * * *", arg_name="timer")\n'
        "def tick(timer: func.TimerRequest) -> None:\n"
        "    pass\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "devhost", "--app-dir", str(tmp_path), "--port", "0"],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        "The 'tick' function is in error: The schedule expression was not recognized as a valid cron expression or "
        "timespan string. ('0 0 25 * * *': 25 is higher than the maximum allowable value for the [Hour] field."
    ) in result.stdout + result.stderr

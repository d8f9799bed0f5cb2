"""Periodic work (``SocketIOBlueprint.every``/``on_schedule``, the compat facade's ``sio.every``/``schedule``): the
schedules, the function metadata (the same timerTrigger binding as azure-functions' ``timer_trigger``, plus the
``socketio`` output), the worker's load checks, what one invocation writes, and the errors that name the helper.
Through the whole offline stack: tests/integration/test_compat_differential.py (app ``ticker``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import azure.functions as func
import pytest

from shared import Emitter, SocketIOBlueprint, UnsupportedError
from shared import compat as socketio
from shared._timers import check_schedule, every_schedule
from tests.fixtures.outputs import RecordingOut
from tests.unit.test_library_worker_checks import load_errors


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"seconds": 1}, "* * * * * *"),
        ({"seconds": 10}, "*/10 * * * * *"),
        ({"seconds": 30}, "*/30 * * * * *"),
        ({"seconds": 60}, "0 * * * * *"),
        ({"minutes": 5}, "0 */5 * * * *"),
        ({"seconds": 30, "minutes": 1}, None),  # 90 s is not regular in cron
        ({"hours": 1}, "0 0 * * * *"),
        ({"hours": 6}, "0 0 */6 * * *"),
        ({"hours": 24}, "0 0 0 * * *"),
        ({"seconds": 7}, None),
        ({"minutes": 7}, None),
        ({"seconds": 0}, None),
        ({"seconds": 1.5}, None),
    ],
)
def test_every_maps_regular_periods_to_ncrontab(kwargs: dict[str, float], expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match=r"every\(|positive whole number"):
            every_schedule(**kwargs)
    else:
        assert every_schedule(**kwargs) == expected


def test_schedules_are_checked_at_decoration() -> None:
    assert check_schedule("*/10 * * * * *") == "*/10 * * * * *"
    assert check_schedule("0 30 9 * * Mon-Fri") == "0 30 9 * * Mon-Fri"
    assert check_schedule("%TICK_SCHEDULE%") == "%TICK_SCHEDULE%"
    for bad in ("*/10 * * * *", "", "every 10 seconds", None):
        with pytest.raises(ValueError, match="six-field NCRONTAB|NCRONTAB expression string"):
            check_schedule(bad)


def _app(bp: Any) -> dict[str, Any]:
    app = func.FunctionApp()
    app.register_functions(bp)
    return {f.get_function_name(): f for f in app.get_functions()}


def _reference_timer(schedule: str, **options: Any) -> dict[str, Any]:
    """What azure-functions' own timer_trigger writes for the same schedule."""
    app = func.FunctionApp()

    @app.timer_trigger(schedule=schedule, arg_name="timer", **options)
    def reference(timer: func.TimerRequest) -> None: ...

    (function,) = app.get_functions()
    (raw,) = function.get_raw_bindings()
    return json.loads(raw)  # type: ignore[no-any-return]


def test_native_timer_function_metadata_and_worker_checks() -> None:
    bp = SocketIOBlueprint(hub="clock")

    @bp.every(seconds=10)
    def tick(emitter: Emitter) -> None:
        emitter.emit("tick")

    @bp.on_schedule("0 */5 * * * *", run_on_startup=True, use_monitor=False, name="clock_report")
    async def report(emitter: Emitter) -> None: ...

    functions = _app(bp)
    assert set(functions) == {"clock__timer__tick", "clock_report"}
    for name, schedule, options in (
        ("clock__timer__tick", "*/10 * * * * *", {"run_on_startup": False}),
        ("clock_report", "0 */5 * * * *", {"run_on_startup": True, "use_monitor": False}),
    ):
        bindings = [json.loads(raw) for raw in functions[name].get_raw_bindings()]
        timer = next(b for b in bindings if b["type"] == "timerTrigger")
        assert timer == _reference_timer(schedule, **options)
        output = next(b for b in bindings if b["type"] == "socketio")
        assert output == {"direction": "OUT", "dataType": "STRING", "type": "socketio", "name": "out", "hub": "clock"}
        assert load_errors(functions[name]) == []


def _run(function: Any) -> list[dict[str, Any]]:
    out = RecordingOut()
    result = function.get_user_function()(func.TimerRequest() if hasattr(func, "TimerRequest") else None, out)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    assert result is None
    if not out.values:
        return []
    (value,) = out.values  # one write per invocation
    return [json.loads(value)] if isinstance(value, str) else list(value)


def test_native_timer_writes_its_emits_once() -> None:
    bp = SocketIOBlueprint(hub="clock", namespace="/board")

    @bp.every(seconds=5)
    def tick(emitter: Emitter) -> None:
        emitter.to("lobby").emit("tick", 1)
        emitter.of("/").emit("tock")

    @bp.every(seconds=5, name="quiet")
    async def quiet(emitter: Emitter) -> None:
        await asyncio.sleep(0)

    functions = _app(bp)
    assert _run(functions["clock__timer__tick"]) == [
        {
            "actionName": "sendToRooms",
            "namespace": "/board",
            "rooms": ["lobby"],
            "eventName": "tick",
            "parameters": [1],
        },
        {"actionName": "sendToNamespace", "namespace": "/", "eventName": "tock", "parameters": []},
    ]
    assert _run(functions["quiet"]) == []  # nothing emitted: the output is not set


def test_compat_timer_emits_with_the_facade_and_survives_a_hub_override() -> None:
    sio = socketio.AsyncServer(state=False)
    ticks: list[int] = []

    @sio.every(seconds=2)
    async def broadcast() -> None:
        ticks.append(1)
        await sio.emit("tick", len(ticks), to="ticking")
        await sio.enter_room("some-sid", "ticking")

    sync = socketio.Server(state=False, hub="reports")

    @sync.schedule("*/30 * * * * *")
    def sync_report() -> None:
        sync.emit("report", "ok")

    app = func.FunctionApp()
    sio.register(app, hub="ticker")  # the hub override rebuilds the blueprint: the timers come along
    sync.register(app)
    functions = {f.get_function_name(): f for f in app.get_functions()}
    assert {"ticker__timer__broadcast", "reports__timer__sync_report"} <= set(functions)
    output = next(
        json.loads(raw) for raw in functions["ticker__timer__broadcast"].get_raw_bindings() if "socketio" in raw
    )
    assert output["hub"] == "ticker"
    assert [a["actionName"] for a in _run(functions["ticker__timer__broadcast"])] == ["sendToRooms", "addSocketToRoom"]
    assert _run(functions["reports__timer__sync_report"])[0]["eventName"] == "report"
    assert all(load_errors(functions[name]) == [] for name in functions if "timer" in name)


def test_background_task_sleep_and_late_tasks_name_the_timer_helper() -> None:
    sio = socketio.AsyncServer(state=False)
    with pytest.raises(UnsupportedError, match=r"@sio\.every\(seconds=\.\.\.\)"):
        sio.start_background_task(lambda: None)
    with pytest.raises(UnsupportedError, match=r"@sio\.every\(seconds=\.\.\.\)"):
        asyncio.run(sio.sleep(1))
    with pytest.raises(UnsupportedError, match=r"@sio\.every\(seconds=\.\.\.\)"):
        socketio.Server(state=False).sleep(1)

    late: list[BaseException] = []

    @sio.event
    async def start(sid: str) -> None:
        async def later() -> None:
            await asyncio.sleep(0.01)
            try:
                await sio.emit("late")
            except Exception as exc:
                late.append(exc)

        asyncio.get_running_loop().create_task(later())

    from tests.unit.test_compat_server import Harness

    async def scenario() -> None:
        harness = Harness(sio)
        fn = harness.by_event[("/", "start")].get_user_function()
        payload = {"namespace": "/", "socketId": "s1", "payload": '42["start"]', "eventName": "start", "parameters": []}
        await fn(json.dumps(payload), RecordingOut())
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert len(late) == 1 and "@sio.every(seconds=...)" in str(late[0])


def test_timer_names_and_late_registration_are_refused_clearly() -> None:
    bp = SocketIOBlueprint(hub="clock")
    with pytest.raises(ValueError, match="not a valid Azure function name"):
        bp.every(seconds=10, name="9 lives")(lambda emitter: None)
    sio = socketio.AsyncServer(state=False)
    sio.register(func.FunctionApp())
    with pytest.raises(RuntimeError, match="before app.register_functions"):
        sio.every(seconds=10)(lambda: None)

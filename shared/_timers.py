"""Periodic work for a hub: a timer-triggered function with a ``socketio`` output binding (``sio.schedule``/``every``).

Serverless mode has no long-running process, so python-socketio's ``start_background_task(loop_forever)`` becomes a
timer function: the host calls it on a schedule (NCRONTAB, six fields: second minute hour day month day-of-week),
the handler emits, and what it emitted goes to the output binding once, when it returns.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, TypeVar

import azure.functions as func

from ._actions import ActionList, OutputLike

TIMER_ARG = "timer"
OUTPUT_ARG = "out"
_FIELD = re.compile(r"^[0-9A-Za-z*/,\-]+$")
_SETTING = re.compile(r"^%[^%\s]+%$")  # "%MY_SCHEDULE%": an app setting holds the expression

F = TypeVar("F", bound=Callable[..., Any])


def check_schedule(schedule: object) -> str:
    """A six-field NCRONTAB expression or an app-setting reference, else a ValueError that shows the form."""
    if not isinstance(schedule, str) or not schedule.strip():
        raise ValueError(f"schedule must be an NCRONTAB expression string, got {schedule!r}.")
    text = schedule.strip()
    if _SETTING.match(text):
        return text
    fields = text.split()
    if len(fields) != 6 or not all(_FIELD.match(field) for field in fields):
        raise ValueError(
            f"schedule {schedule!r} is not a six-field NCRONTAB expression "
            "(second minute hour day month day-of-week, e.g. '*/10 * * * * *' for every 10 seconds, "
            "'0 */5 * * * *' for every 5 minutes), nor an app setting reference like '%TICK_SCHEDULE%'."
        )
    return text


def every_schedule(seconds: float = 0, minutes: float = 0, hours: float = 0) -> str:
    """The NCRONTAB expression that fires every ``hours:minutes:seconds``, when one exists.

    Cron steps restart at each minute/hour/day, so only periods that divide it evenly are regular: 1-30 s
    (divisors of 60), whole minutes dividing 60, whole hours dividing 24.
    """
    total = seconds + 60 * minutes + 3600 * hours
    if total <= 0 or total != int(total):
        raise ValueError(f"every() needs a positive whole number of seconds in total, got {total!r}.")
    period = int(total)
    if period < 60 and 60 % period == 0:
        return f"*/{period} * * * * *" if period > 1 else "* * * * * *"
    if period % 60 == 0 and period < 3600 and 60 % (period // 60) == 0:
        step = period // 60
        return f"0 */{step} * * * *" if step > 1 else "0 * * * * *"
    if period % 3600 == 0 and period <= 86400 and 24 % (period // 3600) == 0:
        step = period // 3600
        return "0 0 0 * * *" if step == 24 else f"0 0 */{step} * * *" if step > 1 else "0 0 * * * *"
    raise ValueError(
        f"every({period} seconds) has no regular NCRONTAB form: cron steps restart each minute, hour and day, so "
        "use a period that divides 60 seconds, 60 minutes or 24 hours, or write the expression with "
        "schedule('...')."
    )


class Every:
    """``every(seconds=..., minutes=..., hours=...)`` for a class that registers timers on an NCRONTAB schedule
    (``SocketIOBlueprint.on_schedule``, the compat facade's ``schedule``): the period becomes the expression."""

    def _on_schedule(self, schedule: str, *, run_on_startup: bool, name: str | None) -> Callable[[F], F]:
        raise NotImplementedError

    def every(
        self,
        seconds: float = 0,
        *,
        minutes: float = 0,
        hours: float = 0,
        run_on_startup: bool = False,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """A timer function for a fixed period: ``@sio.every(seconds=10)`` runs on ``"*/10 * * * * *"``.

        Periods must divide a minute, an hour or a day (cron steps restart at each); others raise ``ValueError``.
        """
        return self._on_schedule(every_schedule(seconds, minutes, hours), run_on_startup=run_on_startup, name=name)


def timer_wrapper(name: str, handler: Callable[..., Any], run: Callable[[ActionList], Any]) -> Callable[..., Any]:
    """``def <name>(timer: func.TimerRequest, out: func.Out[str]) -> None`` calling ``run(actions)``, then writing
    the actions in one ``out.set`` (nothing when there are none, or when ``run`` raised: the host logs it)."""
    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(handler):

        async def wrapper(timer, out):  # type: ignore[no-untyped-def]
            actions = ActionList()
            await run(actions)
            _write(out, actions)

    else:

        def wrapper(timer, out):  # type: ignore[no-untyped-def]
            actions = ActionList()
            run(actions)
            _write(out, actions)

    # The worker checks the annotations against the bindings at load time (as for the Socket.IO wrappers).
    wrapper.__annotations__ = {TIMER_ARG: func.TimerRequest, OUTPUT_ARG: func.Out[str], "return": None}
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = handler.__doc__
    wrapper.__module__ = getattr(handler, "__module__", __name__)
    return wrapper


def _write(out: OutputLike, actions: ActionList) -> None:
    value = actions.encode()
    if value is not None:
        out.set(value)

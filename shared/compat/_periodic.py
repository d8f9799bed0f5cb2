"""Periodic work, the serverless form of ``start_background_task(loop_forever)``: ``sio.schedule``/``sio.every``
register a timer function with a ``socketio`` output binding for the server's hub, in which ``sio.emit`` & co.
work as in a handler."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from .._actions import ActionList
from .._blueprint import SocketIOBlueprint
from .._timers import Every, check_schedule
from . import _state
from ._context import Invocation, activate

F = TypeVar("F", bound=Callable[..., Any])


class Timer(NamedTuple):
    """One ``schedule``d handler, kept so that ``register(app, hub=...)`` can register it again on a new hub."""

    expression: str
    handler: Callable[..., Any]
    run_on_startup: bool
    use_monitor: bool | None
    name: str | None


class Periodic(Every):
    """``schedule`` and ``every`` of ``AsyncServer``/``Server``."""

    hub: str
    state: bool
    _blueprint: SocketIOBlueprint
    _timers: list[Timer]
    _finalized: bool

    def schedule(
        self, schedule: str, *, run_on_startup: bool = False, use_monitor: bool | None = None, name: str | None = None
    ) -> Callable[[F], F]:
        """Run ``handler()`` on an NCRONTAB schedule (six fields: ``"*/10 * * * * *"`` = every 10 seconds).

        The serverless form of ``start_background_task(loop_forever)``: one timer function with a ``socketio``
        output binding for this server's hub. Inside it ``emit``, ``send``, room calls, sessions and ``rooms()``
        work as in a handler, and what it emitted is written when it returns::

            @sio.every(seconds=10)
            async def tick():
                await sio.emit("tick", time.time(), to="lobby")
        """
        expression = check_schedule(schedule)

        def decorate(fn: F) -> F:
            if not callable(fn):
                raise TypeError(f"a timer handler must be callable, got {fn!r}.")
            if self._finalized:
                raise RuntimeError(
                    f"timer {getattr(fn, '__name__', fn)!r} registered after the server was registered on the "
                    "FunctionApp; define every handler before app.register_functions(sio)."
                )
            timer = Timer(expression, fn, run_on_startup, use_monitor, name)
            self._register_timer(self._blueprint, timer)
            self._timers.append(timer)
            return fn

        return decorate

    def _on_schedule(self, schedule: str, *, run_on_startup: bool, name: str | None) -> Callable[[F], F]:
        return self.schedule(schedule, run_on_startup=run_on_startup, name=name)  # what `every` registers with

    def _register_timer(self, blueprint: SocketIOBlueprint, timer: Timer) -> None:
        blueprint.add_timer(
            timer.expression,
            timer.handler,
            timer_runner(self, timer.handler),
            run_on_startup=timer.run_on_startup,
            use_monitor=timer.use_monitor,
            name=timer.name,
        )


def timer_runner(server: _state.StateOwner, handler: Callable[..., Any]) -> Callable[[ActionList], Any]:
    """What the timer function (``sio.schedule``/``every``) runs: ``handler()`` with the invocation current, so
    ``sio.emit`` & co. add to ``actions``; room changes of sids are recorded once it returns."""
    run: Callable[[ActionList], Any]
    if inspect.iscoroutinefunction(handler):

        async def run(actions: ActionList) -> None:
            with activate(Invocation(server.hub, actions)) as invocation:
                await handler()
            if invocation.foreign:
                await asyncio.to_thread(_state.flush, server, invocation)

    else:

        def run(actions: ActionList) -> None:
            with activate(Invocation(server.hub, actions)) as invocation:
                handler()
            _state.flush(server, invocation)

    return run

"""Invoking one function as the worker does: sync ones in a thread pool, async ones on the loop.

Output bindings get a fresh ``Out`` each; the call is bounded by host.json ``functionTimeout``; every
invocation logs ``Executing``/``Executed`` lines in the style of ``func start``. A handler that raises or
hangs yields a failed :class:`Invocation`, never an exception out of the host.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

from ._loader import LoadedFunction

log = logging.getLogger("devhost")


class _Out(func.Out[Any]):
    """The worker's ``Out``: a plain holder for one value."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


class _Context(func.Context):
    """The ``context`` argument: invocation id, function name and directory."""

    def __init__(self, invocation_id: str, function_name: str, function_directory: str) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._thread_local_storage = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._thread_local_storage

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None


@dataclass
class Invocation:
    """What one call produced: the return value, the outputs that were set, or the error."""

    function_name: str
    invocation_id: str
    succeeded: bool = False
    return_value: Any = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    timed_out: bool = False
    duration_ms: int = 0


class Invoker:
    """Runs functions with the worker's threading model, a timeout and ``func start`` log lines."""

    def __init__(self, function_timeout: float, max_workers: int | None = None, app_dir: str = ".") -> None:
        self.function_timeout = function_timeout
        self.app_dir = app_dir
        # PYTHON_THREADPOOL_THREAD_COUNT semantics: None = the ThreadPoolExecutor default.
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="devhost-sync")

    def close(self) -> None:
        # Hung sync handlers cannot be killed; do not wait for them at shutdown.
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def invoke(self, function: LoadedFunction, inputs: Mapping[str, Any], reason: str) -> Invocation:
        invocation_id = str(uuid.uuid4())
        result = Invocation(function.name, invocation_id)
        log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", function.name, reason, invocation_id)
        outs = {name: _Out() for name in function.output_names}
        kwargs: dict[str, Any] = {name: inputs.get(name) for name in function.input_names}
        kwargs.update(outs)
        if function.requires_context:
            kwargs["context"] = _Context(invocation_id, function.name, self.app_dir)
        started = time.perf_counter()
        try:
            if function.is_async:
                value = await asyncio.wait_for(function.func(**kwargs), self.function_timeout)
            else:
                loop = asyncio.get_running_loop()
                future = loop.run_in_executor(self._pool, lambda: function.func(**kwargs))
                value = await asyncio.wait_for(future, self.function_timeout)
            result.return_value = value
            result.outputs = {name: out.get() for name, out in outs.items() if out.get() is not None}
            result.succeeded = True
        except TimeoutError:
            result.timed_out = True
            result.error = (
                f"Timeout value of {_timespan(self.function_timeout)} exceeded by function "
                f"'Functions.{function.name}' (Id: '{invocation_id}'). Initiating cancellation."
            )
            log.error("%s", result.error)
        except Exception as exc:
            result.error = f"Result: Failure\nException: {type(exc).__name__}: {exc}"
            log.error(
                "Executed 'Functions.%s' failed: %s: %s\n%s",
                function.name,
                type(exc).__name__,
                exc,
                "".join(traceback.format_exception(exc)).rstrip(),
            )
        result.duration_ms = round((time.perf_counter() - started) * 1000)
        log.info(
            "Executed 'Functions.%s' (%s, Id=%s, Duration=%dms)",
            function.name,
            "Succeeded" if result.succeeded else "Failed",
            invocation_id,
            result.duration_ms,
        )
        return result


def _timespan(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"

"""One invocation as the host runs it: an ``InvocationRequest`` to the worker process, bounded and logged.

The worker runtime calls the function (sync ones in its thread pool, async ones on its loop), gives each
output binding its ``Out`` and encodes outputs and the return value. Here the host's part: build the request,
bound it by host.json ``functionTimeout``, log ``Executing``/``Executed`` lines in the style of ``func start``,
and turn the response into an :class:`Invocation` with host values (devhost._values.host_value). A raising
function, a timeout or a crashed worker process yields a failed :class:`Invocation`, never an exception.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _protos
from ._channel import AppLoadError, WorkerChannel, WorkerCrashedError
from ._functions import FunctionInfo
from ._values import host_value, merge_return_dict

log = logging.getLogger("devhost")


@dataclass
class Invocation:
    """What one call produced, as host values: the return value, the outputs that were set, or the error."""

    function_name: str
    invocation_id: str
    succeeded: bool = False
    return_value: Any = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    timed_out: bool = False
    duration_ms: int = 0


class Invoker:
    """Sends invocations to the worker process with a timeout and ``func start`` log lines."""

    def __init__(self, channel: WorkerChannel, function_timeout: float) -> None:
        self.channel = channel
        self.function_timeout = function_timeout

    def request(
        self,
        function: FunctionInfo,
        invocation_id: str,
        inputs: Mapping[str, Any],
        trigger_metadata: Mapping[str, Any] | None = None,
    ) -> Any:
        """The ``InvocationRequest``: every input binding gets a ``ParameterBinding`` (unset ``TypedData`` if the
        caller has no value for it, which the worker passes as ``None``)."""
        empty = _protos.TypedData()
        return _protos.InvocationRequest(
            invocation_id=invocation_id,
            function_id=function.function_id,
            input_data=[
                _protos.ParameterBinding(name=binding.name, data=inputs.get(binding.name, empty))
                for binding in function.input_bindings
            ],
            trigger_metadata=dict(trigger_metadata or {}),
        )

    async def invoke(
        self,
        function: FunctionInfo,
        inputs: Mapping[str, Any],
        reason: str,
        trigger_metadata: Mapping[str, Any] | None = None,
    ) -> Invocation:
        invocation_id = str(uuid.uuid4())
        result = Invocation(function.name, invocation_id)
        log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", function.name, reason, invocation_id)
        started = time.perf_counter()
        try:
            request = self.request(function, invocation_id, inputs, trigger_metadata)
            response = await asyncio.wait_for(self.channel.invoke(request), self.function_timeout)
        except TimeoutError:
            result.timed_out = True
            result.error = (
                f"Timeout value of {_timespan(self.function_timeout)} exceeded by function "
                f"'Functions.{function.name}' (Id: '{invocation_id}'). Initiating cancellation."
            )
            log.error("%s", result.error)
        except (WorkerCrashedError, AppLoadError) as exc:
            result.error = f"Result: Failure\nException: the Python worker process failed: {exc}"
            log.error("Executed 'Functions.%s' failed: the Python worker process failed: %s", function.name, exc)
        else:
            self._read_response(function, response, result)
        result.duration_ms = round((time.perf_counter() - started) * 1000)
        log.info(
            "Executed 'Functions.%s' (%s, Id=%s, Duration=%dms)",
            function.name,
            "Succeeded" if result.succeeded else "Failed",
            invocation_id,
            result.duration_ms,
        )
        return result

    @staticmethod
    def _read_response(function: FunctionInfo, response: Any, result: Invocation) -> None:
        status = response.result
        if status.status != _protos.StatusResult.Success:
            exception = status.exception
            result.error = f"Result: Failure\nException: {exception.message}"
            log.error(
                "Executed 'Functions.%s' failed: %s\n%s",
                function.name,
                exception.message,
                exception.stack_trace.rstrip(),
            )
            return
        try:
            result.return_value = host_value(response.return_value) if response.HasField("return_value") else None
            outputs = {binding.name: host_value(binding.data) for binding in response.output_data}
        except ValueError as exc:  # a json TypedData that does not parse
            result.error = f"Result: Failure\nException: the worker sent a value the host cannot read: {exc}"
            log.error("Executed 'Functions.%s' failed: %s", function.name, result.error)
            return
        result.outputs = merge_return_dict(
            result.return_value,
            {name: value for name, value in outputs.items() if value is not None},
            [binding.name for binding in function.output_bindings],
            function.has_return_binding,
        )
        result.succeeded = True


def _timespan(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"

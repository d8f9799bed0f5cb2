"""The host's side of its worker process: start it, load the app through it, send invocations, restart it.

One worker process per dev host process (devhost._worker), spoken to over a socket pair with framed
``StreamingMessage``s. Startup is the real host's sequence: ``WorkerInitRequest`` (the runtime imports and
indexes ``function_app.py`` here; a failure comes back in ``WorkerInitResponse.result``), then
``FunctionsMetadataRequest`` and one ``FunctionLoadRequest`` per function. Any number of invocations can be in
flight; replies are matched by ``request_id``. If the process dies, every in-flight invocation fails at once
with :class:`WorkerCrashedError` and a new process is started and loaded the same way.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import _protos
from ._framing import encode_frame, read_frame

log = logging.getLogger("devhost")

HOST_VERSION = "4.0.0-devhost"
# Azure gives module import + indexing two minutes on Python 3.13 (docs/devhost.md#what-runs-where).
LOAD_TIMEOUT = 120.0
_REPO = Path(__file__).resolve().parent.parent


class AppLoadError(ValueError):
    """The app cannot be loaded; the message is one line (the runtime's own, where it gave one)."""


class WorkerCrashedError(RuntimeError):
    """The worker process exited while a request was in flight."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


class WorkerChannel:
    """A running worker process with the app loaded; :meth:`start` it, :meth:`invoke`, then :meth:`aclose`."""

    def __init__(self, app_dir: Path, environ: Mapping[str, str], log_level: str = "info") -> None:
        self.app_dir = app_dir
        self.environ = dict(environ)
        self.log_level = log_level
        self.functions: list[Any] = []  # RpcFunctionMetadata, as the runtime indexed them
        self.pid: int | None = None
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._closing = False
        self._restarting: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def start(self) -> list[Any]:
        """Start the process and load the app; returns its functions. Raises :class:`AppLoadError`."""
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        try:
            await self._spawn_and_load()
        except BaseException as exc:
            self._ready.set_exception(exc)
            self._ready.exception()  # retrieved: nobody else awaits a failed first start
            await self._stop_process()
            raise
        self._ready.set_result(None)
        return self.functions

    async def _spawn_and_load(self) -> None:
        if self._writer is not None:
            self._writer.close()  # the previous process's socket
        host_sock, worker_sock = socket.socketpair()
        env = dict(self.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH", "")]))
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-u",
                "-m",
                "devhost._worker",
                "--fd",
                str(worker_sock.fileno()),
                "--app-dir",
                str(self.app_dir),
                "--log-level",
                self.log_level,
                pass_fds=(worker_sock.fileno(),),
                cwd=str(self.app_dir),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
            )
        finally:
            worker_sock.close()
        self.pid = self._process.pid
        reader, self._writer = await asyncio.open_connection(sock=host_sock)
        self._reader_task = asyncio.create_task(self._read(reader, self._process))
        try:
            await asyncio.wait_for(self._load(), LOAD_TIMEOUT)
        except TimeoutError:
            raise AppLoadError(
                f"Loading function_app.py took longer than {LOAD_TIMEOUT:.0f} s (module import and indexing); "
                "keep top-level imports and work light."
            ) from None
        except WorkerCrashedError as exc:
            raise AppLoadError(f"The worker process exited while loading function_app.py ({exc}).") from None

    async def _load(self) -> None:
        init = await self._request(
            _protos.StreamingMessage(
                worker_init_request=_protos.WorkerInitRequest(
                    host_version=HOST_VERSION, function_app_directory=str(self.app_dir)
                )
            )
        )
        result = init.worker_init_response.result
        if result.status != _protos.StatusResult.Success:
            if result.exception.stack_trace:
                log.error("%s", result.exception.stack_trace.rstrip())
            raise AppLoadError(_one_line(result.exception.message or "the worker refused the app"))
        metadata = await self._request(
            _protos.StreamingMessage(
                functions_metadata_request=_protos.FunctionsMetadataRequest(function_app_directory=str(self.app_dir))
            )
        )
        response = metadata.function_metadata_response
        if response.result.status != _protos.StatusResult.Success:
            raise AppLoadError(_one_line(response.result.exception.message or "function metadata request failed"))
        functions = list(response.function_metadata_results)
        for function in functions:
            loaded = await self._request(
                _protos.StreamingMessage(
                    function_load_request=_protos.FunctionLoadRequest(
                        function_id=function.function_id, metadata=function
                    )
                )
            )
            status = loaded.function_load_response.result
            if status.status != _protos.StatusResult.Success:
                raise AppLoadError(f"The '{function.name}' function is in error: {status.exception.message}")
        self.functions = functions

    async def aclose(self) -> None:
        self._closing = True
        if self._restarting is not None:
            await asyncio.gather(self._restarting, return_exceptions=True)
        await self._stop_process()

    async def _stop_process(self) -> None:
        if self._writer is not None:
            self._writer.close()
        process = self._process
        if process is not None and process.returncode is None:
            # Closing the socket ends the worker's read loop; a worker stuck in user code gets SIGKILL.
            try:
                await asyncio.wait_for(process.wait(), 2.0)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._reader_task is not None:
            await asyncio.gather(self._reader_task, return_exceptions=True)

    # -- requests ---------------------------------------------------------------------------------------
    async def _request(self, message: Any) -> Any:
        if self._writer is None or self._process is None or self._process.returncode is not None:
            raise WorkerCrashedError("the worker process is not running")
        request_id = str(next(self._ids))
        message.request_id = request_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            self._writer.write(encode_frame(message))
            return await future
        finally:
            self._pending.pop(request_id, None)

    async def invoke(self, request: Any) -> Any:
        """Send one ``InvocationRequest``; returns the ``InvocationResponse``.

        Raises :class:`WorkerCrashedError` if the process dies first, or :class:`AppLoadError` if a restarted
        process could not load the app. Cancelling the caller (a timeout) leaves the worker running."""
        ready = self._ready
        assert ready is not None, "start() first"
        if not ready.done():
            await asyncio.shield(ready)  # a restart is under way: wait for it (a caller's timeout stays its own)
        elif (error := ready.exception()) is not None:
            raise error  # the restarted process could not load the app
        reply = await self._request(_protos.StreamingMessage(invocation_request=request))
        return reply.invocation_response

    async def _read(self, reader: asyncio.StreamReader, process: asyncio.subprocess.Process) -> None:
        while (message := await read_frame(reader)) is not None:
            future = self._pending.get(message.request_id)
            if future is not None and not future.done():
                future.set_result(message)
            # else: the caller gave up (timeout); a late reply is dropped, as the host drops it.
        code = await process.wait()
        crashed = WorkerCrashedError(f"worker process {process.pid} exited with code {code}")
        in_flight = [future for future in self._pending.values() if not future.done()]
        for future in in_flight:
            future.set_exception(crashed)
        if self._closing or self._ready is None or not self._ready.done():
            return
        log.error(
            "The Python worker process (pid %s) exited with code %s; %d in-flight invocation(s) failed. Restarting it.",
            process.pid,
            code,
            len(in_flight),
        )
        # A new "ready" at once, so an invocation arriving now waits for the new process instead of failing.
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._restarting = loop.create_task(self._restart(self._ready))

    async def _restart(self, ready: asyncio.Future[None]) -> None:
        try:
            await self._spawn_and_load()
        except Exception as exc:
            log.error("The restarted worker process cannot load the app: %s", exc)
            ready.set_exception(exc if isinstance(exc, AppLoadError) else AppLoadError(str(exc)))
            ready.exception()  # retrieved here; later invocations still get it
            return
        log.info("Restarted the Python worker process (pid %s).", self.pid)
        ready.set_result(None)

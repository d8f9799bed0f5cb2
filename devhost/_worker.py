"""The dev host's worker process: Microsoft's Python worker runtime, driven as the real host drives its worker.

``python -m devhost._worker --fd N --app-dir DIR`` (started by devhost._channel, never by hand) reads
``StreamingMessage`` frames from the inherited socket ``N`` and hands each request to
``azure_functions_runtime`` (``worker_init_request``, ``functions_metadata_request``,
``function_load_request``, ``invocation_request``), each in its own task, so async functions overlap and sync
ones run in the runtime's thread pool. Indexing, load checks, argument conversion, the call itself and the
encoding of outputs and return values are the runtime's; this module only moves messages.

It imports nothing of sioless's ``shared`` package: the app folder comes first on ``sys.path`` and the app
brings whatever it imports itself, as in Azure. Its stdout/stderr are the dev host's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from typing import Any

from . import _protos
from ._eventloop import loop_factory
from ._framing import encode_frame, read_frame

# StreamingMessage request field -> (runtime entry point, response field)
_ROUTES = {
    "worker_init_request": ("worker_init_request", "worker_init_response", "WorkerInitResponse"),
    "functions_metadata_request": (
        "functions_metadata_request",
        "function_metadata_response",
        "FunctionMetadataResponse",
    ),
    "function_load_request": ("function_load_request", "function_load_response", "FunctionLoadResponse"),
    "invocation_request": ("invocation_request", "invocation_response", "InvocationResponse"),
}


class _Event:
    """What ``handle_event`` entry points take: the whole request message and the host's properties."""

    def __init__(self, request: Any, properties: dict[str, Any]) -> None:
        self.request = request
        self.properties = properties


def _failure(response_type: str, message: Any, exc: BaseException) -> Any:
    """A response of the right type saying the runtime itself raised (it normally reports failures itself)."""
    result = _protos.StatusResult(
        status=_protos.StatusResult.Failure,
        exception=_protos.RpcException(message=f"{type(exc).__name__}: {exc}"),
    )
    response = getattr(_protos, response_type)(result=result)
    if response_type == "InvocationResponse":
        response.invocation_id = message.invocation_request.invocation_id
    return response


async def _handle(runtime: Any, message: Any, properties: dict[str, Any], writer: asyncio.StreamWriter) -> None:
    kind = message.WhichOneof("content")
    route = _ROUTES.get(kind or "")
    if route is None:
        logging.getLogger("devhost.worker").warning("Ignoring a %s message the worker does not handle.", kind)
        return
    entry, response_field, response_type = route
    try:
        response = await getattr(runtime, entry)(_Event(message, properties))
    except Exception as exc:
        response = _failure(response_type, message, exc)
    reply = _protos.StreamingMessage(request_id=message.request_id, **{response_field: response})
    # One write() per frame: frames never interleave, whatever order tasks finish in.
    writer.write(encode_frame(reply))
    await writer.drain()


async def _serve(fd: int) -> None:
    import azure_functions_runtime as runtime  # after sys.path is set: it imports azure.functions

    runtime.start_threadpool_executor()
    sock = socket.socket(fileno=fd)
    reader, writer = await asyncio.open_connection(sock=sock)
    properties = {"protos": _protos, "host": "127.0.0.1"}
    tasks: set[asyncio.Task[None]] = set()
    while (message := await read_frame(reader)) is not None:
        task = asyncio.create_task(_handle(runtime, message, properties, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


def _die_with_the_host() -> None:
    """Linux: the kernel kills this process when the dev host dies, even by SIGKILL, even if the function
    blocks the event loop (otherwise the closed socket ends the read loop)."""
    if sys.platform == "linux":
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the host died before prctl took effect
            os._exit(0)


def main(argv: list[str] | None = None) -> None:
    _die_with_the_host()
    parser = argparse.ArgumentParser(prog="python -m devhost._worker")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--app-dir", required=True)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="[%(asctime)s] %(message)s",
        stream=sys.stdout,
    )
    # The runtime logs "Function name: ..." and its indexing summary at INFO on "azure.functions"; the SDK logs
    # every REST call at INFO on "azure". The host prints func-style lines instead.
    logging.getLogger("azure").setLevel(logging.WARNING)
    app_dir = os.path.abspath(args.app_dir)
    if app_dir in sys.path:
        sys.path.remove(app_dir)
    sys.path.insert(0, app_dir)
    try:
        asyncio.run(_serve(args.fd), loop_factory=loop_factory())
    finally:
        # The host is gone (or asked us to stop): do not wait for hung sync functions in the thread pool.
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    main()

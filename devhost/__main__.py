"""``python -m devhost [--app-dir DIR] [--host 127.0.0.1] [--port 7071] [--setting NAME=VALUE ...]``.

Prints the ``Functions:`` listing, then a ``DEVHOST_READY {"port": ...}`` line once it accepts connections
(``--port 0`` picks a free port). Settings with secrets are better passed as environment variables than with
``--setting`` (command lines are visible to other local users).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import sys
from pathlib import Path

import uvicorn

from ._app import create_app
from ._channel import AppLoadError
from ._cors import CorsPolicy
from ._eventloop import loop_factory
from ._functions import FunctionConfigError
from ._host import DevHost
from ._routes import RouteError
from ._settings import SettingsError, load_settings

READY_MARKER = "DEVHOST_READY"


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--setting needs NAME=VALUE, got {text!r}")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devhost", description="Offline Azure Functions dev host.")
    parser.add_argument("--app-dir", type=Path, default=Path.cwd(), help="folder with function_app.py (default: .)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7071, help="port (default 7071; 0 = pick a free one)")
    parser.add_argument("--setting", type=_setting, action="append", default=[], help="override an app setting")
    parser.add_argument(
        "--cors", default=None, help="comma-separated CORS origins, no spaces (default: local.settings.json Host.CORS)"
    )
    parser.add_argument(
        "--cors-credentials",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="allow credentialed cross-origin requests (default: Host.CORSCredentials)",
    )
    parser.add_argument("--function-timeout", type=float, default=None, help="seconds (default: host.json, else 30)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    parser.add_argument(
        "--instances", type=_positive, default=1, help="run N instances behind one front on --port (default 1)"
    )
    parser.add_argument("--watch", action="store_true", help="restart the instances when a file of the app changes")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--instances needs a whole number >= 1, got {text!r}")
    return value


async def _serve(host: DevHost, sock: socket.socket) -> None:
    config = uvicorn.Config(create_app(host), log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    port = sock.getsockname()[1]

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.02)
        print(host.describe(f"http://{sock.getsockname()[0]}:{port}"), flush=True)
        print(f"{READY_MARKER} " + json.dumps({"port": port}), flush=True)

    task = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        task.cancel()


def _listen(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets whose proto is TCP, and without it
    # a response written as headers + body waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    return sock


async def _run(args: argparse.Namespace) -> int:
    log = logging.getLogger("devhost")
    app_dir = args.app_dir.resolve()
    try:
        settings = load_settings(app_dir, dict(args.setting), function_timeout=args.function_timeout)
        if args.cors is not None:  # func start's --cors / --cors-credentials win over local.settings.json
            settings.cors = args.cors
        if args.cors_credentials is not None:
            settings.cors_credentials = args.cors_credentials
        cors = CorsPolicy.parse(settings.cors, settings.cors_credentials)  # refuses '*' with credentials
        if cors is not None:
            log.info("CORS: %s%s", ", ".join(cors.origins), " (with credentials)" if cors.credentials else "")
        host = await DevHost.start(app_dir, settings, args.log_level)
    except (AppLoadError, FunctionConfigError, SettingsError, RouteError) as exc:
        # One line, always: the stack and editors show the last line of a failed start.
        log.error("The app in %s cannot be loaded: %s", app_dir, " ".join(str(exc).split()))
        return 2
    try:
        try:
            sock = _listen(args.host, args.port)
        except OSError as exc:
            log.error(
                "Cannot listen on %s:%s (%s). Is another dev host or `func start` running? Stop it or pass --port.",
                args.host,
                args.port,
                exc.strerror or exc,
            )
            return 3
        try:
            await _serve(host, sock)
        finally:
            sock.close()
    finally:
        await host.aclose()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.instances > 1 or args.watch:
        from ._instances import run  # the front and its instances: see devhost/_instances.py

        return run(args)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()), format="[%(asctime)s] %(message)s", stream=sys.stdout
    )
    # The SDK logs every REST request and response at INFO; keep the func-style lines readable.
    logging.getLogger("azure").setLevel(logging.WARNING)
    try:
        return asyncio.run(_run(args), loop_factory=loop_factory())
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

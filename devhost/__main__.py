"""``python -m devhost [--app-dir DIR] [--host 127.0.0.1] [--port 7071] [--setting NAME=VALUE ...]``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from ._app import create_app
from ._host import DevHost
from ._loader import AppLoadError, FunctionLoadError
from ._routes import RouteError
from ._settings import SettingsError, load_settings


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--setting needs NAME=VALUE, got {text!r}")
    return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devhost", description="Offline Azure Functions dev host.")
    parser.add_argument("--app-dir", type=Path, default=Path.cwd(), help="folder with function_app.py (default: .)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--setting", type=_setting, action="append", default=[], help="override an app setting")
    parser.add_argument("--function-timeout", type=float, default=None, help="seconds (default: host.json, 30)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s", stream=sys.stdout)
    log = logging.getLogger("devhost")
    try:
        settings = load_settings(args.app_dir, dict(args.setting), function_timeout=args.function_timeout)
        host = DevHost.load(args.app_dir, settings)
    except (AppLoadError, FunctionLoadError, SettingsError, RouteError) as exc:
        log.error("The app cannot be loaded: %s", exc)
        return 2
    base = f"http://{args.host}:{args.port}"
    print(host.describe(base), flush=True)
    config = uvicorn.Config(create_app(host), host=args.host, port=args.port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as exc:
        log.error("Cannot listen on %s:%s: %s", args.host, args.port, exc)
        return 3
    return 0 if server.started else 3


if __name__ == "__main__":
    sys.exit(main())

"""``python -m emulator``: run the offline Web PubSub for Socket.IO emulator (see docs/emulator.md)."""

from __future__ import annotations

import asyncio
import sys

from ._config import ConfigError, build_parser, config_from_args
from ._server import configure_logging, serve


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    configure_logging(args.log_level)
    try:
        asyncio.run(serve(config, log_level=args.log_level))
    except OSError as exc:
        print(f"emulator: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The offline stack: Azurite + emulator + dev host with matching keys, as processes stopped by their own PIDs.

``python -m devhost.stack`` (what ``make run`` calls) starts all three on the default ports (Azurite
10000-10002 with data in ``.azurite/``, emulator 8080, dev host 7071), prints the URLs and stops everything on
Ctrl-C. Tests use :class:`Stack` (through ``devhost.pytest_plugin``) with ephemeral ports and in-memory Azurite.
It installs nothing: missing tools give a message that says to run ``make setup``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.protocol.webhook import WEBHOOK_PATH

from .processes import (
    ManagedProcess,
    ProcessError,
    accepts,
    free_port,
    kill_pid,
    pid_alive,
    popen,
    port_is_free,
    wait_until_closed,
)

__all__ = [
    "ManagedProcess",
    "Stack",
    "StackError",
    "check_tools",
    "free_port",
    "main",
    "start_azurite",
    "storage_connection_string",
]

REPO = Path(__file__).resolve().parent.parent
AZURITE_JS = Path("node_modules") / "azurite" / "dist" / "src" / "azurite.js"
DEV_STORAGE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_PY_MODULES = ("uvicorn", "starlette", "engineio", "socketio", "azure.functions", "azure.messaging.webpubsubservice")


StackError = ProcessError  # the stack's errors are process errors: a missing tool, a busy port, no ready line


def check_tools(repo: Path = REPO, azurite: bool = True) -> None:
    """Raise :class:`StackError` naming every missing tool; nothing is installed here."""
    missing = [name for name in _PY_MODULES if importlib.util.find_spec(name.split(".")[0]) is None]
    problems = [f"Python packages {', '.join(missing)} (run `make setup`)"] if missing else []
    if azurite:
        if shutil.which("node") is None:
            problems.append("`node` is not on PATH (install Node.js 20, then `make setup`)")
        elif not (repo / AZURITE_JS).is_file():
            problems.append(f"Azurite ({AZURITE_JS}) is not installed (run `make setup`, which runs `npm ci`)")
    if problems:
        raise StackError("Cannot start the local stack; missing: " + "; ".join(problems) + ".")


def storage_connection_string(blob: int, queue: int, table: int, host: str = "127.0.0.1") -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_STORAGE_KEY};"
        f"BlobEndpoint=http://{host}:{blob}/devstoreaccount1;QueueEndpoint=http://{host}:{queue}/devstoreaccount1;"
        f"TableEndpoint=http://{host}:{table}/devstoreaccount1;"
    )


def start_azurite(
    ports: tuple[int, int, int] = (0, 0, 0),
    location: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> ManagedProcess:
    """Start Azurite (blob, queue, table; 0 = ephemeral port; ``location`` None = in memory) and wait for it.

    ``.ready["ports"]`` holds the three ports; ``storage_connection_string(*ports)`` connects to it.
    """
    ports = tuple(p or free_port() for p in ports)  # type: ignore[assignment]
    cmd = ["node", str(REPO / AZURITE_JS), "--silent", "--disableTelemetry", "--skipApiVersionCheck"]
    if location is not None:
        location.mkdir(parents=True, exist_ok=True)
        cmd += ["--location", str(location)]
    else:
        cmd += ["--inMemoryPersistence"]
    for service, port in zip(("blob", "queue", "table"), ports, strict=True):
        cmd += [f"--{service}Host", "127.0.0.1", f"--{service}Port", str(port)]
    azurite = ManagedProcess("azurite", popen(cmd, REPO, dict(os.environ) if env is None else env))
    azurite.pump(None)
    deadline = time.monotonic() + timeout
    while not all(accepts(p) for p in ports):
        if azurite.process.poll() is not None or time.monotonic() > deadline:
            time.sleep(0.2)
            azurite.stop()
            raise StackError("Azurite did not start:\n" + "\n".join(azurite.output[-20:]))
        time.sleep(0.05)
    azurite.ready = {"ports": ports}
    return azurite


@dataclass
class Stack:
    """Azurite (optional) + emulator + dev host for one app folder. Ports 0 = ephemeral."""

    app_dir: Path = REPO
    devhost_port: int = 0
    emulator_port: int = 0
    azurite_ports: tuple[int, int, int] | None = (0, 0, 0)  # None = no Azurite
    azurite_location: Path | None = None  # None = in memory
    function_timeout: float | None = None
    instances: int = 1  # > 1: that many dev host processes behind one front on devhost_port
    watch: bool = False  # restart the dev host instances when a file of the app changes
    emulator_flags: Sequence[str] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 30.0
    processes: list[ManagedProcess] = field(default_factory=list)
    _devhost_env: dict[str, str] = field(default_factory=dict, repr=False)
    emulator: Any = None
    connection_string: str = ""
    storage: str = ""

    @property
    def devhost_url(self) -> str:
        return f"http://127.0.0.1:{self.devhost_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator.port}"

    @property
    def inspector_url(self) -> str:
        return f"{self.emulator_url}/inspector"

    def _check_ports(self) -> None:
        wanted = [
            ("dev host", self.devhost_port, "--devhost-port"),
            ("emulator", self.emulator_port, "--emulator-port"),
        ]
        if self.azurite_ports:
            wanted += [
                (f"Azurite {n}", p, "--azurite-ports")
                for n, p in zip(("blob", "queue", "table"), self.azurite_ports, strict=True)
            ]
        for name, port, flag in wanted:
            if port and not port_is_free(port):
                raise StackError(
                    f"Port {port} ({name}) is already in use. Stop what listens there (`ss -ltnp 'sport = :{port}'`) "
                    f"or choose another port with {flag}."
                )

    def start(self) -> Stack:
        check_tools(REPO, azurite=self.azurite_ports is not None)
        self._check_ports()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        env = dict(os.environ, **self.extra_env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        if self.azurite_ports is not None:
            azurite = start_azurite(self.azurite_ports, self.azurite_location, env, self.startup_timeout)
            self.processes.append(azurite)
            self.azurite_ports = azurite.ready["ports"]
            self.storage = storage_connection_string(*self.azurite_ports)

        self.devhost_port = self.devhost_port or free_port()
        self._start_emulator(self.emulator_port)
        self.connection_string = self.emulator.connection_string

        dev_env = dict(env, WebPubSubForSocketIOConnectionString=self.connection_string)
        if self.storage:
            dev_env["AzureWebJobsStorage"] = self.storage
        self._devhost_env = dev_env
        self._start_devhost()
        self.sync_hub_settings()

    def sync_hub_settings(self) -> dict[str, list[str]]:
        """Send the emulator, per hub, only the system events the app has functions for (as the azd post-deploy
        hook configures Azure), read from the dev host's last ``Functions:`` listing. Returns what was set."""
        from . import _hub_settings

        events = _hub_settings.system_events_by_hub(_hub_settings.last_listing(self._process("devhost").output))
        try:
            _hub_settings.apply(self.connection_string, events)
        except Exception as exc:  # the emulator is ours: a refusal here is a stack bug, say what failed
            raise StackError(f"cannot set the emulator's hub settings: {exc}") from exc
        return events

    def _start_emulator(self, port: int) -> None:
        from emulator.testing import start_emulator

        url = f"http://127.0.0.1:{self.devhost_port}{WEBHOOK_PATH}"
        self.emulator = start_emulator(
            "--url-template",
            url,
            *self.emulator_flags,
            port=port,
            log_level="info",
            timeout=self.startup_timeout,
        )

    def _start_devhost(self) -> None:
        cmd = [sys.executable, "-u", "-m", "devhost", "--app-dir", str(self.app_dir), "--port", str(self.devhost_port)]
        if self.function_timeout is not None:
            cmd += ["--function-timeout", str(self.function_timeout)]
        if self.instances > 1:
            cmd += ["--instances", str(self.instances)]
        if self.watch:
            cmd += ["--watch"]
        devhost = ManagedProcess("devhost", popen(cmd, REPO, self._devhost_env))
        devhost.pump("DEVHOST_READY")
        self.processes.append(devhost)
        devhost.wait_ready(self.startup_timeout)

    @property
    def has_front(self) -> bool:
        """Whether the dev host port is a front over instances (``instances > 1`` or ``watch``)."""
        return self.instances > 1 or self.watch

    def instance_info(self) -> list[dict[str, Any]]:
        """The running dev host instances: ``pid``, ``port``, ``inflight``, ``served``... (the front's
        ``GET /admin/instances``); a single dev host without a front is one entry."""
        devhost = self._process("devhost")
        if not self.has_front:
            return [{"slot": 1, "pid": devhost.pid, "port": self.devhost_port, "state": "running"}]
        import httpx  # only for a front; keeps `python -m devhost.stack` lean

        response = httpx.get(f"{self.devhost_url}/admin/instances", timeout=10)
        response.raise_for_status()
        instances: list[dict[str, Any]] = response.json()["instances"]
        return instances

    def instance_pids(self) -> list[int]:
        return [int(i["pid"]) for i in self.instance_info()]

    def _process(self, name: str) -> ManagedProcess:
        found = [p for p in self.processes if p.name == name and p.process.poll() is None]
        if not found:
            raise StackError(f"no running {name} in this stack")
        return found[-1]

    def stop_devhost(self, sig: int = signal.SIGTERM) -> None:
        """Stop only the dev host (the emulator keeps its client connections); ``start_devhost`` brings it back.

        ``sig=signal.SIGKILL`` is a crash: in-flight webhooks and REST calls are cut off."""
        devhost = self._process("devhost")
        devhost.stop(sig=sig)
        self.processes.remove(devhost)

    def start_devhost(self) -> None:
        """Start the dev host again on the same port, with the same settings."""
        wait_until_closed(self.devhost_port, self.startup_timeout, "the dev host")
        self._start_devhost()

    def restart_devhost(self) -> None:
        self.stop_devhost()
        self.start_devhost()

    def stop_emulator(self, sig: int = signal.SIGTERM) -> None:
        """Stop only the emulator; ``start_emulator`` brings it back on the same port with the same keys.

        SIGTERM is graceful (every socket gets its ``disconnected`` webhook); SIGKILL is a crash (none do)."""
        if self.emulator is None or self.emulator.process.poll() is not None:
            raise StackError("no running emulator in this stack")
        if sig == signal.SIGTERM:
            self.emulator.stop()
        else:
            os.kill(self.emulator.pid, sig)
            self.emulator.process.wait(10)

    def start_emulator(self) -> None:
        """Start the emulator again on its previous port (the dev host's connection string names that port)."""
        if self.emulator is None:
            raise StackError("this stack has not started an emulator yet")
        port = self.emulator.port
        wait_until_closed(port, self.startup_timeout, "the emulator")
        self._start_emulator(port)

    def stop_azurite(self) -> None:
        """Stop only Azurite (to test storage outages); ``start_azurite`` brings it back on the same ports."""
        azurite = self._process("azurite")
        azurite.stop()
        self.processes.remove(azurite)

    def start_azurite(self) -> None:
        if self.azurite_ports is None:
            raise StackError("this stack runs without Azurite")
        azurite = start_azurite(self.azurite_ports, self.azurite_location, None, self.startup_timeout)
        self.processes.insert(0, azurite)

    def outputs(self) -> dict[str, list[str]]:
        result = {p.name: p.output for p in self.processes}
        if self.emulator is not None:
            result["emulator"] = self.emulator.output
        return result

    def stop(self) -> None:
        """Stop every process by its PID, dev host first (a front stops its own instances)."""
        for process in reversed(self.processes):
            process.stop()
            if process.name == "devhost":
                _reap_instances(process)
        if self.emulator is not None:
            self.emulator.stop()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _reap_instances(front: ManagedProcess) -> None:
    """Instances a front announced that still run after it stopped (it was killed): stop them by PID."""
    for entry in front.ready.get("instances", []):
        pid = int(entry["pid"])
        try:
            is_devhost = b"devhost" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if is_devhost and pid_alive(pid):
            kill_pid(pid)


def _banner(stack: Stack, app_dir: Path) -> str:
    from ._settings import read_route_prefix

    # The HTTP functions live under host.json's routePrefix ("api" by default; "" puts them at the root).
    prefix = read_route_prefix(app_dir)
    pages = f"{stack.devhost_url}/{prefix}/" if prefix else f"{stack.devhost_url}/"
    lines = [
        "",
        "sioless local stack is up.",
        f"  Chat sample:   {pages}chat   (open it in two browser windows)",
    ]
    if (app_dir / "web" / "whiteboard").is_dir():
        lines.append(f"  Whiteboard:    {pages}whiteboard")
    lines += [
        f"  Dev host:      {stack.devhost_url}   (webhook {stack.devhost_url}{WEBHOOK_PATH})",
        f"  Emulator:      {stack.emulator_url}   inspector {stack.inspector_url}",
    ]
    if stack.azurite_ports:
        blob, queue, table = stack.azurite_ports
        where = stack.azurite_location or "memory"
        lines.append(f"  Azurite:       blob {blob}, queue {queue}, table {table} (data in {where})")
    pids = [f"{p.name} {p.pid}" for p in stack.processes]
    if stack.emulator is not None:
        pids.insert(-1, f"emulator {stack.emulator.pid}")
    lines.append(f"  PIDs:          {', '.join(pids)}")
    if stack.has_front:
        instances = ", ".join(f"instance {pid}" for pid in stack.instance_pids())
        watching = "; restarted when a file of the app changes" if stack.watch else ""
        lines.append(f"  Instances:     {instances} (list: {stack.devhost_url}/admin/instances){watching}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devhost.stack", description="Azurite + emulator + dev host.")
    parser.add_argument("--app-dir", type=Path, default=Path.cwd())
    parser.add_argument("--devhost-port", type=int, default=7071)
    parser.add_argument("--emulator-port", type=int, default=8080)
    parser.add_argument("--azurite-ports", default="10000,10001,10002", help="blob,queue,table")
    parser.add_argument("--no-azurite", action="store_true", help="do not start Azurite")
    parser.add_argument("--function-timeout", type=float, default=None)
    parser.add_argument("--instances", type=int, default=1, help="dev host instances behind one front (default 1)")
    parser.add_argument(
        "--no-watch", action="store_true", help="do not restart the dev host when a file of the app changes"
    )
    args = parser.parse_args(argv)
    if args.instances < 1:
        print("devhost.stack: --instances needs a whole number >= 1", file=sys.stderr)
        return 2
    app_dir = args.app_dir.resolve()
    try:
        azurite_ports = None if args.no_azurite else tuple(int(p) for p in args.azurite_ports.split(","))
        if azurite_ports is not None and len(azurite_ports) != 3:
            raise ValueError
    except ValueError:
        print("devhost.stack: --azurite-ports needs three ports, e.g. 10000,10001,10002", file=sys.stderr)
        return 2
    stack = Stack(
        app_dir=app_dir,
        devhost_port=args.devhost_port,
        emulator_port=args.emulator_port,
        azurite_ports=azurite_ports,  # type: ignore[arg-type]
        azurite_location=app_dir / ".azurite",
        function_timeout=args.function_timeout,
        instances=args.instances,
        watch=not args.no_watch,
    )
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    # A shell that starts `make run &` in the background hands it SIGINT ignored; Ctrl-C or `kill -INT` on the
    # process group would then stop the children but not this loop, which reported them as crashed (exit 1).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    printed: dict[str, int] = {}

    def flush() -> None:
        for name, lines in stack.outputs().items():
            start = printed.get(name, 0)
            for line in lines[start:]:
                print(f"[{name}] {line}", flush=True)
            printed[name] = len(lines)

    try:
        stack.start()
        flush()
        print(_banner(stack, app_dir), flush=True)
        restarts = 0
        while True:
            time.sleep(0.2)
            flush()
            # After a restart on a change the app may handle other system events: update the hubs, as a deploy.
            seen = sum(line.startswith("Restarted:") for line in stack.outputs().get("devhost", []))
            if seen != restarts:
                restarts = seen
                print(f"devhost.stack: hub system events now {stack.sync_hub_settings()}", flush=True)
            dead = [p.name for p in stack.processes if p.process.poll() is not None]
            if stack.emulator is not None and stack.emulator.process.poll() is not None:
                dead.append("emulator")
            if dead:
                print(f"devhost.stack: {', '.join(dead)} exited; stopping the stack.", file=sys.stderr)
                return 1
    except StackError as exc:
        flush()
        print(f"devhost.stack: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping the stack...", flush=True)
        return 0
    finally:
        stack.stop()
        flush()


if __name__ == "__main__":
    sys.exit(main())

"""Several dev host instances behind one front (``python -m devhost --instances N``), and the dev loop (``--watch``).

Each instance is a whole ``python -m devhost`` process on its own ephemeral loopback port, with its own worker,
as each instance of a scaled-out Function App is a whole host. This process is the platform around them: it
starts them, restarts one that dies (as the platform replaces a failed instance), puts the front
(:mod:`devhost._front`) on the dev host port and, with ``--watch``, replaces all of them when a file of the app
changes, as ``func start`` restarts its host. Instances are stopped by their own PIDs; on Linux they also get
SIGKILL if this process dies first (``PR_SET_PDEATHSIG``), so none outlives it.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from ._eventloop import loop_factory
from ._front import INSTANCES_ROUTE, Backend, Front

READY_MARKER = "DEVHOST_READY"
START_TIMEOUT = 60.0
STOP_GRACE = 5.0
# What a change under the app folder restarts on, and what it never looks at (as func start's watcher).
WATCHED_NAMES = frozenset({"host.json", "local.settings.json"})
IGNORED_DIRS = frozenset(
    {
        ".venv",
        "venv",
        "node_modules",
        ".azurite",
        "test-artifacts",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        ".git",
    }
)


def watched(path: str | Path) -> bool:
    """Whether a change of ``path`` restarts the instances: ``*.py``, host.json, local.settings.json, outside
    virtual environments, node_modules, caches, Azurite's data and test artifacts."""
    path = Path(path)
    if any(part in IGNORED_DIRS for part in path.parts):
        return False
    return path.suffix == ".py" or path.name in WATCHED_NAMES


def _say(text: str) -> None:
    """Print a line of the dev host's output; a reader that went away (closed pipe) does not stop the front."""
    try:
        print(text, flush=True)
    except (BrokenPipeError, ValueError):
        pass


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the supervising process dies (Linux prctl PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


@dataclass(eq=False)
class Instance:
    slot: int
    generation: int
    process: asyncio.subprocess.Process
    port: int = 0
    inflight: int = 0
    served: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    retired: bool = False
    output: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid


class LoadFailed(Exception):
    """An instance exited before it was ready (the app cannot load, or the port...); carries its exit code."""

    def __init__(self, instance: Instance, code: int | None) -> None:
        super().__init__(f"instance {instance.slot} (PID {instance.pid}) exited with {code} before it was ready")
        self.instance, self.code = instance, code


class Supervisor:
    """Starts, restarts and replaces the instances; the front reads :meth:`live`."""

    def __init__(self, child_args: list[str], count: int, front_url: str) -> None:
        self.child_args = child_args
        self.count = count
        self.front_url = front_url
        self.generation = 0
        self.current: list[Instance] = []
        self.all: set[Instance] = set()
        self.stopping = False
        self.restarts = 0
        self._changed = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- the front's view ----------------------------------------------------------------------------
    def live(self) -> list[Backend]:
        return [i for i in self.current if i.ready.is_set() and i.process.returncode is None]

    async def wait_changed(self, timeout: float) -> None:
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "slot": i.slot,
                "pid": i.pid,
                "port": i.port,
                "state": "running" if i.ready.is_set() else "starting",
                "inflight": i.inflight,
                "served": i.served,
            }
            for i in self.current
            if i.process.returncode is None
        ]

    def _signal_change(self) -> None:
        self._changed.set()

    # -- instances -----------------------------------------------------------------------------------
    async def _spawn(self, slot: int, generation: int) -> Instance:
        """Start one instance and wait until it is ready; raise :class:`LoadFailed` if it exits first."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-u",
            "-m",
            "devhost",
            *self.child_args,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            preexec_fn=_die_with_parent,
            start_new_session=True,  # a terminal's Ctrl-C reaches this process, which stops them in order
            limit=1 << 20,
        )
        instance = Instance(slot, generation, process)
        self.all.add(instance)
        pump = asyncio.create_task(self._pump(instance))
        self._keep(pump)
        ready = asyncio.create_task(instance.ready.wait())
        exited = asyncio.create_task(process.wait())
        done, _ = await asyncio.wait({ready, exited}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if not exited.done():
                exited.cancel()
                await self._stop(instance, signal.SIGKILL)
            await asyncio.wait({pump}, timeout=2)
            raise LoadFailed(instance, process.returncode)
        exited.cancel()
        self._keep(asyncio.create_task(self._watch_exit(instance)))
        return instance

    async def _pump(self, instance: Instance) -> None:
        """Print the instance's lines, prefixed with it. Lines before its ready line are held in ``output``: the
        listing is printed once per generation, and the others only if the instance fails to start."""
        assert instance.process.stdout is not None
        child_url = None
        async for raw in instance.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not instance.ready.is_set():
                if line.startswith(READY_MARKER):
                    instance.port = int(json.loads(line[len(READY_MARKER) :])["port"])
                    child_url = f"http://127.0.0.1:{instance.port}"
                    instance.ready.set()
                    self._signal_change()
                else:
                    instance.output.append(line)
                continue
            if child_url:
                line = line.replace(child_url, self.front_url)
            _say(f"[instance {instance.slot} pid {instance.pid}] {line}")

    async def _watch_exit(self, instance: Instance) -> None:
        code = await instance.process.wait()
        self._signal_change()
        if self.stopping or instance.retired:
            return
        _say(f"Instance {instance.slot} (PID {instance.pid}) exited with {code}; starting a new one.")
        delay = 0.0
        while not self.stopping and instance.generation == self.generation:
            try:
                replacement = await self._spawn(instance.slot, instance.generation)
            except LoadFailed as exc:
                self._print_failure(exc)
                delay = min(30.0, max(0.5, delay * 2))
                await asyncio.sleep(delay)
                continue
            if instance.generation != self.generation or self.stopping:  # replaced meanwhile by a reload
                replacement.retired = True
                await self._stop(replacement)
                return
            self.current = [replacement if i is instance else i for i in self.current]
            self.restarts += 1
            _say(f"Instance {instance.slot} restarted: PID {replacement.pid}.")
            self._signal_change()
            return

    def _print_failure(self, exc: LoadFailed) -> None:
        for line in exc.instance.output[-30:]:
            _say(f"[instance {exc.instance.slot} pid {exc.instance.pid}] {line}")
        _say(f"devhost: {exc}.")

    async def start(self) -> None:
        """Start every instance (generation 0); on a failure stop the others and re-raise."""
        self.current = await self._start_generation(self.generation)

    async def _start_generation(self, generation: int) -> list[Instance]:
        tasks = [asyncio.create_task(self._spawn(slot, generation)) for slot in range(1, self.count + 1)]
        await asyncio.wait(tasks)
        failures = [t.exception() for t in tasks if t.exception() is not None]
        started = [t.result() for t in tasks if t.exception() is None]
        if failures:
            for instance in started:
                instance.retired = True
            await asyncio.gather(*(self._stop(i) for i in started))
            raise failures[0]  # type: ignore[misc]
        first = started[0]
        child_url = f"http://127.0.0.1:{first.port}"
        for held in first.output:
            _say(held.replace(child_url, self.front_url))
        return started

    async def reload(self, changes: Iterable[str]) -> None:
        """Replace every instance with new ones running the changed app; keep the old ones if the new ones fail."""
        async with self._reload_lock:
            names = sorted({os.path.basename(c) for c in changes})
            _say(f"Detected a change in {', '.join(names)}; restarting the {self.count} instance(s).")
            generation = self.generation + 1
            try:
                fresh = await self._start_generation(generation)
            except LoadFailed as exc:
                self._print_failure(exc)
                _say(
                    "devhost: the changed app cannot be loaded; the previous instances keep serving. "
                    "Fix it and save again."
                )
                return
            old, self.current, self.generation = self.current, fresh, generation
            self._signal_change()
            for instance in old:
                instance.retired = True
            await asyncio.gather(*(self._stop(i) for i in old))
            _say(f"Restarted: {self.pids_line()}.")

    async def _stop(self, instance: Instance, sig: int = signal.SIGTERM) -> None:
        """``sig`` by PID (SIGTERM lets in-flight requests finish), SIGKILL after a grace period."""
        if instance.process.returncode is None:
            try:
                instance.process.send_signal(sig)
                await asyncio.wait_for(instance.process.wait(), STOP_GRACE)
            except ProcessLookupError:
                pass
            except TimeoutError:
                instance.process.kill()
                await instance.process.wait()
        self.all.discard(instance)

    async def stop(self) -> None:
        self.stopping = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*(self._stop(i) for i in list(self.all)), return_exceptions=True)

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def pids_line(self) -> str:
        return ", ".join(f"{i.slot}: PID {i.pid}" for i in self.current)

    def ready_info(self, port: int) -> dict[str, Any]:
        return {"port": port, "instances": [{"pid": i.pid, "port": i.port} for i in self.current]}

    async def watch(self, app_dir: Path) -> None:
        """Restart the instances on every change under ``app_dir`` that :func:`watched` accepts.

        The top folder is watched alone and each of its subfolders recursively, skipping the ignored ones: a
        recursive watch of the top would put an inotify watch on every folder of node_modules and .venv."""
        from watchfiles import awatch  # only the dev loop needs it

        def accept(_change: object, path: str) -> bool:
            return watched(Path(path).relative_to(app_dir)) if Path(path).is_relative_to(app_dir) else False

        async def follow(paths: list[Path], recursive: bool) -> None:
            if not paths:
                return
            async for changes in awatch(*paths, watch_filter=accept, recursive=recursive, debounce=300):
                if self.stopping:
                    return
                await self.reload(path for _change, path in changes)

        folders = [p for p in app_dir.iterdir() if p.is_dir() and p.name not in IGNORED_DIRS and p.name[0] != "."]
        await asyncio.gather(follow([app_dir], recursive=False), follow(folders, recursive=True))


def child_args(args: Any) -> list[str]:
    """The ``python -m devhost`` options each instance gets (everything but the front's own)."""
    result = ["--app-dir", str(args.app_dir.resolve()), "--log-level", args.log_level]
    for name, value in args.setting:
        result += ["--setting", f"{name}={value}"]
    if args.function_timeout is not None:
        result += ["--function-timeout", str(args.function_timeout)]
    return result


def run(args: Any) -> int:
    """Serve the front on ``args.host:args.port`` over ``args.instances`` instances (``args.watch``: restart them
    on changes). Exit codes as ``python -m devhost``: 2 the app cannot be loaded, 3 the port is busy."""
    # As the single dev host listens (see __main__): TCP_NODELAY needs proto=IPPROTO_TCP; SO_REUSEADDR for TIME_WAIT.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        _say(
            f"Cannot listen on {args.host}:{args.port} ({exc.strerror or exc}). Is another dev host or `func start` "
            "running? Stop it or pass --port."
        )
        sock.close()
        return 3
    sock.listen(2048)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s", stream=sys.stdout)
    host, port = sock.getsockname()[:2]
    try:
        return asyncio.run(_run(args, sock, f"http://{host}:{port}"), loop_factory=loop_factory())
    except KeyboardInterrupt:
        return 0
    finally:
        sock.close()


async def _run(args: Any, sock: socket.socket, front_url: str) -> int:
    supervisor = Supervisor(child_args(args), args.instances, front_url)
    try:
        await supervisor.start()
    except LoadFailed as exc:
        supervisor._print_failure(exc)
        await supervisor.stop()
        return exc.code if exc.code and exc.code > 0 else 1
    except BaseException:
        await supervisor.stop()
        raise
    front = Front(supervisor, on_shutdown=supervisor.stop)
    config = uvicorn.Config(
        front, log_level="warning", lifespan="on", access_log=False, server_header=False, date_header=False
    )
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.02)
        mode = " (restarting them when the app changes)" if args.watch else ""
        _say(
            f"Instances: {args.instances} behind {front_url}{mode}, each request to a random one; "
            f"{supervisor.pids_line()}; GET {front_url}{INSTANCES_ROUTE} lists them."
        )
        _say(f"{READY_MARKER} " + json.dumps(supervisor.ready_info(port=sock.getsockname()[1])))
        if args.watch:
            await supervisor.watch(args.app_dir.resolve())

    task = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        task.cancel()
        await supervisor.stop()
    return 0

"""Shared by benchmarks/library_dispatch.py and benchmarks/worker_invocation.py: the app both time
(``benchmarks/dispatch_app``), the one trigger they send it, and what the worker passes for an output binding."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

APP_DIR = Path(__file__).resolve().parent / "dispatch_app"
HAND_WRITTEN = "handwritten_chat_message"  # the app's other function is the sioless handler

TRIGGER = json.dumps(
    {
        "namespace": "/",
        "socketId": "Zk9vYmFy",
        "payload": '4213["chat message","lobby","hello there"]',
        "eventName": "chat message",
        "parameters": ["lobby", "hello there"],
    }
)


class Out:
    """What the worker passes for a ``func.Out[str]`` parameter, minus its type checks."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None

    def set(self, value: Any) -> None:
        self.value = value

    def get(self) -> Any:
        return self.value


def load_functions() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(sioless, hand-written): the user functions of the benchmark app, as the worker would call them."""
    spec = importlib.util.spec_from_file_location("dispatch_app", APP_DIR / "function_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    logging.getLogger().setLevel(logging.ERROR)  # get_functions() warns about auth levels on non-HTTP apps
    functions = {f.get_function_name(): f.get_user_function() for f in module.app.get_functions()}
    hand_written = functions.pop(HAND_WRITTEN)
    (ours,) = functions.values()
    return ours, hand_written

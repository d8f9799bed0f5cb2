"""Per-event dispatch cost of a sioless handler next to a hand-written minimal generic-trigger function.

Both do the same work for one user event with an ack: parse the trigger JSON, emit one event to a room except
the sender (one sendToRooms action written to the output binding) and return the ack JSON. Measured in the same
run; prints microseconds per event and the ratio. Run: .venv/bin/python benchmarks/library_dispatch.py
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import azure.functions as func  # noqa: E402

from shared import Socket, SocketIOBlueprint  # noqa: E402

sio = SocketIOBlueprint(hub="bench")


@sio.on("chat message")
def chat_message(socket: Socket, room: str, text: str) -> dict[str, Any]:
    socket.to(room).emit("chat message", text)
    return {"ok": True}


def hand_written(sio: str, out: func.Out[str]) -> str:
    request = json.loads(sio)
    room, text = request["parameters"]
    out.set(
        json.dumps(
            {
                "actionName": "sendToRooms",
                "namespace": request["namespace"],
                "rooms": [room],
                "eventName": "chat message",
                "parameters": [text],
                "exceptRooms": [request["socketId"]],
            }
        )
    )
    return json.dumps({"ack": [{"ok": True}]})


class Out:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None

    def set(self, value: Any) -> None:
        self.value = value

    def get(self) -> Any:
        return self.value


TRIGGER = json.dumps(
    {
        "namespace": "/",
        "socketId": "Zk9vYmFy",
        "payload": '4213["chat message","lobby","hello there"]',
        "eventName": "chat message",
        "parameters": ["lobby", "hello there"],
    }
)


def per_event_us(fn: Any, number: int, repeat: int) -> float:
    out = Out()
    times = timeit.repeat(lambda: fn(TRIGGER, out), number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def main() -> None:
    logging.getLogger().setLevel(logging.ERROR)  # get_functions() warns about auth levels on non-HTTP apps
    app = func.FunctionApp()
    app.register_functions(sio)
    (function,) = app.get_functions()
    library = function.get_user_function()
    # Same observable result first, so the comparison is fair.
    out_a, out_b = Out(), Out()
    assert library(TRIGGER, out_a) == hand_written(TRIGGER, out_b), "results differ"
    assert json.loads(out_a.value) == json.loads(out_b.value), "actions differ"
    number, repeat = 20000, 7
    per_event_us(library, 2000, 1)  # warm up
    baseline = per_event_us(hand_written, number, repeat)
    ours = per_event_us(library, number, repeat)
    print(f"hand-written generic trigger : {baseline:7.2f} us/event")
    print(f"sioless SocketIOBlueprint    : {ours:7.2f} us/event")
    print(f"ratio (sioless / hand-written): {ours / baseline:.2f}x  (median of {repeat} x {number} events)")


if __name__ == "__main__":
    main()

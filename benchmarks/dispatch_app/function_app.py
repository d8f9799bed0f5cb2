"""The app of benchmarks/library_dispatch.py: one chat message event with an ack, written twice.

- ``bench__chat_message`` (hub ``bench``): a sioless handler. The library's wrapper parses the trigger JSON and
  checks it (``socketId``, ``namespace``, the ``parameters`` against the handler's signature), builds the
  ``Socket``, calls the handler, checks the emit (event name, JSON arguments), writes the one ``sendToRooms``
  action to the output binding and returns the ack JSON; any failure would become an error ack.
- ``handwritten_chat_message`` (hub ``handwritten``): the least a user writes against the generic trigger for the
  same result: ``json.loads`` the trigger, unpack the parameters, write the same action, return the same ack.
  No checks and no error handling.

Both produce the same return value and the same output value (the benchmark checks that first).
"""

import json
from typing import Any

import azure.functions as func
from azure.functions.decorators.core import DataType

from shared import Socket, SocketIOBlueprint

sio = SocketIOBlueprint(hub="bench")


@sio.on("chat message")
def chat_message(socket: Socket, room: str, text: str) -> dict[str, Any]:
    socket.to(room).emit("chat message", text)
    return {"ok": True}


app = func.FunctionApp()
app.register_functions(sio)


@app.function_name("handwritten_chat_message")
@app.generic_trigger(
    arg_name="sio",
    type="socketiotrigger",
    data_type=DataType.STRING,
    hub="handwritten",
    namespace="/",
    eventName="chat message",
)
@app.generic_output_binding(arg_name="out", type="socketio", data_type=DataType.STRING, hub="handwritten")
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

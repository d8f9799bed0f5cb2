"""The app of benchmarks/greeting.py: pairs of hubs alike but for the greeting in connect.

``plain``: the connect handler only checks the user. ``greet``: it also emits ``hello`` to the connecting socket
(docs/api.md "Greeting in connect"). Neither keeps sessions or presence, so every Table operation and webhook
the greeting costs shows up as a difference. ``statefulplain``/``statefulgreet``: the same with sessions (as the
compat facade's default), where the connect hook writes the socket's row anyway.
"""

from __future__ import annotations

import azure.functions as func

from shared import ConnectRefused, ConnectRequest, Socket, SocketIOBlueprint

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
blueprints = []
for prefix, sessions in (("", False), ("stateful", True)):
    plain = SocketIOBlueprint(hub=f"{prefix}plain", sessions=sessions)
    greet = SocketIOBlueprint(hub=f"{prefix}greet", sessions=sessions)

    @plain.on_connect()
    def plain_connect(socket: Socket, request: ConnectRequest) -> None:
        if not request.user_id:
            raise ConnectRefused("sign in first")

    @greet.on_connect()
    def greet_connect(socket: Socket, request: ConnectRequest) -> None:
        if not request.user_id:
            raise ConnectRefused("sign in first")
        socket.emit("hello", request.user_id)

    blueprints += [plain, greet]


def _negotiate(hub: str) -> None:
    @app.function_name(f"{hub}_negotiate")
    @app.route(route=f"{hub}/negotiate")
    @app.generic_input_binding(arg_name="negotiation", type="socketionegotiation", hub=hub, userId="{query.userId}")
    def negotiate(req: func.HttpRequest, negotiation: str) -> func.HttpResponse:
        return func.HttpResponse(negotiation, mimetype="application/json")


for _bp in blueprints:
    app.register_functions(_bp)
    _negotiate(_bp.hub)

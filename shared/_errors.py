"""The library's exceptions.

::

    SiolessError
     ├── UnsupportedError    (also NotImplementedError): serverless mode cannot do this
     ├── ConnectRefused      raise in a connect handler: refuse the socket with a status
     └── AckError            raise in an event handler: answer the client with an error ack
"""

from __future__ import annotations

from typing import Any


class SiolessError(Exception):
    """Base class of every error raised by ``shared``."""


class UnsupportedError(SiolessError, NotImplementedError):
    """A Socket.IO feature that Web PubSub for Socket.IO in serverless mode cannot provide.

    Raised at decoration time (catch-all events, wildcard namespaces) or at call time (binary arguments,
    server-to-client acks); the message says why and what to do instead.
    """


def no_server_acks(what: str) -> UnsupportedError:
    """The one error for every server-to-client acknowledgement (``callback=``, ``call()``, ``emitWithAck``)."""
    return UnsupportedError(
        f"Serverless mode has no server-to-client acknowledgements, so {what}. "
        "Have the client emit a reply event instead."
    )


class ConnectRefused(SiolessError):
    """Raise from a connect handler to refuse the socket: the function answers ``{"statusCode": status}``.

    The extension replies to the service with that status and an empty body, so ``message`` only reaches the logs.
    """

    def __init__(self, message: str = "connection refused", status: int = 401) -> None:
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ValueError(f"ConnectRefused status must be an int from 400 to 599, got {status!r}.")
        super().__init__(message)
        self.message = message
        self.status = status


class AckError(SiolessError):
    """Raise from an event handler to answer with ``{"ack": [{"error": message, ...data}]}``.

    Use it for expected failures the client should see (``raise AckError("room is full")``); unlike an
    unexpected exception it is not logged with a traceback and the actions collected so far are still sent.
    """

    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def payload(self) -> dict[str, Any]:
        return {"error": self.message, **self.data}

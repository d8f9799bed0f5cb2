"""HTTP functions that serve the browser clients in ``web/``.

- ``GET /api/chat`` — the chat page (``web/chat/index.html``).
- ``GET /api/pages/{*path}`` — any file under ``web/`` (scripts, styles).
- ``GET /api/pages/vendor/socket.io.min.js`` — the stock ``socket.io-client`` browser bundle. Deployed apps
  serve the copy in ``web/vendor/`` (``node_modules`` is never deployed); locally, when that copy is absent,
  the bundle comes straight from ``node_modules/socket.io-client/dist/``.

Only the standard library and azure.functions are imported, so cold start stays cheap.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import azure.functions as func

bp = func.Blueprint()

_ROOT = Path(__file__).resolve().parent.parent
_WEB = _ROOT / "web"
_VENDOR_BUNDLE = "vendor/socket.io.min.js"
_NODE_BUNDLE = _ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"


def _not_found(path: str) -> func.HttpResponse:
    return func.HttpResponse(f"Not found: {path}", status_code=404, mimetype="text/plain")


def _resolve(path: str) -> Path | None:
    """The file under ``web/`` for ``path``, or None when it is missing or escapes ``web/``."""
    candidate = (_WEB / path).resolve()
    if _WEB.resolve() not in candidate.parents or not candidate.is_file():
        if path == _VENDOR_BUNDLE and _NODE_BUNDLE.is_file():
            return _NODE_BUNDLE
        return None
    return candidate


def _serve(path: str) -> func.HttpResponse:
    found = _resolve(path)
    if found is None:
        return _not_found(path)
    mimetype = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return func.HttpResponse(
        found.read_bytes(),
        status_code=200,
        mimetype=mimetype,
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@bp.function_name("pages_chat")
@bp.route(route="chat", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def chat_page(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("chat/index.html")


@bp.function_name("pages_static")
@bp.route(route="pages/{*path}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def static_file(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(req.route_params.get("path", ""))

"""HTTP functions that serve the browser clients in ``web/`` (filled in with the dev host issue)."""

from __future__ import annotations

import azure.functions as func

bp = func.Blueprint()

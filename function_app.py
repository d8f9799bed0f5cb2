"""The Function App: one ``FunctionApp`` registering every sample blueprint (indexed by the worker)."""

from __future__ import annotations

import azure.functions as func

from functions import chat, pages, whiteboard

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(chat.bp)
app.register_functions(pages.bp)
app.register_functions(whiteboard.bp)

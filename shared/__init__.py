"""sioless: Socket.IO handlers as Python Azure Functions (placeholder; the public API lands with issue 2)."""

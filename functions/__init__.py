"""The sample apps, each a blueprint registered by ``function_app.py``."""

"""Baton's own web chat (SPEC 3.5): the page, its embed script, the visitor API and event stream, and the
way back to the visitor. `setup(app, services)` mounts it all (bot/web/app.py, unless `[webchat] enabled = false`)."""

from bot.webchat.routes import setup

__all__ = ["setup"]

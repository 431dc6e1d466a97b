"""Slack edge: Events API / interactivity / slash command transport, listeners, modals and the thread poster.

Only this package imports slack_bolt and slack_sdk.
"""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application, services, poster=None) -> None:
    from bot.slack.app import setup as _setup

    _setup(app, services, poster=poster)


__all__ = ["setup"]

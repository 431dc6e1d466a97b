"""The email channel (SPEC 3.7): raw messages in from SendGrid, Mailgun or any MTA (`inbound`), read
into a frozen `InboundEmail` (`message`, `html_text`), and replies composed (`reply`) and sent by SMTP
(`smtp`)."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import Services


def setup(app: web.Application, services: Services) -> None:
    return None

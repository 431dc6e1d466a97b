"""The email channel (SPEC 3.7): raw messages in from SendGrid, Mailgun or any MTA (`inbound`, `routes`:
`POST /inbound/email` and `/inbound/email/mime`), read into a frozen `InboundEmail` (`message`,
`html_text`), and replies composed (`reply`) and sent by SMTP (`smtp`, `channel`)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core.services import Services

log = logging.getLogger(__name__)


def setup(app: web.Application, services: Services) -> None:
    """The inbound routes always (they answer 503 until a credential is set); replies when SMTP is set."""
    from bot.email import routes  # noqa: PLC0415 (the mail libraries load only here)
    from bot.email.channel import EmailChannel  # noqa: PLC0415
    from bot.email.smtp import SmtpSender  # noqa: PLC0415

    settings = services.settings
    routes.setup(app, services)
    if not settings.email_inbound_enabled:
        log.info("Email is off: set BATON_WEBHOOK_TOKEN (or MAILGUN_SIGNING_KEY) to take mail at /inbound/email")
        return
    sender = SmtpSender.from_settings(settings) if settings.email_outbound_enabled else None
    if sender is None:
        log.info("Email is on for incoming mail; replies are off: set BATON_SMTP_URL and BATON_EMAIL_FROM")
        return
    services.customer_channels.append(EmailChannel(sender, email_from=settings.email_from, clock=services.clock,
                                                   file_sources=services.file_sources, settings=settings))
    log.info("Email is on: mail in at /inbound/email, replies by SMTP to %s", sender.url.hostname)

"""The SMS channel (SPEC 3.6, Twilio): the inbound webhook (`webhook`: signature, form, keywords; `routes`:
`POST /inbound/sms`) and the way back (`channel`: replies for the outbox, `sender`: Messages API, `split`:
long replies in parts, `media`: MMS files)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core.services import Services

log = logging.getLogger(__name__)


def setup(app: web.Application, services: Services) -> None:
    """`POST /inbound/sms` always (it answers 503 until Twilio is configured); replies when it is."""
    from bot.sms import routes  # noqa: PLC0415 (twilio is imported only where the channel is set up)
    from bot.sms.channel import SmsChannel  # noqa: PLC0415
    from bot.sms.sender import TwilioSender  # noqa: PLC0415

    routes.setup(app, services)
    sender = TwilioSender.from_settings(services.settings)
    if sender is None:
        log.info("SMS is off: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and BATON_PUBLIC_URL to turn it on")
        return
    services.customer_channels.append(SmsChannel(sender))
    log.info("SMS is on: Twilio's webhook at /inbound/sms, replies through %s", services.settings.twilio_api_url)

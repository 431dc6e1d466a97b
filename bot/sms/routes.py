"""`POST /inbound/sms`: Twilio's messaging webhook into the one intake path (SPEC 3.6).

Translation only: the signature (against `BATON_PUBLIC_URL`, never the URL a proxy handed on), the form as
an `InboundSms`, then a `Handoff` of channel `sms` for the core — whose `conversation_id` names the customer's
number and the Baton number they wrote to, so each pair has one open conversation. STOP and START change
what Baton may send; every text, keywords included, reaches the agents' thread (only a STOP never opens a
conversation: the customer asked for silence, and no reply could reach them).
"""

from __future__ import annotations

import logging

import aiohttp

from aiohttp import web
from multidict import MultiDict

from bot.core import channels
from bot.core.services import Services
from bot.delivery.poster import GiveUp, RetryLater
from bot.domain import CustomerFile, CustomerInput, Handoff, TranscriptLine
from bot.errors import ApiError
from bot.sms.keywords import Keyword
from bot.sms.media import fetch_media
from bot.sms.webhook import InboundSms, parse_inbound, signed_url, verify_signature
from bot.web.http import read_body

log = logging.getLogger(__name__)

SOURCE = "baton:sms"
CHANNEL = "sms"
SEPARATOR = "|"  # never in a phone number, a short code or a "whatsapp:+…" address
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def thread_id(sms: InboundSms) -> str:
    """The conversation id on the SMS source: the Baton number, then the customer's number as Twilio gave it."""
    return f"{sms.to or ''}{SEPARATOR}{sms.from_number}"


def numbers_of(external_id: str) -> tuple[str | None, str]:
    """(Baton number, customer number) back from `thread_id`."""
    to, _, customer = external_id.partition(SEPARATOR)
    return to or None, customer


def handoff_of(sms: InboundSms, *, queue: str | None, text: str | None = None) -> Handoff:
    return Handoff(
        source=SOURCE,
        conversation_id=thread_id(sms),
        channel=CHANNEL,
        queue=queue,
        customer=CustomerInput(phone=sms.phone, channel_ids=((CHANNEL, sms.from_number),)),
        transcript=(TranscriptLine("customer", sms.body if text is None else text),),
    )


async def media_files(sms: InboundSms, settings) -> tuple[list[CustomerFile], list[str]]:
    """The MMS's files, fetched from Twilio with its credentials (at most 10 MB each), and why any could not be."""
    files, missing = [], []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for media in sms.media:
            try:
                found = await fetch_media(session, media.url, account_sid=settings.twilio_account_sid or "",
                                          auth_token=settings.twilio_auth_token or "", api_url=settings.twilio_api_url)
            except (GiveUp, RetryLater) as failure:
                missing.append(failure.reason)
                continue
            files.append(CustomerFile(found.name, found.content_type, found.data))
    return files, missing


def _twiml() -> web.Response:
    return web.Response(text=TWIML_EMPTY, content_type="text/xml")


def setup(app: web.Application, services: Services) -> None:
    settings = services.settings

    async def inbound_sms(request: web.Request) -> web.Response:
        body = await read_body(request, settings.max_body_bytes)
        form = MultiDict(await request.post()) if body else MultiDict()
        if not settings.public_url:
            raise ApiError(503, "not_configured", "Set BATON_PUBLIC_URL (the URL Twilio calls) to accept Twilio's webhook.")
        verify_signature(request.headers, signed_url(settings.public_url, request.path_qs), form,
                         auth_token=settings.twilio_auth_token)
        sms = parse_inbound(form)
        external_id = thread_id(sms)
        if sms.keyword in (Keyword.STOP, Keyword.START):
            await channels.set_opted_out(services, SOURCE, external_id, sms.keyword == Keyword.STOP)
        if sms.keyword == Keyword.STOP and await channels.open_conversation(SOURCE, external_id) is None:
            log.info("SMS opt-out recorded (no open conversation)")
            return _twiml()
        if not sms.body.strip() and not sms.media:
            return _twiml()  # nothing to show anyone
        files, missing = await media_files(sms, settings) if sms.media else ([], [])
        text = sms.body
        if missing:  # the agents learn a picture was sent even when it could not be fetched
            text = (text + "\n" if text else "") + "".join(f"(a file could not be fetched: {m})" for m in missing)
        written = await channels.customer_wrote(services, handoff_of(sms, queue=request.query.get("queue") or None,
                                                                     text=text or "(a picture)"), files)
        log.info("SMS %s conversation c%s", "opened" if written.created else "joined", written.conversation_id)
        return _twiml()

    app.router.add_post("/inbound/sms", inbound_sms)

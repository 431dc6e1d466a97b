"""`POST /inbound/email` (and `/inbound/email/mime`, the URL Mailgun needs): a raw message into the one
intake path (SPEC 3.7).

Translation only: who may post (`inbound.read_inbound`), the message as an `InboundEmail`, then a `Handoff`
of channel `email` whose `conversation_id` is the message's own Message-ID, with the ids it answers
(`In-Reply-To` / `References`): the core's intake puts it in the thread of the conversation the nearest known
one names (no query of the mail's own: one per intake batch). Its attachments become files in the thread (`files`), as MMS
media do. A robot's mail (auto-replies, bounces, lists) is answered 200
and dropped: it never opens a conversation and never gets a reply. A message posted twice (a provider's
retry) is stored once.
"""

from __future__ import annotations

import logging
import uuid

from aiohttp import web

from bot.core import channels
from bot.core.services import Services
from bot.domain import BotContext, CustomerInput, Handoff, TranscriptLine
from bot.email.inbound import read_inbound
from bot.email.files import files_of
from bot.email.message import InboundEmail
from bot.email.parsing import parse_mail, shutdown
from bot.errors import ApiError

log = logging.getLogger(__name__)

SOURCE = "baton:email"
CHANNEL = "email"
MAX_EMAIL_BYTES = 30 * 1024 * 1024  # a message with 20 MB of attachments, base64-encoded, in a form
_CHUNK = 64 * 1024


async def _read(request: web.Request, limit: int) -> bytes:
    """The body, counted while reading (mail is larger than the JSON cap of the other routes)."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "body_too_large", f"The message is larger than {limit // (1024 * 1024)} MB.")
    data = bytearray()
    async for chunk in request.content.iter_chunked(_CHUNK):
        data.extend(chunk)
        if len(data) > limit:
            raise ApiError(413, "body_too_large", f"The message is larger than {limit // (1024 * 1024)} MB.")
    return bytes(data)


def handoff_of(mail: InboundEmail, thread: str, *, queue: str | None, left_out: list[str] | tuple = ()) -> Handoff:
    text = mail.new_text or mail.subject or "(no text)"
    if left_out:  # the agents learn a file was sent even when it is not passed on
        text += "\n" + "".join(f"(a file was not passed on: {note})" for note in left_out)
    return Handoff(
        source=SOURCE,
        conversation_id=thread,
        channel=CHANNEL,
        queue=queue,
        customer=CustomerInput(name=mail.from_name, email=mail.from_address),
        bot=BotContext(last_topic=mail.subject) if mail.subject else None,  # the subject is the topic
        transcript=(TranscriptLine("customer", text, sender_name=mail.from_name),),
    )


def setup(app: web.Application, services: Services) -> None:
    settings = services.settings

    async def inbound_email(request: web.Request) -> web.Response:
        body = await _read(request, MAX_EMAIL_BYTES)
        raw = read_inbound(request.headers, body, webhook_secret=settings.webhook_secret,
                           webhook_token=settings.webhook_token, mailgun_signing_key=settings.mailgun_signing_key,
                           now=services.clock().timestamp())
        mail = await parse_mail(raw.raw)
        if mail.automated:
            log.info("inbound email from a robot ignored (%s)", mail.automated)
            return web.json_response({"status": "ignored", "reason": mail.automated})
        own_id = mail.message_id or f"<{uuid.uuid4().hex}@baton.invalid>"
        received = channels.ReceivedMail(own_id, subject=mail.subject, references=mail.references, reply_to=mail.reply_to,
                                         reply_name=mail.from_name, full_text=mail.text,
                                         answers=mail.thread_ids)
        files, left_out = files_of(mail.attachments)
        written = await channels.customer_wrote(
            services, handoff_of(mail, own_id, queue=request.query.get("queue") or None, left_out=left_out),
            files, mail=received)
        if written.duplicate:  # a provider's retry, or the same mail posted twice at once: one copy was stored
            return web.json_response({"status": "duplicate"})
        log.info("email (%s) %s conversation c%s", raw.provider, "opened" if written.created else "joined",
                 written.conversation_id)
        return web.json_response({"conversation": f"c{written.conversation_id}",
                                  "status": "queued" if written.created else "appended"},
                                 status=202 if written.created else 200)

    async def stop_parsing(_app: web.Application) -> None:
        await shutdown()

    app.on_cleanup.append(stop_parsing)
    app.router.add_post("/inbound/email", inbound_email)
    app.router.add_post("/inbound/email/mime", inbound_email)  # Mailgun posts the raw message only to "…mime"

"""What the customer channels Baton hosts itself (SMS, email) ask of the core: a customer wrote — a new
conversation or a later message of the open one —, a number opted out or back in, the Message-IDs of mail.

The edges only translate (a Twilio form, a raw mail) into a `Handoff` whose `source` + `conversation_id`
name the customer's thread on that channel; whether it opens a conversation is decided here, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from bot.core import actions
from bot.core.services import Services
from bot.domain import CustomerFile, Handoff, parse_public_id
from storage import channels, conversations
from storage.channels import MailRef
from storage.db import unit_of_work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    conversation_id: int
    created: bool  # a new conversation (and thread) was opened
    message_id: int | None = None  # the stored customer message, for a later message
    duplicate: bool = False  # a copy of this mail posted at the same moment was stored instead; nothing was here


@dataclass(frozen=True)
class ReceivedMail:
    """A received mail's Message-ID and what a reply to it needs, kept with the text it brought."""

    mail_id: str
    subject: str | None = None
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    reply_name: str | None = None
    full_text: str | None = None
    # The ids it answers (In-Reply-To, then References newest first): the intake batch looks its thread up by them.
    answers: tuple[str, ...] = ()

    def row(self, source: str, message_id: int | None = None) -> dict:
        return {"mail_id": self.mail_id[:998], "outbound": False, "message_id": message_id, "subject": self.subject,
                "references": list(self.references), "reply_to": self.reply_to, "reply_name": self.reply_name,
                "full_text": self.full_text, "received_key": channels.received_key(source, self.mail_id)}


async def customer_wrote(services: Services, handoff: Handoff, files: Sequence[CustomerFile] = (), *,
                         mail: ReceivedMail | None = None) -> Written:
    """The customer's text (the handoff's transcript, one line) joins their open conversation on this channel,
    or opens one: the first text after a wrap-up opens a new one (SPEC 3.1 returning customers). `files` (MMS
    media, mail attachments) go into the thread as real files, with a later message or right after the first
    one. `mail` (email) and `files` are stored in the transaction that stores the text: a provider's retry
    after a crash finds the mail and never adds the text twice, and nothing of what it brought is lost.

    One group commit decides: a new conversation is stored with the first contacts that arrive with it, and
    an open one is named back without a query of its own (`join_open`). A mail's thread is found in the same
    batch (the conversation id on the email source of the nearest mail it answers, else the handoff's own), and
    a mail whose Message-ID was received before stores nothing (`duplicate`)."""
    line = handoff.transcript[-1] if handoff.transcript else None
    result = await services.intake.accept(handoff, now=services.clock(), join_open=True,
                                          mail=mail.row(handoff.source) if mail is not None else None, files=files,
                                          answers=mail.answers if mail is not None else None)
    conversation_id = parse_public_id(result.conversation_public_id)
    if result.duplicate:  # a provider posting a mail again
        return Written(conversation_id, False, duplicate=True)
    if result.created:
        services.wake()
        return Written(conversation_id, True)
    if line is None:
        return Written(conversation_id, False)
    try:
        async with unit_of_work():
            message_id, _ = await actions.store_customer_message(
                services, conversation_id, line.text, sender_name=line.sender_name,
                attachments=[{"name": a.name, "url": a.url, "content_type": a.content_type}
                             for a in line.attachments] or None,
                files=files,
            )
            if mail is not None:  # last: a copy of the mail stored first rolls all of this back
                await channels.remember_mail(conversation_id, now=services.clock(),
                                             **mail.row(handoff.source, message_id))
    except channels.MailReceivedTwice:
        return Written(conversation_id, False, duplicate=True)
    services.wake()
    return Written(conversation_id, False, message_id)


async def open_conversation(source: str, external_id: str) -> int | None:
    return await conversations.open_conversation_of(source, external_id)


# --------------------------------------------------------------------------- opt-out


async def set_opted_out(services: Services, source: str, external_id: str, opted_out: bool) -> int | None:
    """STOP (True) or START (False) from a customer number to a Baton number; the card says so."""
    conversation_id = await channels.set_opted_out(source, external_id, opted_out, targets=services.targets,
                                                   now=services.clock())
    services.wake()
    return conversation_id


async def is_opted_out(source: str, external_id: str) -> bool:
    return await channels.is_opted_out(source, external_id)


# --------------------------------------------------------------------------- email threads


async def remember_mail(conversation_id: int, mail_id: str, *, outbound: bool, now: datetime, message_id: int | None = None,
                        subject: str | None = None, references: Sequence[str] = (), reply_to: str | None = None,
                        reply_name: str | None = None, full_text: str | None = None) -> None:
    await channels.remember_mail(conversation_id, mail_id, outbound=outbound, now=now, message_id=message_id,
                                 subject=subject, references=references, reply_to=reply_to, reply_name=reply_name,
                                 full_text=full_text)



async def latest_received_mail(conversation_id: int) -> MailRef | None:
    return await channels.latest_received(conversation_id)


async def sent_mail_id(message_id: int) -> str | None:
    return await channels.sent_mail_id(message_id)


async def parts_sent(message_id: int) -> int:
    return await channels.parts_sent(message_id)


async def record_parts_sent(message_id: int, count: int) -> None:
    await channels.record_parts_sent(message_id, count)

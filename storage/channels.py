"""What the SMS and email channels remember: numbers that opted out, the Message-IDs of a conversation's
mail, and how far a reply to the customer got."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.domain import ConversationStatus
from storage.changes import card_changed
from storage.models import ChannelOptOut, Conversation, EmailId, Message, RelayProgress

# --------------------------------------------------------------------------- opt-out (SMS STOP / START)


async def set_opted_out(source: str, external_id: str, opted_out: bool, *, targets: Sequence[str], now: datetime) -> int | None:
    """Record STOP (or START) for a customer number + Baton number; the open conversation's card changes.
    Returns that conversation's id, if one is open."""
    async with in_transaction():
        if opted_out:
            try:
                async with in_transaction():
                    await ChannelOptOut.create(source=source, external_id=external_id, opted_out_at=now)
            except IntegrityError:
                pass  # already opted out: STOP twice is STOP
        else:
            await ChannelOptOut.filter(source=source, external_id=external_id).delete()
        row = (
            await Conversation.filter(source=source, external_id=external_id,
                                      status__in=[ConversationStatus.QUEUED.value, ConversationStatus.CLAIMED.value])
            .order_by("-id").first().values("id")
        )
        if row is not None:
            await card_changed(row["id"], targets, now)
    return row["id"] if row else None


async def is_opted_out(source: str, external_id: str) -> bool:
    return await ChannelOptOut.filter(source=source, external_id=external_id).exists()


# --------------------------------------------------------------------------- email Message-IDs


@dataclass(frozen=True)
class MailRef:
    """A mail of a conversation, as a reply to it needs it."""

    conversation_id: int
    mail_id: str
    subject: str | None
    references: tuple[str, ...]
    reply_to: str | None
    reply_name: str | None


async def known_mail_ids(mail_ids: Sequence[str]) -> list[tuple[str, bool, str, int]]:
    """(mail id, outbound, its conversation's thread id, its conversation) for every known id of `mail_ids`,
    newest conversation first: one indexed query for both the duplicate check and the thread lookup of a whole
    intake batch (written out: building it through the ORM cost more than running it)."""
    wanted = list(dict.fromkeys(mail_ids))
    if not wanted:
        return []
    conn = connections.get("default")
    marks = ",".join("?" * len(wanted)) if conn.capabilities.dialect == "sqlite" else \
        ",".join(f"${n}" for n in range(1, len(wanted) + 1))
    rows = await conn.execute_query_dict(
        'SELECT e."mail_id", e."outbound", c."external_id", e."conversation_id" FROM "email_id" e JOIN "conversation" c '
        f'ON c."id" = e."conversation_id" WHERE e."mail_id" IN ({marks}) ORDER BY e."conversation_id" DESC', wanted)
    return [(row["mail_id"], bool(row["outbound"]), row["external_id"], row["conversation_id"]) for row in rows]


async def mail_id_known(conversation_id: int, mail_id: str) -> bool:
    return await EmailId.filter(conversation_id=conversation_id, mail_id=mail_id, outbound=False).exists()


class MailReceivedTwice(Exception):
    """A received mail whose Message-ID this source holds already: a copy posted at the same moment was stored
    first. Raised inside the caller's transaction, which then rolls back whole."""


def received_key(source: str, mail_id: str) -> str:
    """The unique key of a received mail (`EmailId.received_key`): its source and Message-ID, hashed to a
    fixed length (a Message-ID may be 998 characters of UTF-8, past what a PostgreSQL index entry holds).
    Migration 0019 computes the same."""
    return hashlib.sha256(f"{len(source)}:{source}{mail_id[:998]}".encode("utf-8", "surrogatepass")).hexdigest()


async def remember_mail(conversation_id: int, mail_id: str, *, outbound: bool, now: datetime, message_id: int | None = None,
                        subject: str | None = None, references: Sequence[str] = (), reply_to: str | None = None,
                        reply_name: str | None = None, full_text: str | None = None,
                        received_key: str | None = None) -> None:
    """Keep a mail's Message-ID (inside the caller's transaction, when there is one). A received mail whose
    `received_key` is stored already raises MailReceivedTwice."""
    try:
        async with in_transaction():  # a savepoint inside the caller's transaction: the check below can still read
            await EmailId.create(conversation_id=conversation_id, message_id=message_id, mail_id=mail_id[:998],
                                 outbound=outbound, subject=subject, references=list(references), reply_to=reply_to,
                                 reply_name=reply_name, full_text=full_text, received_key=received_key, created_at=now)
    except IntegrityError:
        if received_key is not None and await EmailId.filter(received_key=received_key).exists():
            raise MailReceivedTwice(mail_id) from None
        raise


async def mail_received(mail_id: str) -> bool:
    """Whether a mail with this Message-ID was received already (a provider posting it again)."""
    return await EmailId.filter(mail_id=mail_id, outbound=False).exists()


async def thread_of(conversation_id: int) -> str | None:
    row = await Conversation.filter(id=conversation_id).first().values("external_id")
    return row["external_id"] if row else None


async def latest_received(conversation_id: int) -> MailRef | None:
    """The customer's newest mail in the conversation: what a reply answers."""
    row = await EmailId.filter(conversation_id=conversation_id, outbound=False).order_by("-id").first()
    if row is None:
        return None
    return MailRef(conversation_id, row.mail_id, row.subject, tuple(row.references or ()), row.reply_to, row.reply_name)


async def sent_mail_id(message_id: int) -> str | None:
    """The Message-ID a reply was given when it was first sent (a retry sends it with the same id)."""
    row = await EmailId.filter(message_id=message_id, outbound=True).first().values("mail_id")
    return row["mail_id"] if row else None


# --------------------------------------------------------------------------- reply progress (SMS parts)


async def parts_sent(message_id: int) -> int:
    row = await RelayProgress.filter(message_id=message_id).first().values("parts_sent")
    return row["parts_sent"] if row else 0


async def record_parts_sent(message_id: int, count: int) -> None:
    updated = await RelayProgress.filter(message_id=message_id).update(parts_sent=count)
    if not updated:
        await RelayProgress.create(message_id=message_id, parts_sent=count)


# --------------------------------------------------------------------------- refusals


async def refused(conversation_id: int, message_id: int, note: str, *, targets: Sequence[str], now: datetime) -> None:
    """A reply (or status) the customer's channel refused for good: marked done, and a note for the thread,
    together, so a retry can neither send it again nor post the note twice."""
    async with in_transaction():
        done = await Message.filter(id=message_id, relayed_at__isnull=True).update(relayed_at=now)
        if done and targets:
            await Message.create(conversation_id=conversation_id, kind="text", sender="system", sender_name="Baton",
                                 text=note, attachments=[], internal=True, at=now)
            await card_changed(conversation_id, targets, now)

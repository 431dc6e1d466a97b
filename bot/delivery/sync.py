"""Bring one conversation's thread on one platform up to date: root card, redactions, replies, card edits.

The sync is re-entrant: it reads what was already posted (storage.posts) and only does what is
missing, so a crash or a retry after a 429 continues where it stopped instead of posting twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Awaitable, Callable

from bot.core.roles import channel_view
from bot.core.routing import alert_for
from bot.core.summary import conversation_facts, summary_for_conversation
from bot.delivery.poster import OutgoingMessage, ThreadPoster, ThreadRef
from bot.domain import CARDLESS_KINDS, ConversationRecord, CustomerSummary
from bot.settings import Settings
from storage import posts
from storage.summary import load_conversation


CUSTOMER_LABEL = "Customer"  # a customer whose name Baton does not know (or may no longer show)


def _labeler(record: ConversationRecord, summary: CustomerSummary | None) -> Callable[[posts.StoredMessage], str]:
    customer_name = (
        (summary.profile.display_name if summary and summary.profile else None)
        or record.customer_input.name
        or CUSTOMER_LABEL
    )
    bot_name = (record.bot.name if record.bot else None) or "Virtual agent"

    def label(message: posts.StoredMessage) -> str:
        if message.sender == "customer":
            return message.sender_name or customer_name
        if message.sender == "bot":
            return message.sender_name or bot_name
        if message.sender == "agent":
            return message.sender_name or "Agent"
        return "Baton"

    return label


def _outgoing(stored: posts.StoredMessage, label: Callable[[posts.StoredMessage], str], alert=None) -> OutgoingMessage:
    return OutgoingMessage(
        id=stored.id,
        sender=stored.sender,
        sender_label=label(stored),
        text=stored.text,
        attachments=tuple(stored.attachments),
        internal=stored.internal,
        at=stored.at,
        alert=alert,
    )


async def sync_conversation(
    poster: ThreadPoster,
    conversation_id: int,
    *,
    settings: Settings,
    now: datetime,
    keep_alive: Callable[[], Awaitable[None]],
) -> None:
    record = await load_conversation(conversation_id)
    if record is None:
        return
    shows_card = record.kind not in CARDLESS_KINDS

    async def summary() -> CustomerSummary | None:
        if not shows_card:
            return None
        # The record loaded above is passed on: one read of the conversation per pass.
        return await summary_for_conversation(conversation_id, now=now, conversation=record, **channel_view(settings))

    root = await posts.get_root(poster.name, conversation_id)
    current_summary = None
    if root is None:
        current_summary = await summary()
        thread = await poster.open_thread(conversation_facts(record), current_summary)
        root = await posts.record_root(
            poster.name,
            conversation_id,
            channel=thread.channel,
            ref=thread.root_ref,
            thread_ref=thread.thread_ref,
            revision=record.revision,
            payload=thread.payload,
            now=now,
        )
    thread = ThreadRef(channel=root.channel or "", root_ref=root.ref or "", thread_ref=root.thread_ref or "")

    label = _labeler(record, current_summary)
    last_id = root.last_message_id
    while True:
        batch = await posts.messages_after(conversation_id, last_id, exclude_from=poster.name)
        if not batch:
            break
        for stored in batch:
            # Who a timer's line reaches is decided here, once, from the queue's [routing] settings.
            alert = alert_for(poster.name, stored.kind, record.queue, settings)
            ref = await poster.post_reply(thread, _outgoing(stored, label, alert))
            # Customer messages and interaction logs (which quote them) keep their platform id, so that
            # anonymizing can reach them later.
            if (stored.sender == "customer" or stored.kind == "log") and ref:
                await posts.advance(root, stored.id, now=now, posted_ref=ref, saw_anonymized=record.customer_anonymized)
            else:
                await posts.advance(root, stored.id, now=now)
            last_id = stored.id
            await keep_alive()

    # After the replies, so that a reply found anonymized while it was being posted goes too.
    while pending := await posts.pending_redactions(poster.name, conversation_id):
        for posted in pending:  # the customer was anonymized after these were posted
            # Never the labeler: `record` may predate the anonymization and still hold the name.
            await poster.redact_reply(thread, posted.ref, _outgoing(posted.message, lambda _: CUSTOMER_LABEL))
            await posts.redacted(posted.post_id)
            await keep_alive()

    if shows_card and root.revision < record.revision:
        current = await summary()
        if current is not None:
            payload = await poster.update_card(thread, current)
            await posts.set_revision(root, record.revision, payload)


class ThreadSyncTarget:
    """Adapts a ThreadPoster to the worker's DeliveryTarget interface."""

    def __init__(self, poster: ThreadPoster) -> None:
        self.poster = poster
        self.name = poster.name

    @classmethod
    def wrap(cls, target):
        return cls(target) if hasattr(target, "open_thread") else target

    async def sync(self, conversation_id: int, *, settings: Settings, now: datetime, keep_alive) -> None:
        await sync_conversation(self.poster, conversation_id, settings=settings, now=now, keep_alive=keep_alive)

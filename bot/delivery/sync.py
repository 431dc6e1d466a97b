"""Bring one conversation's thread on one platform up to date: root card, redactions, replies, card edits.

The sync is re-entrant: it reads what was already posted (storage.posts) and only does what is
missing, so a crash or a retry after a 429 continues where it stopped instead of posting twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Awaitable, Callable

from bot.core.roles import channel_view
from bot.core.summary import conversation_facts, summary_for_conversation
from bot.delivery.files import customer_file_link
from bot.delivery.poster import OutgoingMessage, ThreadPoster, ThreadRef
from bot.domain import CARDLESS_KINDS, ConversationRecord, CustomerSummary
from bot.settings import Settings
from storage import customer_files, posts
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


def _outgoing(stored: posts.StoredMessage, label: Callable[[posts.StoredMessage], str]) -> OutgoingMessage:
    return OutgoingMessage(
        id=stored.id,
        sender=stored.sender,
        sender_label=label(stored),
        text=stored.text,
        attachments=tuple(stored.attachments),
        internal=stored.internal,
        at=stored.at,
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
            if customer_files.file_ids(stored.attachments):
                await _post_with_files(poster, thread, root, stored, label, record.customer_anonymized,
                                       settings=settings, now=now)
                await posts.advance(root, stored.id, now=now)
                last_id = stored.id
                await keep_alive()
                continue
            ref = await poster.post_reply(thread, _outgoing(stored, label))
            # Customer messages keep their platform id, so that anonymizing can reach them later.
            if stored.sender == "customer" and ref:
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


async def _post_with_files(poster: ThreadPoster, thread: ThreadRef, root: posts.RootPost, stored: posts.StoredMessage,
                           label: Callable[[posts.StoredMessage], str], anonymized: bool, *, settings: Settings,
                           now: datetime) -> None:
    """A customer message carrying their files: its line first, then each file as a real file in the thread
    (`post_file`). Each step is recorded as it is done, so a retry (a 429 on the second upload) goes on
    from where it stopped and never posts the line or a file twice."""
    message = _outgoing(stored, label)
    if not await posts.message_posted(root, stored.id):
        ref = await poster.post_reply(thread, message)
        if ref:
            await posts.record_message(root, stored.id, ref, now=now, saw_anonymized=anonymized)
    post_file = getattr(poster, "post_file", None)
    if post_file is None:  # a target that holds no files (the recording target): the line names them
        return
    for file_id in customer_files.file_ids(stored.attachments):
        if await posts.file_posted(root, file_id):
            continue
        found = await customer_files.load(file_id)
        if found is None:  # deleted since (the customer was anonymized): nothing to put there
            continue
        link = customer_file_link(settings, root.conversation_id, file_id, now=now)
        ref = await post_file(thread, message, found.file, link=link)
        await posts.record_file(root, file_id, ref, now=now)


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

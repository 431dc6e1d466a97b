"""Bring one conversation's thread on one platform up to date: root card, redactions, replies, card edits.

The sync is re-entrant: it reads what was already posted (storage.posts) and only does what is
missing, so a crash or a retry after a 429 continues where it stopped instead of posting twice.

What is left is the moment between a post and its record. A poster that marks its posts (Slack:
message metadata with the outbox job and the message ids) is asked, when the lease is `suspect` (the
previous sync died or failed), what it already holds, and the sync records that instead of posting
it again. Transcript lines the handoff brought go out together (`post_lines`), split at the
platform's limits by the poster: one post for a transcript instead of one per line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Awaitable, Callable

from bot.core.roles import channel_view
from bot.core.routing import alert_for
from bot.core.summary import conversation_facts, summary_for_conversation
from bot.delivery.files import customer_file_link
from bot.delivery.poster import OutgoingMessage, ThreadPoster, ThreadRef
from bot.domain import CARDLESS_KINDS, ConversationRecord, CustomerSummary
from bot.settings import Settings
from storage import customer_files, posts


REPLY_BATCH = 50  # messages read per query while replying
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
        transcript=stored.transcript_index is not None and not stored.internal,
        alert=alert,
    )


def _groups(batch: list[posts.StoredMessage], together: bool) -> list[list[posts.StoredMessage]]:
    """Consecutive transcript lines form one group (one post); every other message is its own."""
    groups: list[list[posts.StoredMessage]] = []
    for stored in batch:
        line = together and stored.transcript_index is not None and not stored.internal \
            and not customer_files.file_ids(stored.attachments)
        if line and groups and groups[-1][-1].transcript_index is not None and not groups[-1][-1].internal:
            groups[-1].append(stored)
        else:
            groups.append([stored])
    return groups


def _mark(lease: Any, conversation_id: int, **what: Any) -> dict[str, Any]:
    return {"job": getattr(lease, "job_id", None), "conversation": conversation_id, **what}


async def sync_conversation(
    poster: ThreadPoster,
    conversation_id: int,
    *,
    settings: Settings,
    now: datetime,
    keep_alive: Callable[[], Awaitable[None]],
    lease: Any = None,
) -> None:
    record, root = await posts.conversation_and_root(poster.name, conversation_id)  # one statement
    if record is None:
        return
    shows_card = record.kind not in CARDLESS_KINDS

    async def summary() -> CustomerSummary | None:
        if not shows_card:
            return None
        # The record loaded above is passed on: one read of the conversation per pass.
        return await summary_for_conversation(conversation_id, now=now, conversation=record, **channel_view(settings))

    marks = hasattr(poster, "find_root")  # the poster marks its posts and can read them back
    check = marks and bool(getattr(lease, "suspect", False))
    current_summary = None
    if root is None:
        facts = conversation_facts(record)
        found = await poster.find_root(facts, conversation_id) if check else None
        if found is not None:
            # Posted by a sync that died before recording it: record that one, and edit it to the current card.
            thread = found
            revision = 0
        else:
            current_summary = await summary()
            if marks:
                thread = await poster.open_thread(facts, current_summary, mark=_mark(lease, conversation_id, item="root"))
            else:
                thread = await poster.open_thread(facts, current_summary)
            revision = record.revision
        root = await posts.record_root(
            poster.name,
            conversation_id,
            channel=thread.channel,
            ref=thread.root_ref,
            thread_ref=thread.thread_ref,
            revision=revision,
            payload=thread.payload,
            now=now,
        )
    thread = ThreadRef(channel=root.channel or "", root_ref=root.ref or "", thread_ref=root.thread_ref or "")

    label = _labeler(record, current_summary)
    last_id = root.last_message_id
    if check:
        last_id = await _recover_replies(poster, thread, root, conversation_id, last_id, now=now,
                                         saw_anonymized=record.customer_anonymized)
    # The card edit before the replies: an edit is not paced like posts are, and must not wait behind a
    # transcript that waits for its channel's posting slot (the poster may defer replies: `Paced`).
    if shows_card and root.revision < record.revision:
        current = await summary()
        if current is not None:
            payload = await poster.update_card(thread, current)
            await posts.set_revision(root, record.revision, payload)

    together = hasattr(poster, "post_lines")
    while True:
        batch = await posts.messages_after(conversation_id, last_id, exclude_from=poster.name, limit=REPLY_BATCH)
        if not batch:
            break
        for group in _groups(batch, together):
            first, last = group[0].id, group[-1].id
            if len(group) == 1 and customer_files.file_ids(group[0].attachments):
                stored = group[0]
                await _post_with_files(poster, thread, root, stored, label, record.customer_anonymized,
                                       settings=settings, now=now)
                await posts.advance(root, stored.id, now=now)
                last_id = stored.id
                await keep_alive()
                continue
            mark = {"mark": _mark(lease, conversation_id, first=first, last=last)} if marks else {}
            if len(group) > 1 or (together and group[0].transcript_index is not None and not group[0].internal):
                refs = await poster.post_lines(thread, [_outgoing(m, label) for m in group], **mark)
            else:
                # Who a timer's line reaches is decided here, once, from the queue's [routing] settings.
                alert = alert_for(poster.name, group[0].kind, record.queue, settings)
                refs = [await poster.post_reply(thread, _outgoing(group[0], label, alert), **mark)]
            # Customer messages and interaction logs (which quote them) keep their platform id, so that
            # anonymizing can reach them later.
            posted = [(m.id, ref) for m, ref in zip(group, refs) if (m.sender == "customer" or m.kind == "log") and ref]
            await posts.advance_many(root, last, posted, now=now, saw_anonymized=record.customer_anonymized)
            last_id = last
            await keep_alive()
        if len(batch) < REPLY_BATCH:
            break  # that was the last of them: a message added since bumped the job, which runs again

    # After the replies. Only a customer anonymized when this sync began has posts to redact: anonymizing
    # marks them and queues a sync in the same transaction, so one that lands later gets its own pass
    # (with the reply flagged while it was being posted, see `posts.advance_many`).
    while record.customer_anonymized and (pending := await posts.pending_redactions(poster.name, conversation_id)):
        for posted in pending:  # the customer was anonymized after these were posted
            # Never the labeler: `record` may predate the anonymization and still hold the name.
            await poster.redact_reply(thread, posted.ref, _outgoing(posted.message, lambda _: CUSTOMER_LABEL))
            await posts.redacted(posted.post_id)
            await keep_alive()


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


async def _recover_replies(poster, thread: ThreadRef, root: posts.RootPost, conversation_id: int, last_id: int, *,
                           now: datetime, saw_anonymized: bool) -> int:
    """Replies the platform holds beyond what was recorded (posted just before a crash): record them."""
    found = [(first, last, ref) for first, last, ref in await poster.posted_replies(thread, conversation_id) if last > last_id]
    if not found:
        return last_id
    through = max(last for _, last, _ in found)
    pending = await posts.messages_after(conversation_id, last_id, exclude_from=poster.name, limit=1000)
    posted = [(m.id, ref) for first, last, ref in found for m in pending
              if first <= m.id <= last and m.sender == "customer"]
    await posts.advance_many(root, through, posted, now=now, saw_anonymized=saw_anonymized)
    return through


class ThreadSyncTarget:
    """Adapts a ThreadPoster to the worker's DeliveryTarget interface."""

    def __init__(self, poster: ThreadPoster) -> None:
        self.poster = poster
        self.name = poster.name

    @classmethod
    def wrap(cls, target):
        return cls(target) if hasattr(target, "open_thread") else target

    async def sync(self, conversation_id: int, *, settings: Settings, now: datetime, keep_alive, lease=None) -> None:
        await sync_conversation(self.poster, conversation_id, settings=settings, now=now, keep_alive=keep_alive,
                                lease=lease)

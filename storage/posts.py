"""Bookkeeping of what Baton already posted on each platform, so nothing is posted twice.

The statements every sync sends (the root, the replies to post, the thread's progress) are written as
SQL and built once: building them through the ORM cost more CPU per card than the rest of the sync's
bookkeeping (benchmarks/README.md, Delivery). Values still go through each field's own conversion.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from bot.domain import ConversationRecord, channel_id_of
from storage import sql, summary
from storage.fastinsert import insert_rows
from storage.models import Message, PlatformPost

ITEM_LENGTH = PlatformPost._meta.fields_map["item"].max_length
_ROOT_SQL = ("SELECT id, target, conversation_id, channel, ref, thread_ref, revision, last_message_id "
             "FROM platform_post WHERE target = ? AND item = ?")
_ADVANCE_SQL = "UPDATE platform_post SET last_message_id = ? WHERE id = ?"
_MESSAGE_COLUMNS = ("id", "sender", "sender_name", "text", "attachments", "internal", "at", "kind", "transcript_index")
_AFTER_SQL = (f"SELECT {', '.join(_MESSAGE_COLUMNS)} FROM message WHERE conversation_id = ? AND id > ? "
              "AND kind <> 'status' AND (posted_from IS NULL OR posted_from <> ?) ORDER BY id LIMIT ?")
_MESSAGE_FIELDS = {name: Message._meta.fields_map[name] for name in ("attachments", "internal", "at")}
_rows = sql.rows


@dataclass(frozen=True)
class RootPost:
    id: int
    target: str
    conversation_id: int
    channel: str | None
    ref: str | None
    thread_ref: str | None
    revision: int
    last_message_id: int


@dataclass(frozen=True)
class StoredMessage:
    id: int
    sender: str
    sender_name: str | None
    text: str
    attachments: list[dict[str, Any]]
    internal: bool
    at: datetime
    kind: str = "text"
    transcript_index: int | None = None  # set for the lines the handoff brought


def _root_item(conversation_id: int) -> str:
    return f"conv:{conversation_id}:root"


@dataclass(frozen=True)
class PostedMessage:
    """A customer message as it stands now, and where Baton posted it on one platform."""

    post_id: int
    ref: str
    message: StoredMessage


def _message_item(conversation_id: int, message_id: int, ref: str) -> str:
    """One row per copy posted: a message posted twice (a sync retried after the post) keeps both refs."""
    item = f"conv:{conversation_id}:msg:{message_id}:{ref}"
    if len(item) > ITEM_LENGTH:
        item = f"conv:{conversation_id}:msg:{message_id}:{hashlib.sha256(ref.encode()).hexdigest()[:16]}"
    return item


def _message_id_of(item: str) -> int:
    return int(item.split(":")[3])


def _stored(m: Message) -> StoredMessage:
    return StoredMessage(m.id, m.sender, m.sender_name, m.text, m.attachments or [], m.internal, m.at, m.kind,
                         m.transcript_index)


async def get_root(target: str, conversation_id: int) -> RootPost | None:
    rows = await _rows(_ROOT_SQL, [target, _root_item(conversation_id)])
    if not rows:
        return None
    row = rows[0]
    return RootPost(row["id"], row["target"], row["conversation_id"], row["channel"], row["ref"], row["thread_ref"],
                    row["revision"], row["last_message_id"])


async def conversation_and_root(target: str, conversation_id: int) -> tuple[ConversationRecord | None, RootPost | None]:
    """`summary.load_conversation` and `get_root` in one statement: what every sync reads first."""
    found = await _rows(summary.CONVERSATION_WITH_ROOT_SQL, [target, _root_item(conversation_id), conversation_id])
    if not found:
        return None, None
    row = found[0]
    root = None
    if row["root_id"] is not None:
        root = RootPost(row["root_id"], target, conversation_id, row["root_channel"], row["root_ref"],
                        row["root_thread_ref"], row["root_revision"], row["root_last_message_id"])
    return summary.record_from_row(row), root


async def record_root(
    target: str,
    conversation_id: int,
    *,
    channel: str | None,
    ref: str | None,
    thread_ref: str | None,
    revision: int,
    payload: Any,
    now: datetime,
) -> RootPost:
    [row] = await insert_rows(connections.get("default"), PlatformPost, [dict(
        conversation_id=conversation_id, target=target, item=_root_item(conversation_id), channel=channel, ref=ref,
        thread_ref=thread_ref, revision=revision, last_message_id=0, payload=payload, redact=False, created_at=now,
    )], returning=("id",))
    return RootPost(row["id"], target, conversation_id, channel, ref, thread_ref, revision, 0)


async def set_revision(root: RootPost, revision: int, payload: Any = None) -> None:
    changes: dict[str, Any] = {"revision": revision}
    if payload is not None:
        changes["payload"] = payload
    await PlatformPost.filter(id=root.id).update(**changes)


async def advance(
    root: RootPost, message_id: int, *, now: datetime, posted_ref: str | None = None, saw_anonymized: bool = False
) -> None:
    """Replies are posted up to `message_id`. `posted_ref` (a Slack ts, a Teams activity id) is kept for
    customer messages: anonymizing must reach them again (SPEC 5, privacy follows the data).

    `saw_anonymized` says whether the sync already knew the customer was anonymized when it rendered
    the line (so it carried no name); a line rendered before is flagged for redaction at once."""
    if posted_ref is None:
        await PlatformPost.filter(id=root.id).update(last_message_id=message_id)
        return
    async with in_transaction():
        await record_message(root, message_id, posted_ref, now=now, saw_anonymized=saw_anonymized)
        await PlatformPost.filter(id=root.id).update(last_message_id=message_id)


async def record_message(root: RootPost, message_id: int, posted_ref: str, *, now: datetime,
                         saw_anonymized: bool = False) -> None:
    """A customer message's post, kept before the thread moves on (a message with files records its text
    first, so a retry after a failed upload does not post the text again)."""
    async with in_transaction():
        anonymized = await _lock_customer_state(root.conversation_id)
        await PlatformPost.bulk_create(
            [PlatformPost(conversation_id=root.conversation_id, target=root.target,
                          item=_message_item(root.conversation_id, message_id, posted_ref), channel=root.channel,
                          ref=posted_ref, thread_ref=root.thread_ref, redact=anonymized and not saw_anonymized,
                          created_at=now)],
            ignore_conflicts=True,  # the same post recorded twice (a retried sync) stays one row
        )


async def message_posted(root: RootPost, message_id: int) -> bool:
    prefix = f"conv:{root.conversation_id}:msg:{message_id}:"
    return await PlatformPost.filter(target=root.target, item__startswith=prefix).exists()


def _file_item(conversation_id: int, file_id: int) -> str:
    return f"conv:{conversation_id}:file:{file_id}"


async def file_posted(root: RootPost, file_id: int) -> bool:
    return await PlatformPost.filter(target=root.target, item=_file_item(root.conversation_id, file_id)).exists()


async def record_file(root: RootPost, file_id: int, ref: str | None, *, now: datetime) -> None:
    """A customer file is in this thread (a Slack file id, a Teams activity id): never uploaded again."""
    await PlatformPost.bulk_create(
        [PlatformPost(conversation_id=root.conversation_id, target=root.target, item=_file_item(root.conversation_id, file_id),
                      channel=root.channel, ref=ref, thread_ref=root.thread_ref, created_at=now)],
        ignore_conflicts=True,
    )


async def advance_many(
    root: RootPost, through_id: int, posted: list[tuple[int, str]], *, now: datetime, saw_anonymized: bool = False
) -> None:
    """`advance` for a whole post (or several): replies are posted up to `through_id`, and each
    (customer message id, platform ref) in `posted` is kept for anonymizing, in one transaction."""
    if not posted:
        await _rows(_ADVANCE_SQL, [through_id, root.id])
        return
    async with in_transaction():
        anonymized = await _lock_customer_state(root.conversation_id)
        await insert_rows(connections.get("default"), PlatformPost, [dict(
            conversation_id=root.conversation_id, target=root.target,
            item=_message_item(root.conversation_id, message_id, ref), channel=root.channel, ref=ref,
            thread_ref=root.thread_ref, revision=0, last_message_id=0, payload=None,
            redact=anonymized and not saw_anonymized, created_at=now,
        ) for message_id, ref in posted], skip_conflicts_on=("target", "item"))  # a retried sync: still one row
        await _rows(_ADVANCE_SQL, [through_id, root.id])


_CUSTOMER_STATE_SQL = ("SELECT u.anonymized_at FROM conversation c JOIN customer u ON u.id = c.customer_id "
                       "WHERE c.id = ?")
# NO KEY UPDATE: it still waits for (and holds off) anonymizing, which locks the row FOR UPDATE, but not a
# row that merely references the customer (an Activity of a wrap-up): with FOR UPDATE, a sync holding this
# lock and a wrap-up (its conversation row key-locked, as `open_key` is unique) deadlocked on PostgreSQL.
_CUSTOMER_STATE_SQL_PG = _CUSTOMER_STATE_SQL + " FOR NO KEY UPDATE OF u"


async def _lock_customer_state(conversation_id: int) -> bool:
    """Whether the conversation's customer is anonymized, read under the customer's row lock.

    Anonymizing takes the same lock, so the two serialize: either it committed before this read and
    the post is flagged here, or it waits for this transaction and its own flagging sees the post.
    (SQLite has no row locks: its one writer at a time serializes the two.)"""
    postgres = connections.get("default").capabilities.dialect == "postgres"
    found = await _rows(_CUSTOMER_STATE_SQL_PG if postgres else _CUSTOMER_STATE_SQL, [conversation_id])
    return bool(found) and found[0]["anonymized_at"] is not None


async def mark_for_redaction(conversation_ids: list[int]) -> None:
    """The customer messages of these conversations were anonymized: their posts must follow."""
    await PlatformPost.filter(conversation_id__in=conversation_ids, item__contains=":msg:").update(redact=True)


async def pending_redactions(target: str, conversation_id: int, *, limit: int = 50) -> list[PostedMessage]:
    rows = await PlatformPost.filter(conversation_id=conversation_id, target=target, redact=True).order_by("id").limit(limit)
    if not rows:
        return []
    message_ids = {row.id: _message_id_of(row.item) for row in rows}
    messages = {m.id: m for m in await Message.filter(id__in=list(message_ids.values()))}
    # Messages are only ever deleted with their conversation, which takes its posts along (CASCADE).
    return [PostedMessage(row.id, row.ref or "", _stored(messages[message_ids[row.id]])) for row in rows]


async def redacted(post_id: int) -> None:
    """Done on the platform: nothing personal is left to reach there."""
    await PlatformPost.filter(id=post_id).delete()


async def messages_after(conversation_id: int, after_id: int, *, exclude_from: str, limit: int = 50) -> list[StoredMessage]:
    # Not status lines (for the customer's side only), nor what came from this platform itself.
    rows = await _rows(_AFTER_SQL, [conversation_id, after_id, exclude_from, limit])
    attachments, internal, at = (_MESSAGE_FIELDS[name].to_python_value for name in ("attachments", "internal", "at"))
    return [StoredMessage(row["id"], row["sender"], row["sender_name"], row["text"], attachments(row["attachments"]) or [],
                          bool(internal(row["internal"])), at(row["at"]), row["kind"], row["transcript_index"])
            for row in rows]


async def find_conversation_by_thread(target: str, thread_ref: str, channel: str | None = None) -> int | None:
    """The conversation whose thread root is `thread_ref` on `target` (a Slack ts, a Teams thread id).

    A Slack ts is unique only within its channel: where two channels' threads share one, `channel` (the id
    the event came from) picks the thread posted there; a channel stored by name matches neither, and the
    newest thread wins."""
    rows = await (PlatformPost.filter(target=target, thread_ref=thread_ref, item__endswith=":root")
                  .order_by("-id").limit(10).values("conversation_id", "channel"))
    if channel:
        for row in rows:
            if channel_id_of(row["channel"]) == channel:
                return row["conversation_id"]
    return rows[0]["conversation_id"] if rows else None


async def root_payload(target: str, conversation_id: int) -> Any:
    row = await PlatformPost.get_or_none(target=target, item=_root_item(conversation_id))
    return row.payload if row else None

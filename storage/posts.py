"""Bookkeeping of what Baton already posted on each platform, so nothing is posted twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from storage.models import Message, PlatformPost


@dataclass(frozen=True)
class RootPost:
    id: int
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


def _root_item(conversation_id: int) -> str:
    return f"conv:{conversation_id}:root"


def _root(row: PlatformPost) -> RootPost:
    return RootPost(row.id, row.channel, row.ref, row.thread_ref, row.revision, row.last_message_id)


async def get_root(target: str, conversation_id: int) -> RootPost | None:
    row = await PlatformPost.get_or_none(target=target, item=_root_item(conversation_id))
    return _root(row) if row else None


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
    row = await PlatformPost.create(
        conversation_id=conversation_id,
        target=target,
        item=_root_item(conversation_id),
        channel=channel,
        ref=ref,
        thread_ref=thread_ref,
        revision=revision,
        payload=payload,
        created_at=now,
    )
    return _root(row)


async def set_revision(root: RootPost, revision: int, payload: Any = None) -> None:
    changes: dict[str, Any] = {"revision": revision}
    if payload is not None:
        changes["payload"] = payload
    await PlatformPost.filter(id=root.id).update(**changes)


async def advance(root: RootPost, message_id: int) -> None:
    await PlatformPost.filter(id=root.id).update(last_message_id=message_id)


async def messages_after(conversation_id: int, after_id: int, *, exclude_from: str, limit: int = 50) -> list[StoredMessage]:
    rows = (
        await Message.filter(conversation_id=conversation_id, id__gt=after_id)
        .filter(Q(posted_from__isnull=True) | ~Q(posted_from=exclude_from))
        .order_by("id")
        .limit(limit)
    )
    return [StoredMessage(m.id, m.sender, m.sender_name, m.text, m.attachments or [], m.internal, m.at) for m in rows]


async def find_conversation_by_thread(target: str, thread_ref: str) -> int | None:
    """The conversation whose thread root is `thread_ref` on `target` (a Slack ts, a Teams thread id)."""
    row = await PlatformPost.filter(target=target, thread_ref=thread_ref).first().values("conversation_id")
    return row["conversation_id"] if row else None


async def root_payload(target: str, conversation_id: int) -> Any:
    row = await PlatformPost.get_or_none(target=target, item=_root_item(conversation_id))
    return row.payload if row else None

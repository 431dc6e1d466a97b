"""Bookkeeping for the `source` target: which agent replies and handoff.status events went out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from bot.domain import Reply
from storage.models import Message, PlatformPost


async def unrelayed_replies(conversation_id: int, limit: int = 50) -> list[Reply]:
    rows = (
        await Message.filter(conversation_id=conversation_id, sender="agent", internal=False, relayed_at__isnull=True)
        .order_by("id")
        .limit(limit)
    )
    return [Reply(m.id, m.sender_name or "Agent", m.text, tuple(m.attachments or ()), m.at, m.posted_from) for m in rows]


async def shared_file(message_id: int, index: int) -> tuple[str, dict[str, Any]] | None:
    """(platform, attachment) of a file an agent shared with the customer, or None when there is no
    such file any more (or the message was never meant for the customer)."""
    row = (
        await Message.filter(id=message_id, sender="agent", internal=False)
        .first()
        .values("posted_from", "attachments", "conversation__customer__anonymized_at")
    )
    if row is None or not row["posted_from"] or row["conversation__customer__anonymized_at"] is not None:
        return None  # an anonymized customer's links die with the rest of their data
    attachments = row["attachments"] or []
    if not 0 <= index < len(attachments) or not isinstance(attachments[index], dict):
        return None
    return row["posted_from"], attachments[index]


async def mark_relayed(message_id: int, now: datetime) -> None:
    await Message.filter(id=message_id).update(relayed_at=now)


def _status_item(conversation_id: int, state: str) -> str:
    return f"conv:{conversation_id}:status:{state}"


async def status_sent(conversation_id: int, state: str) -> bool:
    return await PlatformPost.filter(target="source", item=_status_item(conversation_id, state)).exists()


async def record_status(conversation_id: int, state: str, now: datetime) -> None:
    try:
        await PlatformPost.create(
            conversation_id=conversation_id, target="source", item=_status_item(conversation_id, state), created_at=now
        )
    except IntegrityError:
        pass  # another process recorded it first

"""Bookkeeping for the `source` target: which agent replies and handoff.status events went out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from storage.models import Message, PlatformPost


@dataclass(frozen=True)
class Reply:
    id: int
    agent_name: str
    text: str
    attachments: list[dict[str, Any]]
    at: datetime


async def unrelayed_replies(conversation_id: int, limit: int = 50) -> list[Reply]:
    rows = (
        await Message.filter(conversation_id=conversation_id, sender="agent", internal=False, relayed_at__isnull=True)
        .order_by("id")
        .limit(limit)
    )
    return [Reply(m.id, m.sender_name or "Agent", m.text, m.attachments or [], m.at) for m in rows]


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

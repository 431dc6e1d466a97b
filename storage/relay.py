"""Bookkeeping for the `source` target: which agent replies and status changes the customer's side has heard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from bot.domain import Reply, StatusEvent
from storage.models import Message


async def pending_for_source(conversation_id: int, limit: int = 50) -> list[Reply | StatusEvent]:
    """What the customer's side has not heard yet, in the order it happened: the agents' replies and the
    status changes of the conversation."""
    rows = (
        await Message.filter(Q(sender="agent", internal=False) | Q(kind="status"), conversation_id=conversation_id,
                             relayed_at__isnull=True)
        .order_by("id")
        .limit(limit)
    )
    return [
        StatusEvent(m.id, m.text, m.sender_name, m.at, code=_code(m.attachments)) if m.kind == "status"
        else Reply(m.id, m.sender_name or "Agent", m.text, tuple(m.attachments or ()), m.at, m.posted_from)
        for m in rows
    ]


def _code(stored: Any) -> str | None:
    first = stored[0] if isinstance(stored, list) and stored else None
    return first.get("code") if isinstance(first, dict) else None


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

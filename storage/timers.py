"""Queries behind the timers: unclaimed handoffs, idle claimed conversations, customers past retention."""

from __future__ import annotations

from datetime import datetime

from bot.domain import ConversationStatus
from storage.models import Conversation, Customer

BATCH = 100


async def unclaimed_due(level: int, cutoff: datetime) -> list[int]:
    """Customer conversations still queued since before `cutoff` that have not reached timer `level`."""
    return list(
        await Conversation.filter(status=ConversationStatus.QUEUED, kind="customer", created_at__lt=cutoff, reminders_sent__lt=level)
        .order_by("id")
        .limit(BATCH)
        .values_list("id", flat=True)
    )


async def mark_level(conversation_id: int, level: int) -> bool:
    """Compare-and-set, so with several processes each reminder is sent once."""
    return bool(await Conversation.filter(id=conversation_id, reminders_sent__lt=level).update(reminders_sent=level))


async def idle_claimed(cutoff: datetime) -> list[int]:
    return list(
        await Conversation.filter(status=ConversationStatus.CLAIMED, last_activity_at__lt=cutoff)
        .order_by("id")
        .limit(BATCH)
        .values_list("id", flat=True)
    )


async def customers_past_retention(cutoff: datetime) -> list[int]:
    return list(
        await Customer.filter(updated_at__lt=cutoff, anonymized_at__isnull=True, locked=False, merged_into_id__isnull=True)
        .order_by("id")
        .limit(BATCH)
        .values_list("id", flat=True)
    )

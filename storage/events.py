"""Processed platform events (Slack event ids, Bot Framework activity ids): each is handled once,
also when the platform retries or several Baton processes receive it."""

from __future__ import annotations

from datetime import datetime

from tortoise import connections
from tortoise.exceptions import IntegrityError

from storage.fastinsert import insert_rows
from storage.models import IdempotentAnswer, ProcessedEvent

KEY_LENGTH = 200


async def first_time_seen(key: str, *, now: datetime) -> bool:
    """Record an event key; False when it was already recorded (a retry, or another process)."""
    try:
        await ProcessedEvent.create(key=key[:KEY_LENGTH], at=now)
    except IntegrityError:
        return False
    return True


async def record_once(key: str, *, now: datetime) -> bool:
    """Inside the caller's transaction: record `key`, False when it was already recorded. ON CONFLICT DO
    NOTHING keeps the transaction usable on PostgreSQL (a failed INSERT would abort it), and a concurrent
    twin waits for this transaction, then skips."""
    inserted = await insert_rows(connections.get("default"), ProcessedEvent, [{"key": key[:KEY_LENGTH], "at": now}],
                                 returning=("key",), skip_conflicts_on=("key",))
    return bool(inserted)


async def forget_before(cutoff: datetime) -> int:
    """Keys are only needed while a platform may still retry; older ones go."""
    return await ProcessedEvent.filter(at__lt=cutoff).delete()


async def forget_answers_before(cutoff: datetime) -> int:
    """Idempotency-Key answers are kept for a retry window, then go (bounded table)."""
    return await IdempotentAnswer.filter(created_at__lt=cutoff).delete()

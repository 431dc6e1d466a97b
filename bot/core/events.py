"""Platform events handled once: Slack event ids and Bot Framework activity ids share one store and one pruner."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import events

# Far longer than any platform retries (Slack: up to 5 minutes; Bot Framework channels: seconds).
RETENTION = timedelta(days=2)
# A repeat of a keyed handoff gets its first answer for a week (longer than any sender's retry schedule).
IDEMPOTENCY_RETENTION = timedelta(days=7)


async def first_time(platform: str, key: str, *, now: datetime) -> bool:
    """True the first time `key` is seen on `platform`, in this process or any other on the same database."""
    return await events.first_time_seen(f"{platform}:{key}", now=now)


async def forget_old(now: datetime) -> int:
    return await events.forget_before(now - RETENTION) + await events.forget_answers_before(now - IDEMPOTENCY_RETENTION)

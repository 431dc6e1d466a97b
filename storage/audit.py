"""Audit records: who did what to which customer, when (SPEC 5 Roles)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import Actor
from storage.models import AuditEvent


def actor_key(actor: Actor) -> str:
    return f"{actor.platform}:{actor.user_id}"


async def record(actor: Actor, action: str, *, customer_id: int | None, now: datetime, **detail: Any) -> None:
    await AuditEvent.create(at=now, actor=actor_key(actor), action=action, customer_id=customer_id, detail=detail)


async def actions_for(customer_id: int) -> list[tuple[str, str]]:
    rows = await AuditEvent.filter(customer_id=customer_id).order_by("id").values_list("actor", "action")
    return list(rows)

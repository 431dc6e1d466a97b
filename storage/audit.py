"""Audit records: who did what to which customer, when (SPEC 5 Roles).

Append-only: this module only inserts and reads. Migration 0014 adds database triggers that refuse any
UPDATE or DELETE of an `audit_event` row on SQLite and PostgreSQL, and tests/test_audit.py checks that no
code path tries. A record never holds the customer's personal data (ids, actions and field names only),
so anonymizing a customer has nothing to rewrite here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import Actor, AuditEntry
from storage.models import Agent, AuditEvent, Customer

READ_LIMIT = 1000  # entries per read, newest first: a page of history, never the whole table


def actor_key(actor: Actor) -> str:
    return f"{actor.platform}:{actor.user_id}"


async def record(actor: Actor, action: str, *, customer_id: int | None, now: datetime, **detail: Any) -> None:
    await AuditEvent.create(at=now, actor=actor_key(actor), action=action, customer_id=customer_id, detail=detail)


async def actions_for(customer_id: int) -> list[tuple[str, str]]:
    rows = await AuditEvent.filter(customer_id=customer_id).order_by("id").values_list("actor", "action")
    return list(rows)


async def _with_merged(customer_id: int) -> list[int]:
    """The customer and every customer merged into it (their history is the survivor's now)."""
    ids, frontier = [customer_id], [customer_id]
    while frontier:
        frontier = list(await Customer.filter(merged_into_id__in=frontier).values_list("id", flat=True))
        frontier = [i for i in frontier if i not in ids]
        ids += frontier
    return ids


async def entries(*, customer_id: int | None = None, since: datetime | None = None,
                  limit: int | None = READ_LIMIT) -> list[AuditEntry]:
    """Audit entries, newest first: of one customer (and those merged into it) or of all, from `since`."""
    query = AuditEvent.all()
    if customer_id is not None:
        query = query.filter(customer_id__in=await _with_merged(customer_id))
    if since is not None:
        query = query.filter(at__gte=since)
    query = query.order_by("-at", "-id")
    rows = await (query.limit(limit) if limit is not None else query)
    names = await _agent_names({row.actor for row in rows})
    return [AuditEntry(r.id, r.at, r.actor, names.get(r.actor), r.action, r.customer_id, dict(r.detail or {}))
            for r in rows]


async def _agent_names(keys: set[str]) -> dict[str, str]:
    users = {key.partition(":")[2] for key in keys if ":" in key}
    if not users:
        return {}
    agents = await Agent.filter(platform_user_id__in=list(users)).values_list("platform", "platform_user_id", "display_name")
    return {f"{platform}:{user}": name for platform, user, name in agents if name}

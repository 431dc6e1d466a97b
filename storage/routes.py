"""Routing: which channel receives a queue's handoffs on each platform (`route here [queue]`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage import sql
from storage.models import Route

DEFAULT_QUEUE = "*"


async def set_route(target: str, queue: str | None, channel: str, *, reference: Any, by: str, now: datetime) -> None:
    await Route.update_or_create(
        target=target,
        queue=queue or DEFAULT_QUEUE,
        defaults={"channel": channel, "reference": reference, "created_by": by, "updated_at": now},
    )


async def routes_for(target: str, queue: str | None) -> dict[str, tuple[str, Any]]:
    """What `route here` stored for `queue` and for every queue ("*") on `target`: {queue: (channel, reference)}."""
    # Plain SQL: read for every card a sync posts (storage.sql).
    values = [target, queue, target, DEFAULT_QUEUE] if queue else [target, DEFAULT_QUEUE]
    rows = await sql.rows(_ROUTES_SQL[bool(queue)], values)
    return {row["queue"]: (row["channel"], _REFERENCE(row["reference"])) for row in rows}


# Two exact lookups of the unique (target, queue) key, not `queue IN (…)`: PostgreSQL caches a generic plan per
# connection, and one made while the table was small read `target = ?` from the index and filtered every
# route of the target for the queue (0.8 ms a card with 2,000 routes; measured in docs/decisions.md).
_ONE_ROUTE = "SELECT queue, channel, reference FROM route WHERE target = ? AND queue = ?"
_ROUTES_SQL = (_ONE_ROUTE, f"{_ONE_ROUTE} UNION ALL {_ONE_ROUTE}")
_REFERENCE = sql.converter(Route, "reference")

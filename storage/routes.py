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
    rows = await sql.rows(_ROUTES_SQL[bool(queue)], [target, queue, DEFAULT_QUEUE] if queue else [target, DEFAULT_QUEUE])
    return {row["queue"]: (row["channel"], _REFERENCE(row["reference"])) for row in rows}


_ROUTES_SQL = ("SELECT queue, channel, reference FROM route WHERE target = ? AND queue = ?",
               "SELECT queue, channel, reference FROM route WHERE target = ? AND queue IN (?, ?)")
_REFERENCE = sql.converter(Route, "reference")

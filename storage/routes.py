"""Routing: which channel receives a queue's handoffs on each platform (`route here [queue]`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    keys = ([queue] if queue else []) + [DEFAULT_QUEUE]
    rows = await Route.filter(target=target, queue__in=keys)
    return {row.queue: (row.channel, row.reference) for row in rows}

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


async def channel_for(target: str, queue: str | None) -> tuple[str, Any] | None:
    """The queue's own route, else the platform's default route (`route here` without a queue)."""
    for key in ([queue] if queue else []) + [DEFAULT_QUEUE]:
        row = await Route.get_or_none(target=target, queue=key)
        if row:
            return row.channel, row.reference
    return None

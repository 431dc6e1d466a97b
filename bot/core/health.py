"""What /readyz and /metrics report: the database, and delivery work waiting or given up on."""

from __future__ import annotations

from storage import db, outbox


async def database_reachable() -> bool:
    return await db.ping()


async def delivery_backlog() -> tuple[dict[str, int], int]:
    """(conversations waiting per target, jobs given up on)."""
    return await outbox.pending_counts(), await outbox.dead_count()

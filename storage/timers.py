"""Queries behind the timers: unclaimed handoffs, idle claimed conversations, customers past retention."""

from __future__ import annotations

from datetime import datetime, timezone

from tortoise import connections

from bot.domain import ConversationStatus
from storage.models import Conversation

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


# A customer is past retention when nothing shows contact since the cutoff: no profile edit
# (customer.updated_at), no conversation activity (conversation.last_activity_at, which every
# message bumps), no order and no survey. The whole rule is one SQL query, so a batch only ever
# holds customers who are really idle: however many old-but-active profiles there are, they never
# fill a batch and the sweep always moves on. The outer scan walks index customer_retention
# (updated_at, id), each NOT EXISTS one of the per-customer indexes (conversation_by_customer,
# order_by_customer, survey_by_customer). Keyset pagination on (updated_at, id): a customer the
# sweep could not anonymize is passed over, never retried in a loop.
_PAST_RETENTION_SQL = """
SELECT c.id, c.updated_at FROM customer c
WHERE c.anonymized_at IS NULL AND NOT c.locked AND c.merged_into_id IS NULL
  AND c.updated_at < {cutoff}
  AND (c.updated_at > {after_at} OR (c.updated_at = {after_at} AND c.id > {after_id}))
  AND NOT EXISTS (SELECT 1 FROM conversation v WHERE v.customer_id = c.id AND v.last_activity_at >= {cutoff})
  AND NOT EXISTS (SELECT 1 FROM customer_order o WHERE o.customer_id = c.id AND o.placed_at >= {cutoff})
  AND NOT EXISTS (SELECT 1 FROM survey s WHERE s.customer_id = c.id AND s.at >= {cutoff})
ORDER BY c.updated_at, c.id
LIMIT {limit}
"""

RetentionCursor = tuple[datetime, int]
_START: RetentionCursor = (datetime(1, 1, 2, tzinfo=timezone.utc), 0)


async def customers_past_retention(
    cutoff: datetime, *, after: RetentionCursor | None = None, limit: int = BATCH
) -> tuple[list[int], RetentionCursor | None]:
    """Up to `limit` customers with no contact since `cutoff`, oldest first, after `after`;
    returns their ids and the cursor for the next batch (None when there is none)."""
    after_at, after_id = after or _START
    params = [cutoff.astimezone(timezone.utc), after_at.astimezone(timezone.utc), after_id, limit]
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        marks = {"cutoff": "$1", "after_at": "$2", "after_id": "$3", "limit": "$4"}
    else:  # sqlite: positional, so each use gets its own parameter
        marks = {"cutoff": ":cutoff", "after_at": ":after_at", "after_id": ":after_id", "limit": ":limit"}
        params = dict(zip(("cutoff", "after_at", "after_id", "limit"), params))
    rows = await conn.execute_query_dict(_PAST_RETENTION_SQL.format(**marks), params)
    if not rows:
        return [], None
    last = rows[-1]
    last_at = last["updated_at"]
    if isinstance(last_at, str):  # SQLite hands back the stored text
        last_at = datetime.fromisoformat(last_at)
    return [int(r["id"]) for r in rows], (last_at, int(last["id"]))

"""Running engagement totals on the customer row: what the card's engagement section shows.

A summary must cost the same whatever the customer's history, in queries and in time, so order
count, lifetime value per currency, first and last order and CSAT are not aggregated on every read: they live
on `customer` (migration 0007) and `recompute` refreshes them for the customers whose orders or
surveys a write touched, reading the covering indexes of migration 0006. Every writer of orders
and surveys calls it inside its own transaction: `BulkWriter` (seeding, imports) and merge and
its undo (`storage.customer_admin`).

Recomputing from the rows, rather than adding deltas, keeps the totals right after moves and
deletes too. Money is summed in integer cents so that it is exact on SQLite as well.
"""

from __future__ import annotations

from typing import Iterable

from tortoise import connections

CHUNK = 500  # customers per UPDATE statement (SQLite allows 32,766 parameters; stay far below)

_LATEST_ORDER = "FROM customer_order o WHERE o.customer_id = customer.id ORDER BY o.placed_at DESC, o.id DESC LIMIT 1"
_ORDERS = "FROM customer_order o WHERE o.customer_id = customer.id"
_SURVEYS = "FROM survey s WHERE s.customer_id = customer.id"

# Plain SQL both databases run alike; `{where}` picks the customers (or none: all of them).
RECOMPUTE_SQL = f"""
UPDATE customer SET
  order_count = (SELECT COUNT(*) {_ORDERS}),
  order_total_cents = (SELECT COALESCE(SUM(CAST(ROUND(CAST(o.total AS NUMERIC) * 100) AS BIGINT)), 0) {_ORDERS}),
  first_order_at = (SELECT MIN(o.placed_at) {_ORDERS}),
  last_order_at = (SELECT MAX(o.placed_at) {_ORDERS}),
  last_order_number = (SELECT o.number {_LATEST_ORDER}),
  last_order_currency = (SELECT o.currency {_LATEST_ORDER}),
  order_totals = {{totals}},
  csat_points = (SELECT COALESCE(SUM(s.score), 0) {_SURVEYS}),
  csat_responses = (SELECT COUNT(*) {_SURVEYS})
{{where}}
"""

_CENTS = "SUM(CAST(ROUND(CAST(o.total AS NUMERIC) * 100) AS BIGINT))"
# Lifetime value per currency as a JSON object of cents; each database has its own JSON aggregate.
TOTALS_SQL = {
    "sqlite": f"(SELECT json_group_object(g.currency, g.cents) FROM (SELECT o.currency AS currency, {_CENTS} AS cents "
              f"{_ORDERS} GROUP BY o.currency ORDER BY o.currency) g)",
    "postgres": f"(SELECT json_object_agg(g.currency, g.cents ORDER BY g.currency) FROM (SELECT o.currency AS currency, "
                f"{_CENTS} AS cents {_ORDERS} GROUP BY o.currency) g)",
}


def recompute_sql(dialect: str, where: str) -> str:
    return RECOMPUTE_SQL.format(where=where, totals=TOTALS_SQL["postgres" if dialect == "postgres" else "sqlite"])


async def recompute(customer_ids: Iterable[int]) -> None:
    """Refresh the running totals of these customers from their orders and surveys.

    Inside `in_transaction()` this runs on the transaction, so the totals commit with the rows.
    """
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        return
    conn = connections.get("default")
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if conn.capabilities.dialect == "postgres":
            await conn.execute_query(recompute_sql("postgres", "WHERE id = ANY($1::int[])"), [chunk])
        else:
            marks = ",".join("?" * len(chunk))
            await conn.execute_query(recompute_sql("sqlite", f"WHERE id IN ({marks})"), chunk)

"""The delivery's hot statements keep one good plan, whatever the database knows about its tables.

PostgreSQL caches a generic plan per prepared statement and connection; one made while a table was young
(a new install, a benchmark's fresh database, before autovacuum's first ANALYZE) keeps its choice as the
table grows. Measured (issue 13): the sync's root lookup read `post_by_thread` by `target` alone and
filtered every post (2.3 ms a card), the route lookup filtered every route of the target (0.8 ms), and
the lease read every job ever had. These tests ask each database for the plan it would cache (on
PostgreSQL the generic plan, on empty tables: the worst case) and fail when a statement can read more
than its key.
"""

from __future__ import annotations

from datetime import datetime, timezone

from tortoise import connections

from storage import intake, outbox, posts, routes, summary
from storage.sql import for_dialect


def _literal(value) -> str:
    """A quoted literal PostgreSQL coerces to the prepared statement's parameter type."""
    if isinstance(value, list):
        value = "{" + ",".join(str(v) for v in value) + "}"
    elif isinstance(value, datetime):
        value = value.isoformat()
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"


async def _plan(sql: str, values: list) -> str:
    conn = connections.get("default")
    dialect = conn.capabilities.dialect
    if dialect == "sqlite":
        _, rows = await conn.execute_query(f"EXPLAIN QUERY PLAN {sql}", values)
        return "\n".join(str(row["detail"]) for row in rows)
    async with conn.acquire_connection() as raw:
        async with raw.transaction():  # PREPARE and the setting end with it
            await raw.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            # A test's tables are tiny, and once analyzed a scan of them is a fine plan; the question here
            # is which index can serve the statement, so scans are priced out.
            await raw.execute("SET LOCAL enable_seqscan = off")
            await raw.execute(f"PREPARE hot AS {for_dialect(sql, dialect)}")
            arguments = f"({', '.join(_literal(v) for v in values)})" if values else ""
            rows = await raw.fetch(f"EXPLAIN EXECUTE hot{arguments}")
            await raw.execute("DEALLOCATE hot")
    return "\n".join(row[0] for row in rows)


async def test_the_lease_reads_only_jobs_still_to_do_in_the_order_it_leases(database):
    dialect = connections.get("default").capabilities.dialect
    sql = outbox._lease_sql(dialect, 1, 1)
    now = datetime(2026, 12, 3, tzinfo=timezone.utc)
    values = [now, "owner.1", now, ["slack"], [0], 64] if dialect == "postgres" else [now, "owner.1", now, "slack", 0, 64]

    plan = await _plan(sql, values)

    assert "outbox_pending" in plan, plan
    assert "Seq Scan on outbox_job" not in plan and "SCAN outbox_job\n" not in plan + "\n", plan


async def test_a_syncs_first_read_finds_the_root_post_by_its_unique_key(database):
    plan = await _plan(summary.CONVERSATION_WITH_ROOT_SQL, ["slack", posts._root_item(7), 7])

    assert "post_by_thread" not in plan, plan
    assert "Seq Scan on platform_post" not in plan and "SCAN p\n" not in plan + "\n", plan
    if connections.get("default").capabilities.dialect == "postgres":
        assert "Index Cond: (((target)::text = $1) AND ((item)::text = $2))" in plan, plan
    else:
        assert "SEARCH p USING INDEX sqlite_autoindex_platform_post_1 (target=? AND item=?)" in plan, plan


async def test_the_route_lookup_reads_the_two_routes_by_their_whole_key(database):
    plan = await _plan(routes._ROUTES_SQL[1], ["slack", "billing", "slack", routes.DEFAULT_QUEUE])

    assert "Filter" not in plan and "Seq Scan" not in plan, plan
    if connections.get("default").capabilities.dialect == "postgres":
        assert plan.count("Index Cond: (((target)::text = $") == 2, plan
    else:
        assert plan.count("(target=? AND queue=?)") == 2, plan


async def test_intakes_returning_customer_lookup_reads_the_source_and_id_index(database):
    """Each group commit asks which of its (source, conversation id) pairs had a conversation before."""
    statement, values = intake.previous_conversations_sql({("webchat", "c-1"), ("dialogflow", "c-2"), ("webchat", "c-3")})

    plan = await _plan(statement, values)

    assert "conversation_by_source_id" in plan, plan
    assert "Seq Scan on conversation" not in plan and "SCAN conversation\n" not in plan + "\n", plan
    if connections.get("default").capabilities.dialect == "postgres":
        assert "Index Cond: (((source)::text = ANY" in plan, plan  # by the index's leading column

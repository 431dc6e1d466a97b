"""The engagement section reads running totals on the customer row (storage.engagement).

They must always equal what the customer's orders and surveys add up to: after writes that span
several flushes, after more orders arrive later, after a merge and its undo, and on a database
that already held orders when the totals were introduced (migration 0007).
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from bot.core import actions
from bot.core.services import Services
from bot.core.summary import summary_for_customer
from bot.domain import Actor
from bot.seed import add_customer, add_history
from bot.settings import Settings
from storage import db
from storage.seeding import BulkWriter, naive_summary_record
from storage.summary import load_summary

NOW = datetime(2026, 11, 22, 10, 5, tzinfo=timezone.utc)
DAY = timedelta(days=1)
ADMIN = Actor("slack", "U_ADMIN", "Sam Admin", role="admin")


def _services(at: datetime = NOW) -> Services:
    return Services(settings=Settings(), clock=lambda: at, targets=[])


async def _engagement(customer_id: int):
    return (await summary_for_customer(customer_id, now=NOW)).engagement


async def _stats(customer_id: int):
    """The engagement figures a summary reads (the running totals)."""
    return (await load_summary(customer_id=customer_id)).orders


async def _from_the_rows(customer_id: int):
    """What the customer's orders and surveys add up to, aggregated in Python from every row."""
    return (await naive_summary_record(customer_id)).orders


async def _orders(customer_id: int, *rows: tuple[int, str, str], currency: str = "USD") -> None:
    async with BulkWriter() as w:
        for days_ago, number, total in rows:
            w.add("order", customer_id=customer_id, number=number, total=Decimal(total), currency=currency,
                  placed_at=NOW - days_ago * DAY)


async def _surveys(customer_id: int, *scores: int) -> None:
    async with BulkWriter() as w:
        for age, score in enumerate(scores):
            w.add("survey", customer_id=customer_id, score=score, at=NOW - (age + 1) * DAY)


async def test_totals_equal_the_rows_for_a_generated_history(database):
    rng = random.Random(3)
    customers = [await add_customer(now=NOW, rng=rng) for _ in range(3)]
    for customer_id in customers:
        await add_history(customer_id, 400, now=NOW, rng=rng)

    for customer_id in customers:
        stats = await _stats(customer_id)
        assert stats == await _from_the_rows(customer_id)
        assert stats.count > 20 and stats.csat_responses > 5


async def test_totals_equal_the_rows_when_a_customers_orders_span_several_flushes(database):
    rng = random.Random(5)
    customers = [await add_customer(now=NOW, rng=rng) for _ in range(3)]
    async with BulkWriter(flush_rows=7) as w:  # a flush (its own transaction) every 7 rows
        for index in range(60):
            customer_id = customers[index % 3]
            w.add("order", customer_id=customer_id, number=f"SO-F{index}", total=Decimal(f"{index}.25"),
                  currency="USD", placed_at=NOW - (index + 1) * DAY)
            if index % 4 == 0:
                w.add("survey", customer_id=customer_id, score=index % 5 + 1, at=NOW - index * DAY)
            await w.maybe_flush()

    for customer_id in customers:
        stats = await _stats(customer_id)
        assert stats == await _from_the_rows(customer_id)
        assert stats.count == 20


async def test_a_later_order_moves_the_lifetime_value_and_the_last_order(database):
    customer_id = await add_customer(now=NOW, rng=random.Random(1))
    await _orders(customer_id, (40, "SO-1", "10.10"), (20, "SO-2", "20.20"))
    before = await _engagement(customer_id)

    await _orders(customer_id, (30, "SO-0", "0.05"), (1, "SO-3", "30.30"), currency="EUR")
    after = await _engagement(customer_id)

    assert (before.lifetime_values, before.order_count, before.last_order_number) == ((("USD", Decimal("30.30")),), 2, "SO-2")
    # Never USD plus EUR: each currency keeps its own lifetime value.
    assert after.lifetime_values == (("EUR", Decimal("30.35")), ("USD", Decimal("30.30")))
    assert (after.order_count, after.last_order_number, after.last_order_at) == (4, "SO-3", NOW - DAY)


async def test_many_small_amounts_add_up_to_the_cent(database):
    customer_id = await add_customer(now=NOW, rng=random.Random(2))
    await _orders(customer_id, *((i % 300 + 1, f"SO-{i}", "0.10") for i in range(1000)))

    assert (await _engagement(customer_id)).lifetime_values == (("USD", Decimal("100.00")),)


async def test_a_merge_moves_the_totals_to_the_survivor_and_its_undo_moves_them_back(database):
    rng = random.Random(4)
    survivor, merged = await add_customer(now=NOW, rng=rng), await add_customer(now=NOW, rng=rng)
    await _orders(survivor, (90, "SO-A1", "100.00"))
    await _surveys(survivor, 5)
    await _orders(merged, (10, "SO-B1", "25.50"), (300, "SO-B0", "4.50"))
    await _surveys(merged, 1, 3)

    await actions.merge_customers(_services(), ADMIN, survivor, merged)
    combined = await _engagement(survivor)

    assert (combined.lifetime_values, combined.order_count, combined.last_order_number) == ((("USD", Decimal("130.00")),), 3, "SO-B1")
    assert (combined.csat, combined.csat_responses) == (3.0, 3)
    assert await _stats(survivor) == await _from_the_rows(survivor)

    await actions.undo_merge(_services(NOW + timedelta(hours=1)), ADMIN, merged)

    assert (await _engagement(survivor)).lifetime_values == (("USD", Decimal("100.00")),)
    apart = await _engagement(merged)
    assert (apart.lifetime_values, apart.order_count, apart.csat_responses) == ((("USD", Decimal("30.00")),), 2, 2)
    assert await _stats(merged) == await _from_the_rows(merged)


async def _write_0006_rows(url: str) -> None:
    """A customer with orders and surveys, written the way a database at migration 0006 held them."""
    customer = (1, "Old Customer", "[]", False, "2024-01-01 00:00:00+00:00", "2024-01-01 00:00:00+00:00")
    orders = [(1, "SO-OLD-1", "12.34", "USD", "2024-02-01 00:00:00+00:00"),
              (1, "SO-OLD-2", "7.66", "USD", "2025-03-01 00:00:00+00:00")]
    surveys = [(1, 5, "2024-02-02 00:00:00+00:00"), (1, 4, "2025-03-02 00:00:00+00:00")]
    customer_sql = "INSERT INTO customer (id, display_name, tags, locked, created_at, updated_at) VALUES ({})"
    order_sql = "INSERT INTO customer_order (customer_id, number, total, currency, placed_at) VALUES ({})"
    survey_sql = "INSERT INTO survey (customer_id, score, at) VALUES ({})"
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            conn.execute(customer_sql.format("?, ?, ?, ?, ?, ?"), customer)
            conn.executemany(order_sql.format("?, ?, ?, ?, ?"), orders)
            conn.executemany(survey_sql.format("?, ?, ?"), surveys)
        return
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        parse = datetime.fromisoformat
        await conn.execute(customer_sql.format("$1, $2, $3, $4, $5, $6"), *customer[:4], parse(customer[4]), parse(customer[5]))
        await conn.executemany(order_sql.format("$1, $2, $3, $4, $5"),
                               [(c, n, Decimal(t), cur, parse(at)) for c, n, t, cur, at in orders])
        await conn.executemany(survey_sql.format("$1, $2, $3"), [(c, s, parse(at)) for c, s, at in surveys])
        await conn.execute("SELECT setval(pg_get_serial_sequence('customer', 'id'), 1)")
    finally:
        await conn.close()


async def test_upgrading_a_database_that_already_has_orders_fills_in_their_totals(empty_database_url):
    await db.apply_migrations(empty_database_url, target="baton.0006_engagement_indexes")
    await _write_0006_rows(empty_database_url)

    await db.connect(empty_database_url, migrate=True)
    try:
        engagement = await _engagement(1)
    finally:
        await db.disconnect()

    assert (engagement.lifetime_values, engagement.order_count) == ((("USD", Decimal("20.00")),), 2)
    assert (engagement.last_order_number, engagement.csat, engagement.csat_responses) == ("SO-OLD-2", 4.5, 2)
    assert engagement.last_order_at == datetime(2025, 3, 1, tzinfo=timezone.utc)

"""The page opens in the same bounded queries for 10 or 100,000 timeline entries (SPEC 4.4), and pages
through everything with keyset cursors: nothing repeated, nothing skipped."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from bot.core import page
from bot.core.services import Services
from bot.seed import add_customer, add_history
from bot.settings import Settings
from storage.models import Activity, Case, CaseComment, Conversation, Message
from storage.querycount import count_queries
from tests.page_helpers import SUE

NOW = datetime(2026, 11, 22, 10, 5, tzinfo=timezone.utc)


def _services() -> Services:
    return Services(settings=Settings(public_url="https://baton.example.com", link_secret="s"), clock=lambda: NOW)


async def _customer(activities: int, seed: int) -> int:
    customer_id = await add_customer(now=NOW, rng=random.Random(seed))
    await add_history(customer_id, activities, now=NOW, rng=random.Random(seed))
    return customer_id


async def _bulk_timeline(customer_id: int, entries: int) -> None:
    rows = [Activity(customer_id=customer_id, at=NOW - timedelta(minutes=i), category=("customer", "case", "conversation")[i % 3],
                     kind="email", title=f"entry {i}") for i in range(entries)]
    await Activity.bulk_create(rows, batch_size=2000)


async def _count(call) -> tuple[int, list]:
    async with count_queries() as counter:
        await call()
    return counter.count, counter.statements


async def test_opening_the_page_costs_the_same_queries_for_10_and_20000_entries(database):
    small = await _customer(10, seed=1)
    large = await _customer(1000, seed=2)
    await _bulk_timeline(large, 19_000)
    services = _services()

    small_count, small_sql = await _count(lambda: page.first_view(services, SUE, small))
    large_count, large_sql = await _count(lambda: page.first_view(services, SUE, large))

    assert small_count == large_count, (small_sql, large_sql)
    assert large_count <= 12
    assert all("OFFSET" not in sql.upper() for _, sql in large_sql)


async def test_a_later_timeline_page_costs_what_the_first_costs(database):
    large = await _customer(10, seed=3)
    await _bulk_timeline(large, 3000)
    services = _services()
    first = await page.more(services, SUE, large, "timeline", None)
    for _ in range(40):
        first = await page.more(services, SUE, large, "timeline", first["next"])

    count, sql = await _count(lambda: page.more(services, SUE, large, "timeline", first["next"]))

    assert count == 2, sql  # the customer (merged ids resolve) and one page


async def test_paging_the_timeline_reaches_every_entry_once_in_order_even_with_equal_times(database):
    customer_id = await _customer(0, seed=4)
    await Activity.bulk_create([Activity(customer_id=customer_id, at=NOW - timedelta(hours=i // 4), category="case",
                                         kind="note", title=f"e{i}") for i in range(103)])
    services = _services()

    seen, cursor = [], None
    while True:
        got = await page.more(services, SUE, customer_id, "timeline", cursor)
        seen += [item["title"] for item in got["items"]]
        cursor = got["next"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(f"e{i}" for i in range(103)) and len(seen) == 103
    times = [a.at for a in await Activity.filter(customer_id=customer_id).order_by("-at", "-id")]
    assert [t for t in times] == sorted(times, reverse=True)


async def test_the_filter_and_the_search_narrow_the_timeline(database):
    customer_id = await _customer(0, seed=5)
    await _bulk_timeline(customer_id, 300)
    services = _services()

    cases = await page.more(services, SUE, customer_id, "timeline", None, category="case")
    found = await page.more(services, SUE, customer_id, "timeline", None, text="entry 29")

    assert cases["items"] and {i["category"] for i in cases["items"]} == {"case"}
    assert {i["title"] for i in found["items"]} == {"entry 29", "entry 290", "entry 291", "entry 292", "entry 293", "entry 294",
                                                   "entry 295", "entry 296", "entry 297", "entry 298", "entry 299"}


async def test_a_conversations_messages_and_a_cases_comments_page_in_order(database):
    customer_id = await _customer(0, seed=6)
    conversation = await Conversation.create(source="t", external_id="m", customer_id=customer_id, channel="sms",
                                             last_activity_at=NOW, created_at=NOW)
    await Message.bulk_create([Message(conversation_id=conversation.id, sender="customer", sender_name="Dana", text=f"m{i}",
                                       at=NOW) for i in range(120)])
    case = await Case.create(number="CAS-77", customer_id=customer_id, title="Broken", created_at=NOW, updated_at=NOW)
    await CaseComment.create(case_id=case.id, author="Ana", text="refund approved", created_at=NOW)
    services = _services()

    first = await page.messages(services, SUE, customer_id, f"c{conversation.id}", None)
    second = await page.messages(services, SUE, customer_id, f"c{conversation.id}", first["next"])
    third = await page.messages(services, SUE, customer_id, f"c{conversation.id}", second["next"])
    comments = await page.comments(services, SUE, customer_id, "CAS-77", None)

    texts = [m["text"] for m in first["items"] + second["items"] + third["items"]]
    assert texts == [f"m{i}" for i in range(120)] and third["next"] is None
    assert first["items"][0]["name"] == "Dana" and first["conversation"]["channel"] == "sms"
    assert [c["text"] for c in comments["items"]] == ["refund approved"]


async def test_totals_are_per_currency(database):
    from decimal import Decimal

    from storage.models import Order

    customer_id = await _customer(0, seed=7)
    for number, total, currency in (("A", "10.50", "USD"), ("B", "4.50", "USD"), ("C", "7.00", "EUR")):
        await Order.create(customer_id=customer_id, number=number, total=Decimal(total), currency=currency, placed_at=NOW)

    view = await page.first_view(_services(), SUE, customer_id)

    assert view["totals"] == [{"currency": "EUR", "total": "7.00", "orders": 1}, {"currency": "USD", "total": "15.00", "orders": 2}]

"""A summary costs a fixed number of queries whatever the history, and each section reads right (SPEC 4.1)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from bot.core.intake import accept_handoff
from bot.core.summary import summary_for_customer
from bot.intake import parse_generic_handoff
from bot.seed import add_customer, add_history
from storage.querycount import count_queries
from storage.seeding import BulkWriter
from storage.summary import RECENT_CASES, load_summary
from tests.handoff_factory import make_generic_payload

NOW = datetime(2026, 11, 22, 10, 5, tzinfo=timezone.utc)
TOPICS = ("damaged", "refund", "late")


async def _customer(seed: int = 1) -> int:
    return await add_customer(now=NOW, rng=random.Random(seed))


async def _with_history(activities: int, seed: int) -> int:
    customer_id = await _customer(seed)
    await add_history(customer_id, activities, now=NOW, rng=random.Random(seed))
    return customer_id


async def _queries(call) -> tuple[int, list]:
    async with count_queries() as counter:
        await call()
    return counter.count, counter.statements


# --------------------------------------------------------------------------- bounded queries


async def test_load_summary_costs_the_same_queries_for_10_and_1000_activities(database):
    small = await _with_history(10, seed=1)
    large = await _with_history(1000, seed=2)

    small_count, small_sql = await _queries(lambda: load_summary(customer_id=small))
    large_count, large_sql = await _queries(lambda: load_summary(customer_id=large))

    assert small_count == large_count, (small_sql, large_sql)
    assert 0 < large_count <= 10


async def test_summary_for_customer_costs_the_same_queries_for_10_and_1000_activities(database):
    small = await _with_history(10, seed=3)
    large = await _with_history(1000, seed=4)

    small_count, _ = await _queries(lambda: summary_for_customer(small, now=NOW, topic_phrases=TOPICS))
    large_count, large_sql = await _queries(lambda: summary_for_customer(large, now=NOW, topic_phrases=TOPICS))

    assert small_count == large_count, large_sql


async def test_a_filtered_timeline_costs_the_same_queries_as_an_unfiltered_one(database):
    large = await _with_history(1000, seed=5)

    plain, _ = await _queries(lambda: load_summary(customer_id=large))
    filtered, _ = await _queries(lambda: load_summary(customer_id=large, timeline_filter="case"))

    assert filtered == plain


async def test_the_large_history_really_is_larger(database):
    """Guards the two tests above: the 1,000-entry customer has more orders, cases and surveys too."""
    customer_id = await _customer(6)
    report = await add_history(customer_id, 1000, now=NOW, rng=random.Random(6))

    assert report.activities == 1000
    assert report.orders > 100 and report.cases > 30 and report.surveys > 30 and report.conversations > 50


async def test_the_query_counter_sees_the_statements_of_a_transaction(database):
    """Intake stores a handoff in one transaction, on a client object other than the plain connection."""
    handoff = parse_generic_handoff(make_generic_payload())

    async with count_queries() as counter:
        await accept_handoff(handoff, targets=[], now=NOW)

    sql = [statement.upper() for _, statement in counter.statements]
    assert any(s.startswith("SELECT") and '"IDENTITY"' in s for s in sql)
    assert any(s.startswith("INSERT") and '"CONVERSATION"' in s for s in sql)
    assert any(s.startswith("INSERT") and '"MESSAGE"' in s for s in sql)


# --------------------------------------------------------------------------- known data, section by section


async def _known_history(customer_id: int) -> None:
    """Hand-written rows with known values, written through the seeding writer."""
    day = timedelta(days=1)
    async with BulkWriter() as w:
        for days, number, total in ((300, "SO-1", "19.99"), (100, "SO-2", "100.01"), (3, "SO-3", "250.00")):
            w.add("order", customer_id=customer_id, number=number, total=Decimal(total), currency="USD",
                  placed_at=NOW - days * day)
        for days, score in ((200, 5), (50, 2), (2, 4)):
            w.add("survey", customer_id=customer_id, score=score, at=NOW - days * day)
        for index in range(7):  # cases 0..6, case 6 the newest
            w.add("case", customer_id=customer_id, number=f"CAS-T{index}", title=f"Case {index}", priority="Normal",
                  status="active", created_at=NOW - (70 - 10 * index) * day, updated_at=NOW)
        categories = ("customer", "case", "conversation")
        for index in range(30):  # activity i happened i hours ago, so activity 0 is the newest
            w.add("activity", customer_id=customer_id, at=NOW - timedelta(hours=index),
                  category=categories[index % 3], kind="note", title=f"entry {index}")


async def _conversations(customer_id: int, texts: list[str], *, sentiment: float = -0.5) -> None:
    """Past conversations, oldest first in `texts`."""
    async with BulkWriter() as w:
        for age, text in enumerate(reversed(texts)):
            at = NOW - timedelta(days=age + 1)
            conversation_id = w.new_id("conversation")
            w.add("conversation", id=conversation_id, source="test", external_id=f"t-{conversation_id}",
                  customer_id=customer_id, status="wrapped", sentiment=sentiment, topic_text=text.lower(),
                  last_activity_at=at, created_at=at)


async def test_the_timeline_lists_the_newest_entries_first(database):
    customer_id = await _customer()
    await _known_history(customer_id)

    record = await load_summary(customer_id=customer_id)

    assert [entry.title for entry in record.timeline] == [f"entry {i}" for i in range(10)]
    assert all(a.at > b.at for a, b in zip(record.timeline, record.timeline[1:]))


async def test_the_timeline_filter_keeps_only_that_category(database):
    customer_id = await _customer()
    await _known_history(customer_id)

    summary = await summary_for_customer(customer_id, now=NOW, timeline_filter="case")

    assert {entry.category for entry in summary.timeline} == {"case"}
    assert [entry.title for entry in summary.timeline] == [f"entry {i}" for i in range(1, 30, 3)]
    assert summary.timeline_filter == "case"


async def test_recent_cases_are_the_five_newest(database):
    customer_id = await _customer()
    await _known_history(customer_id)

    summary = await summary_for_customer(customer_id, now=NOW)

    assert RECENT_CASES == 5
    assert [case.number for case in summary.recent_cases] == ["CAS-T6", "CAS-T5", "CAS-T4", "CAS-T3", "CAS-T2"]


async def test_engagement_sums_and_counts_orders_and_averages_csat(database):
    customer_id = await _customer()
    await _known_history(customer_id)

    engagement = (await summary_for_customer(customer_id, now=NOW)).engagement

    assert engagement.lifetime_values == (("USD", Decimal("370.00")),)
    assert engagement.order_count == 3
    assert engagement.last_order_number == "SO-3"
    assert engagement.last_order_at == NOW - timedelta(days=3)
    assert engagement.csat == 3.67  # (5 + 2 + 4) / 3, not truncated to 3
    assert engagement.csat_responses == 3
    assert engagement.orders_per_month == round(3 / (300 / 30.44), 2)


async def test_a_customer_without_orders_or_surveys_has_no_engagement(database):
    customer_id = await _customer()

    assert (await summary_for_customer(customer_id, now=NOW)).engagement is None


async def test_sentiment_is_hidden_with_fewer_than_two_prior_interactions(database):
    customer_id = await _customer()
    await _conversations(customer_id, ["my parcel arrived damaged"])

    assert (await summary_for_customer(customer_id, now=NOW, topic_phrases=TOPICS)).sentiment is None


async def test_sentiment_appears_with_two_prior_interactions(database):
    customer_id = await _customer()
    await _conversations(customer_id, ["my parcel arrived damaged", "still no refund"])

    sentiment = (await summary_for_customer(customer_id, now=NOW, topic_phrases=TOPICS)).sentiment

    assert sentiment is not None
    assert sentiment.interactions == 2
    assert sentiment.label == "negative"


async def test_a_topic_mentioned_in_3_of_the_last_6_interactions_shows_50_percent(database):
    customer_id = await _customer()
    await _conversations(customer_id, [
        "Hello, question about sizes",
        "The vase arrived DAMAGED",
        "where is my order, it is late",
        "second parcel damaged again",
        "please send a refund",
        "damaged box, chipped bowls",
    ])

    sentiment = (await summary_for_customer(customer_id, now=NOW, topic_phrases=TOPICS)).sentiment
    shares = {topic.phrase: topic for topic in sentiment.topics}

    assert sentiment.interactions == 6
    assert (shares["damaged"].mentions, shares["damaged"].percent) == (3, 50)
    assert (shares["refund"].mentions, shares["late"].mentions) == (1, 1)


async def test_topics_count_only_the_ten_most_recent_interactions(database):
    customer_id = await _customer()
    await _conversations(customer_id, ["damaged"] * 5 + ["all good, thanks"] * 10)

    sentiment = (await summary_for_customer(customer_id, now=NOW, topic_phrases=TOPICS)).sentiment

    assert sentiment.interactions == 10
    assert {t.phrase: t.mentions for t in sentiment.topics}["damaged"] == 0

"""Customer page open time (SPEC 4.4): a 10-entry customer against a 100,000-entry one with 1,000 conversations.

`python -m benchmarks.bench_page [--database sqlite|postgres|both] [--entries N] [--iterations N]`

For each customer it times `bot.core.page.first_view` (what `GET /customers/{id}` reads: the profile and the
first page of every list) and a timeline page deep in the history, and counts the SQL statements of each. The
baseline, measured in the same run on the same customers, is the naive page: load every timeline entry,
conversation, case, order, survey and note of the customer and cut the first page in Python.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone

from benchmarks.common import Latency, banner, table, temp_database
from bot.core import page
from bot.core.services import Services
from bot.domain import Actor
from bot.settings import Settings
from storage import db
from storage.models import Activity, Case, Conversation, Customer, Message, Note, Order, Survey
from storage.querycount import count_queries
from storage.seeding import analyze

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
VIEWER = Actor(platform="slack", user_id="BENCH", display_name="Bench", role="supervisor")
CATEGORIES = ("customer", "case", "conversation")


async def _customer(name: str, entries: int, conversations: int) -> int:
    customer = await Customer.create(display_name=name, created_at=NOW, updated_at=NOW)
    cid = customer.id
    await Activity.bulk_create([Activity(customer_id=cid, at=NOW - timedelta(seconds=i * 37), category=CATEGORIES[i % 3],
                                         kind="email", title=f"Entry {i}", detail="details of the entry")
                                for i in range(entries)], batch_size=5000)
    await Conversation.bulk_create([Conversation(source="bench", external_id=f"{name}-{i}", customer_id=cid, status="wrapped",
                                                 last_activity_at=NOW, created_at=NOW - timedelta(hours=i))
                                    for i in range(conversations)], batch_size=2000)
    ids = await Conversation.filter(customer_id=cid).values_list("id", flat=True)
    await Message.bulk_create([Message(conversation_id=c, sender="customer", text="hello", at=NOW) for c in ids for _ in range(3)],
                              batch_size=5000)
    await Case.bulk_create([Case(number=f"{name}-CAS-{i}", customer_id=cid, title="case", created_at=NOW, updated_at=NOW)
                            for i in range(max(1, entries // 100))], batch_size=2000)
    await Order.bulk_create([Order(customer_id=cid, number=f"SO-{i}", total="10.00", currency=("USD", "EUR")[i % 2],
                                   placed_at=NOW - timedelta(days=i)) for i in range(max(1, entries // 20))], batch_size=5000)
    await Survey.bulk_create([Survey(customer_id=cid, score=4, at=NOW) for _ in range(max(1, entries // 50))], batch_size=5000)
    await Note.bulk_create([Note(customer_id=cid, author="a", text="note", created_at=NOW) for _ in range(max(1, entries // 50))],
                           batch_size=5000)
    return cid


async def naive_page(customer_id: int) -> dict:
    """Load everything, then cut the first page: what a page without keyset queries would do."""
    lists = {
        "timeline": await Activity.filter(customer_id=customer_id).order_by("-at", "-id"),
        "conversations": await Conversation.filter(customer_id=customer_id).order_by("-created_at", "-id"),
        "cases": await Case.filter(customer_id=customer_id).order_by("-created_at", "-id"),
        "orders": await Order.filter(customer_id=customer_id).order_by("-placed_at", "-id"),
        "surveys": await Survey.filter(customer_id=customer_id).order_by("-at", "-id"),
        "notes": await Note.filter(customer_id=customer_id).order_by("-created_at", "-id"),
    }
    return {name: rows[:25] for name, rows in lists.items()}


async def _time(call, iterations: int) -> tuple[Latency, int]:
    await call()
    async with count_queries(keep_sql=False) as counter:
        await call()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return Latency.of(samples), counter.count


async def run(kind: str, entries: int, conversations: int, iterations: int) -> None:
    async with temp_database(kind) as url:
        await db.connect(url, migrate=True)
        try:
            started = time.perf_counter()
            small = await _customer("small", 10, 10)
            large = await _customer("large", entries, conversations)
            await analyze()
            setup = time.perf_counter() - started
            services = Services(settings=Settings(public_url="https://baton.example.com", link_secret="bench"), clock=lambda: NOW)
            deep = await page.more(services, VIEWER, large, "timeline", None)
            for _ in range(200):
                deep = await page.more(services, VIEWER, large, "timeline", deep["next"])
            rows = []
            for label, cid in (("10 entries", small), (f"{entries:,} entries", large)):
                latency, queries = await _time(lambda: page.first_view(services, VIEWER, cid), iterations)
                rows.append(("page open (keyset)", label, queries, latency.p50_ms, latency.p99_ms))
                naive_iterations = max(3, iterations // 20) if cid == large else iterations
                latency, queries = await _time(lambda: naive_page(cid), naive_iterations)
                rows.append(("baseline: load everything", label, queries, latency.p50_ms, latency.p99_ms))
            latency, queries = await _time(lambda: page.more(services, VIEWER, large, "timeline", deep["next"]), iterations)
            rows.append(("timeline page 202", f"{entries:,} entries", queries, latency.p50_ms, latency.p99_ms))
            print(banner(f"customer page on {kind} (setup {setup:.0f} s, {conversations:,} conversations on the large one)"))
            print(table(("approach", "customer", "queries", "p50 ms", "p99 ms"),
                        [(a, c, q, f"{p50:.1f}", f"{p99:.1f}") for a, c, q, p50, p99 in rows]))
        finally:
            await db.disconnect()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_page", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=1_000)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    for kind in (("sqlite", "postgres") if args.database == "both" else (args.database,)):
        asyncio.run(run(kind, args.entries, args.conversations, args.iterations))


if __name__ == "__main__":
    main()

"""Summary assembly: Baton's bounded queries against loading a customer's whole history.

In an already seeded database, one new customer gets 10 timeline entries and another 10,000 (with
the orders, cases, comments, conversations and surveys those entries describe). For each, the
benchmark times `storage.summary.load_summary` (the database reads) and
`bot.core.summary.summary_for_customer` (reads + building the card facts), and counts the SQL
statements each sends. The baseline, measured in the same run on the same customers, is the naive
approach: load every activity, order, case, conversation and survey of the customer, then sort and
aggregate in Python (`storage.seeding.naive_summary_record` + the same `build_summary`).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Awaitable, Callable

from benchmarks.common import Latency, table
from bot.core.summary import build_summary, summary_for_customer
from bot.seed import add_customer, add_history
from bot.settings import DEFAULT_TOPIC_PHRASES
from storage.querycount import count_queries
from storage.seeding import analyze, naive_summary_record
from storage.summary import load_summary

WARMUP = 5


@dataclass(frozen=True)
class Row:
    approach: str
    history: int
    queries: int
    latency: Latency


@dataclass(frozen=True)
class SummaryBench:
    rows: tuple[Row, ...]
    same_facts: bool
    setup_seconds: float

    def row(self, approach: str, history: int) -> Row:
        return next(r for r in self.rows if r.approach == approach and r.history == history)


@dataclass
class _Series:
    approach: str
    history: int
    call: Callable[[], Awaitable[object]]
    budget_seconds: float
    queries: int = 0
    spent: float = 0.0
    samples: list[float] = field(default_factory=list)


async def _measure(series: list[_Series], *, iterations: int) -> None:
    """Round-robin over the series, one call each per round, so that load from elsewhere on the
    machine falls on every series alike; a series stops at `iterations` calls or its time budget."""
    for s in series:
        for _ in range(WARMUP):
            await s.call()
        async with count_queries(keep_sql=False) as counter:
            await s.call()
        s.queries = counter.count
    for _ in range(iterations):
        active = [s for s in series if s.spent < s.budget_seconds]
        if not active:
            break
        for s in active:
            started = time.perf_counter()
            await s.call()
            elapsed = time.perf_counter() - started
            s.samples.append(elapsed)
            s.spent += elapsed


def _facts(summary) -> tuple:
    return (summary.timeline, summary.recent_cases, summary.engagement, summary.sentiment, summary.identities)


async def run(
    *,
    now: datetime,
    iterations: int = 200,
    small: int = 10,
    large: int = 10_000,
    baseline_budget_seconds: float = 8.0,
    seed: int = 11,
) -> SummaryBench:
    """Needs an open, seeded connection."""
    rng = random.Random(seed)
    started = time.perf_counter()
    customers = {}
    for size in (small, large):
        customer_id = await add_customer(now=now, rng=rng)
        await add_history(customer_id, size, now=now, rng=rng)
        customers[size] = customer_id
    await analyze(vacuum=True)
    setup_seconds = time.perf_counter() - started

    async def baton_summary(cid: int):
        return await summary_for_customer(cid, now=now, topic_phrases=DEFAULT_TOPIC_PHRASES)

    async def naive_summary(cid: int):
        record = await naive_summary_record(cid)
        return build_summary(record, now=now, topic_phrases=DEFAULT_TOPIC_PHRASES)

    same = True
    for cid in customers.values():
        same = same and _facts(await baton_summary(cid)) == _facts(await naive_summary(cid))

    def bind(function: Callable[[int], Awaitable[object]], cid: int) -> Callable[[], Awaitable[object]]:
        return lambda: function(cid)

    approaches: list[tuple[str, Callable[[int], Awaitable[object]], float]] = [
        ("Baton load_summary", lambda cid: load_summary(customer_id=cid), 60.0),
        ("Baton summary_for_customer", baton_summary, 60.0),
        ("baseline: load all + Python", naive_summary, baseline_budget_seconds),
    ]
    series = [
        _Series(name, size, bind(call, cid), budget)
        for name, call, budget in approaches
        for size, cid in customers.items()
    ]
    # The baseline on the large history allocates tens of thousands of objects per call; measured
    # interleaved with the rest, its garbage would be collected during their calls. It goes last, alone.
    heavy = [s for s in series if s.approach.startswith("baseline") and s.history == large]
    await _measure([s for s in series if s not in heavy], iterations=iterations)
    await _measure(heavy, iterations=iterations)
    rows = tuple(Row(s.approach, s.history, s.queries, Latency.of(s.samples)) for s in series)
    return SummaryBench(rows=rows, same_facts=same, setup_seconds=setup_seconds)


def report(result: SummaryBench, *, database: str) -> str:
    rows = [
        (r.approach, r.history, r.queries, r.latency.p50_ms, r.latency.p99_ms, r.latency.n) for r in result.rows
    ]
    lines = [table(("summary of a customer", "timeline", "queries", "p50 ms", "p99 ms", "runs"), rows)]
    sizes = sorted({r.history for r in result.rows})
    baton = [result.row("Baton summary_for_customer", s) for s in sizes]
    base = [result.row("baseline: load all + Python", s) for s in sizes]
    load = [result.row("Baton load_summary", s) for s in sizes]
    same_queries = len({r.queries for r in baton}) == 1 and len({r.queries for r in load}) == 1
    lines.append(
        f"queries per summary: {baton[0].queries} for {sizes[0]:,} entries and {baton[-1].queries} for "
        f"{sizes[-1]:,} ({'same' if same_queries else 'DIFFERENT'})"
    )
    lines.append(
        f"at {sizes[-1]:,} entries Baton p99 {baton[-1].latency.p99_ms:.2f} ms vs baseline p99 "
        f"{base[-1].latency.p99_ms:.2f} ms ({base[-1].latency.p50_ms / baton[-1].latency.p50_ms:,.0f}x faster at p50)"
    )
    if database == "sqlite":
        ok = baton[-1].latency.p99_ms < 10
        lines.append(f"target p99 < 10 ms on SQLite: {'met' if ok else 'NOT met'} ({baton[-1].latency.p99_ms:.2f} ms)")
    lines.append(f"Baton and baseline give the same facts: {'yes' if result.same_facts else 'NO'}")
    lines.append(f"(setup: two customers with {sizes[0]:,} and {sizes[-1]:,} entries written in {result.setup_seconds:.1f} s)")
    return "\n".join(lines)


if __name__ == "__main__":
    from benchmarks.run import main

    raise SystemExit(main(["--bench", "summary"]))

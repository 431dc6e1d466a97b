"""SQLite's one connection serves people's work before the outbox's syncs (storage.lanes)."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext

import pytest
from tortoise import connections

from storage import db, lanes
from storage.lanes import UrgentFirstLock


async def _queue(lock: UrgentFirstLock, name: str, order: list[str], *, urgent: bool) -> None:
    with lanes.urgent() if urgent else nullcontext():
        async with lock:
            order.append(name)
            await asyncio.sleep(0)


async def test_urgent_waiters_go_first_and_each_lane_keeps_its_order():
    lock = UrgentFirstLock()
    order: list[str] = []
    await lock.acquire()
    tasks = [asyncio.create_task(_queue(lock, f"bg{i}", order, urgent=False)) for i in range(3)]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(_queue(lock, f"fg{i}", order, urgent=True)) for i in range(2)]
    await asyncio.sleep(0)
    lock.release()
    await asyncio.gather(*tasks)

    assert order == ["fg0", "fg1", "bg0", "bg1", "bg2"]
    assert not lock.locked()


async def test_a_waiter_cancelled_while_waiting_or_just_as_it_was_handed_the_lock_does_not_keep_it():
    lock = UrgentFirstLock()
    order: list[str] = []
    await lock.acquire()
    waiting = asyncio.create_task(_queue(lock, "cancelled", order, urgent=True))
    handed = asyncio.create_task(_queue(lock, "handed", order, urgent=True))
    after = asyncio.create_task(_queue(lock, "after", order, urgent=False))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.sleep(0)
    lock.release()  # goes to `handed` …
    handed.cancel()  # … which is cancelled before it runs: the lock must pass on to `after`
    await asyncio.gather(waiting, handed, after, return_exceptions=True)

    assert order == ["after"]
    assert not lock.locked()


async def test_an_agents_statement_runs_before_the_syncs_queued_ahead_of_it(database):
    """Through Tortoise, as Baton runs: 60 statements queue on the connection, then an agent's comes
    (urgent); it is served after at most the one already running."""
    if db.dialect() != "sqlite":
        pytest.skip("PostgreSQL has a pool of connections; the lanes are SQLite's")
    client = connections.get("default")
    done: list[str] = []

    async def statement(name: str) -> None:
        await client.execute_query("SELECT count(*) FROM conversation")
        done.append(name)

    syncs = [asyncio.create_task(statement(f"sync{i}")) for i in range(60)]
    await asyncio.sleep(0)  # they are all queued on the lock now
    with lanes.urgent():
        await statement("agent")
    await asyncio.gather(*syncs)

    assert done.index("agent") <= 2, done[:10]

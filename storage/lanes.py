"""Two lanes to SQLite's one connection: an agent waiting on a click goes before the queue.

On SQLite every statement and transaction of the process takes turns on one connection, behind one
lock. Under load intake and the outbox's syncs keep that lock's queue full, and an agent's `!note` waited
behind all of it for each of its statements, then its card edit's sync did the same: 0.4–0.8 s, the
card edit p99 of issue 13. Work done inside `urgent()` — what an agent's click, command or thread
message does (bot.core.interactions), and the sync of the card edit it asked for (the outbox job
carries the urgency: `outbox.AGENT_WAITING`) — waits in the first lane; everything else in the second,
first come first served as before. The lock passes to the first lane's next waiter whenever there is
one: a statement already running finishes, then the agent's goes. Agents' actions are few (a handful a
second on a busy floor), so the second lane is never starved.

An earlier cut put every request ahead of the outbox: intake then ran a transaction per handoff instead
of a group commit per batch, and delivery fell behind (SQLite, 100/s: handoff → card p50 5.3 s). Only
agents' work is urgent.

PostgreSQL has a pool of connections and row locks, and needs neither lane.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

_urgent: ContextVar[bool] = ContextVar("baton_db_urgent", default=False)


@contextmanager
def urgent() -> Iterator[None]:
    """Statements run in here (and in tasks started from here) go before the rest."""
    token = _urgent.set(True)
    try:
        yield
    finally:
        _urgent.reset(token)


def is_urgent() -> bool:
    return _urgent.get()


class UrgentFirstLock:
    """An `asyncio.Lock` (acquire/release/locked) whose waiters inside `urgent()` are served first;
    within a lane, first come first served. Release hands the lock straight to the next waiter."""

    def __init__(self) -> None:
        self._locked = False
        self._urgent: deque[asyncio.Future] = deque()
        self._rest: deque[asyncio.Future] = deque()

    def locked(self) -> bool:
        return self._locked

    async def acquire(self) -> bool:
        if not self._locked and not self._urgent and not self._rest:
            self._locked = True
            return True
        lane = self._urgent if _urgent.get() else self._rest
        waiter = asyncio.get_running_loop().create_future()
        lane.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # it was handed the lock just as it was cancelled: pass it on
            elif waiter in lane:  # (a release may have dropped it already)
                lane.remove(waiter)
            raise
        return True

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("Lock is not acquired.")
        for lane in (self._urgent, self._rest):
            while lane:
                waiter = lane.popleft()
                if not waiter.done():
                    waiter.set_result(True)  # still locked: the waiter owns it now
                    return
        self._locked = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc) -> None:
        self.release()

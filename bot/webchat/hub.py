"""Wakes the visitors' open event streams when something new is in their conversation's stream.

In this process the writer says so at once (`notify`). Another process (a worker relaying an agent's reply
on the same PostgreSQL) is heard by one short poll for the whole process, not one per visitor: it reads
the ids of new events and wakes only the streams of their conversations. Events commit out of id order
now and then, so the poll looks back over a window of ids and remembers the ones it has seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Awaitable, Callable

log = logging.getLogger(__name__)

LOOKBACK_IDS = 500


class EventHub:
    def __init__(self, recent: Callable[[int], Awaitable[list[tuple[int, int]]]],
                 newest: Callable[[], Awaitable[int]], *, poll_seconds: float) -> None:
        self._recent = recent
        self._newest = newest
        self.poll_seconds = poll_seconds
        self._waiters: dict[int, set[asyncio.Event]] = defaultdict(set)
        self._seen: set[int] = set()
        self._high = 0
        self._task: asyncio.Task | None = None
        self._stopping = False

    # --- streams ------------------------------------------------------------------------------------

    def subscribe(self, conversation_id: int) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters[conversation_id].add(event)
        return event

    def unsubscribe(self, conversation_id: int, event: asyncio.Event) -> None:
        waiters = self._waiters.get(conversation_id)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                del self._waiters[conversation_id]

    @property
    def closing(self) -> bool:
        return self._stopping

    async def close_streams(self, app=None) -> None:
        """The server is shutting down: every open stream ends now (they would hold the shutdown up)."""
        self._stopping = True
        for waiters in list(self._waiters.values()):
            for event in waiters:
                event.set()

    def notify(self, conversation_id: int) -> None:
        for event in self._waiters.get(conversation_id, ()):
            event.set()

    @property
    def streams(self) -> int:
        return sum(len(w) for w in self._waiters.values())

    # --- the process-wide poll ----------------------------------------------------------------------

    async def start(self) -> None:
        self._high = await self._newest()
        self._task = asyncio.create_task(self._run(), name="baton-webchat-hub")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def poll_once(self) -> None:
        rows = await self._recent(max(0, self._high - LOOKBACK_IDS))
        for event_id, conversation_id in rows:
            if event_id in self._seen:
                continue
            self._seen.add(event_id)
            self._high = max(self._high, event_id)
            self.notify(conversation_id)
        floor = self._high - LOOKBACK_IDS
        self._seen = {i for i in self._seen if i > floor}

    async def _run(self) -> None:
        while not self._stopping:
            try:
                if self._waiters:
                    await self.poll_once()
                else:  # nobody listens: only keep up with the newest id
                    self._high = max(self._high, await self._newest())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("web chat event poll failed; retrying", exc_info=True)
            await asyncio.sleep(self.poll_seconds)

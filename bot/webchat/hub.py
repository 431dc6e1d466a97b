"""Wakes the visitors' open event streams when something new is in their conversation's stream.

A stream waits on an `asyncio.Event` filed under its conversation; waking one conversation is a dict
lookup, whatever the number of streams open, and an idle stream costs nothing but its keepalive.

- In this process the writer says so at once (`notify`, after its commit).
- Other processes (a worker relaying an agent's reply on the same PostgreSQL) are heard through one
  connection per process that LISTENs to `baton_webchat`: `storage.webchat.add_event` sends the
  conversation id with NOTIFY in the event's own transaction, so it arrives on commit, once. Nothing is
  polled. If that connection drops (or fails its check every `CHECK_SECONDS`), the hub connects again and
  wakes every stream once: each reads from its own cursor, so nothing written meanwhile is missed.
- Where there is no LISTEN (SQLite), one short poll for the whole process reads the ids of new events
  and wakes only the streams of their conversations. SQLite commits ids in order, so the poll reads
  `id > newest seen`; where ids may commit out of order (PostgreSQL without LISTEN), it looks back over a
  window of ids and remembers the ones it has seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any, Awaitable, Callable

log = logging.getLogger(__name__)

LOOKBACK_IDS = 500
CHECK_SECONDS = 30.0  # the LISTEN connection's round trip, to notice a silently lost connection
RECONNECT_SECONDS = 1.0


class EventHub:
    def __init__(self, recent: Callable[[int], Awaitable[list[tuple[int, int]]]],
                 newest: Callable[[], Awaitable[int]], *, poll_seconds: float,
                 listen: Callable[[Callable[[int], None], Callable[[], None]], Awaitable[Any]] | None = None,
                 in_order: Callable[[], bool] = lambda: False) -> None:
        self._recent = recent
        self._newest = newest
        self._listen = listen
        self._in_order = in_order
        self.poll_seconds = poll_seconds
        self.lookback = LOOKBACK_IDS
        self._waiters: dict[int, set[asyncio.Event]] = defaultdict(set)
        self._seen: set[int] = set()
        self._high = 0
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._lost = asyncio.Event()
        self.listening = False  # a LISTEN connection is up (else the poll runs)

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
        self.wake_all()

    def notify(self, conversation_id: int) -> None:
        waiters = self._waiters.get(conversation_id)
        if waiters:
            log.debug("web chat: waking %d stream(s) of conversation %s", len(waiters), conversation_id)
            for event in waiters:
                event.set()

    def wake_all(self) -> None:
        for waiters in list(self._waiters.values()):
            for event in waiters:
                event.set()

    @property
    def streams(self) -> int:
        return sum(len(w) for w in self._waiters.values())

    # --- hearing other processes --------------------------------------------------------------------

    async def start(self) -> None:
        self._high = await self._newest()
        if self._in_order():
            self.lookback = 0
        self._task = asyncio.create_task(self._run(), name="baton-webchat-hub")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            listener = None
            self._lost.clear()
            if self._listen is not None:
                try:
                    listener = await self._listen(self.notify, self._lost.set)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.warning("web chat: cannot LISTEN for other processes' events; polling meanwhile", exc_info=True)
                    await self._poll_for(RECONNECT_SECONDS * 5)
                    continue
            if listener is None:  # no LISTEN here (SQLite): poll for good
                await self._poll_for(None)
                return
            try:
                await self._listen_until_lost(listener)
            finally:
                self.listening = False
                await listener.close()
            if not self._stopping:
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_until_lost(self, listener: Any) -> None:
        self.listening = True
        self.wake_all()  # whatever committed while nobody listened (none at the start: no streams yet)
        log.debug("web chat: listening for other processes' events")
        while not self._stopping:
            try:
                await asyncio.wait_for(self._lost.wait(), CHECK_SECONDS)
            except asyncio.TimeoutError:
                try:
                    await listener.check(timeout=10)
                    continue
                except asyncio.CancelledError:
                    raise
                except Exception:
                    pass
            log.warning("web chat: the LISTEN connection was lost; connecting again")
            return

    # --- the process-wide poll (no LISTEN) ----------------------------------------------------------

    async def poll_once(self) -> None:
        rows = await self._recent(max(0, self._high - self.lookback))
        for event_id, conversation_id in rows:
            if event_id in self._seen:
                continue
            self._seen.add(event_id)
            self._high = max(self._high, event_id)
            self.notify(conversation_id)
        floor = self._high - self.lookback
        self._seen = {i for i in self._seen if i > floor}

    async def _poll_for(self, seconds: float | None) -> None:
        loop = asyncio.get_running_loop()
        until = None if seconds is None else loop.time() + seconds
        while not self._stopping and (until is None or loop.time() < until):
            try:
                if self._waiters:
                    await self.poll_once()
                else:  # nobody listens: only keep up with the newest id
                    self._high = max(self._high, await self._newest())
                    self._seen.clear()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("web chat event poll failed; retrying", exc_info=True)
            await asyncio.sleep(self.poll_seconds)

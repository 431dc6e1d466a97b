"""The outbox worker: leases due jobs, runs the thread sync, retries with backoff and Retry-After.

Many syncs run at once (`CONCURRENCY`), one per conversation and target: most of a sync's time is spent
waiting for a platform (its answer, or a channel's pacing), so a slow channel holds up only its own
threads. New work is leased as soon as a slot frees (no batch barrier). While syncs run, one statement
per `outbox.RENEW_EVERY` renews every lease this process holds; a sync whose lease was lost (this
process stalled past `outbox.LEASE` and another took the job) is stopped before it posts again.

Root cards and card edits come first: jobs are leased card work first (`outbox.lease_due`), and a sync
whose post finds its channel without a posting slot is put back (`Paced`, `outbox.defer`; a transcript
behind every job with card work) instead of sleeping in a worker slot that a card or an edit could use.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Mapping

from bot.clock import Clock, utc_now
from bot.core import routing
from bot.delivery.poster import DeliveryTarget, GiveUp, Paced, RetryLater, ThreadPoster, Unroutable
from bot.delivery.sync import ThreadSyncTarget
from bot.metrics import Metrics
from bot.settings import Settings
from storage import lanes, outbox

log = logging.getLogger(__name__)

BATCH = 64
CONCURRENCY = 256
MAX_BACKOFF_SECONDS = 300.0
UNROUTABLE_RETRY_SECONDS = 60.0


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, never sooner than the platform's Retry-After."""
    exponential = min(MAX_BACKOFF_SECONDS, 2.0 ** max(0, attempts))
    delay = exponential * random.uniform(0.5, 1.0)
    return max(delay, retry_after or 0.0)


class OutboxWorker:
    def __init__(
        self,
        posters: Mapping[str, "ThreadPoster | DeliveryTarget"],
        settings: Settings,
        *,
        clock: Clock = utc_now,
        metrics: Metrics | None = None,
    ) -> None:
        # Thread posters (Slack, Teams, record) get the shared thread sync; others sync themselves.
        self.posters = {name: ThreadSyncTarget.wrap(p) for name, p in posters.items()}
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.owner = f"{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._urgent_lease = False  # an agent's action woke the worker: lease in the urgent lane
        self._stopping = False
        self._limit = asyncio.Semaphore(CONCURRENCY)
        self._inflight: dict[int, asyncio.Task] = {}  # job id -> its running sync
        self._renewer: asyncio.Task | None = None
        # Jobs put back for their channel's pace: (event-loop time their slot comes, their available_at).
        self._paced: dict[int, tuple[float, datetime]] = {}
        # Set by create_app once the services exist: the core decides what an unroutable handoff means.
        self.services = None

    @property
    def targets(self) -> list[str]:
        return list(self.posters)

    def wake(self) -> None:
        """Called after a commit that queued work, so the card moves within a second. Called from an
        agent's action (`lanes.urgent()`), the next lease goes before the queue too (SQLite)."""
        self._urgent_lease = self._urgent_lease or lanes.is_urgent()
        self._wake.set()

    async def run(self) -> None:
        self._start_renewing()
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    handled = await self._dispatch()
                except Exception:  # a database blip must not kill the worker; it retries next tick
                    log.exception("outbox pass failed")
                    handled = 0
                if handled:
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.outbox_poll_seconds)
                except asyncio.TimeoutError:
                    pass
            if self._inflight:  # a graceful stop lets running syncs finish (the app bounds the wait)
                await asyncio.wait(list(self._inflight.values()))
        finally:
            self._stop_renewing()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _dispatch(self) -> int:
        """Lease as many due jobs as there are free slots and start their syncs; returns how many started."""
        free = CONCURRENCY - len(self._inflight)
        if not self.posters or free <= 0:
            return 0  # a finishing sync sets the wake-up
        now = self.clock()
        loop_now = asyncio.get_running_loop().time()
        for job_id, (slot_at, available_at) in list(self._paced.items()):
            if slot_at <= loop_now:
                # A channel's pace runs in real time: once the slot came, the job is due whatever the
                # app's clock says (the same moment in production; a test's clock may stand still).
                now = max(now, available_at)
                del self._paced[job_id]
        urgent, self._urgent_lease = self._urgent_lease, False
        with lanes.urgent() if urgent else nullcontext():
            leases = await outbox.lease_due(self.owner, now=now, limit=min(BATCH, free), targets=self.targets,
                                            skip=frozenset(self._inflight))
        for lease in leases:
            task = asyncio.create_task(self._process(lease), name=f"baton-sync-{lease.job_id}")
            self._inflight[lease.job_id] = task
            task.add_done_callback(lambda _, job=lease.job_id: self._finished(job))
        return len(leases)

    def _finished(self, job_id: int) -> None:
        self._inflight.pop(job_id, None)
        self._wake.set()  # a free slot, and the job may be due again (work requested during its sync)

    async def run_once(self) -> int:
        """One batch, synced to the end (tests, `drain`)."""
        if not self.posters:
            return 0
        leases = await outbox.lease_due(self.owner, now=self.clock(), limit=BATCH, targets=self.targets)
        own_renewer = self._renewer is None
        if own_renewer and leases:
            self._start_renewing()
        try:
            tasks = [asyncio.create_task(self._process(lease)) for lease in leases]
            for lease, task in zip(leases, tasks):
                self._inflight[lease.job_id] = task
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for lease in leases:
                self._inflight.pop(lease.job_id, None)
            if own_renewer:
                self._stop_renewing()
        return len(leases)

    # --- leases ---------------------------------------------------------------------------------

    def _start_renewing(self) -> None:
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew_loop(), name="baton-outbox-leases")

    def _stop_renewing(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None

    async def _renew_loop(self) -> None:
        renewer = outbox.LeaseRenewer()  # its own connection: never queued behind the syncs' queries
        try:
            while True:
                await asyncio.sleep(outbox.RENEW_EVERY.total_seconds())  # the heartbeat's period
                await self._renew(renewer)
        finally:
            await renewer.close()

    async def _renew(self, renewer: outbox.LeaseRenewer) -> None:
        running = list(self._inflight)
        try:
            held = await renewer.renew_all(self.owner, running, now=self.clock())
            taken = await renewer.taken(self.owner, [job_id for job_id in running if job_id not in held])
        except Exception:  # the database is away: keep syncing; the next beat tries again
            log.warning("outbox lease renewal failed", exc_info=True)
            return
        for job_id in taken:
            task = self._inflight.get(job_id)
            if task is not None and not task.done():
                # Another process owns it now: stop before this one posts what that one posts.
                log.warning("lease on outbox job %s was lost; its sync stops here", job_id)
                task.cancel()

    async def drain(self, max_passes: int = 100) -> None:
        """Process until nothing is due (tests, the demo, benchmarks)."""
        for _ in range(max_passes):
            if not await self.run_once():
                return

    async def _process(self, lease: outbox.Lease) -> None:
        # A card edit an agent's action asked for: its statements go before the queue (SQLite, storage.lanes).
        with lanes.urgent() if lease.urgent else nullcontext():
            await self._sync(lease)

    async def _sync(self, lease: outbox.Lease) -> None:
        async with self._limit:
            target = self.posters[lease.target]

            async def keep_alive() -> None:
                """The renewer keeps the lease; this is where a long sync yields to the others."""
                await asyncio.sleep(0)

            try:
                await target.sync(lease.conversation_id, settings=self.settings, now=self.clock(), keep_alive=keep_alive,
                                  lease=lease)
            except Paced as paced:  # a post waits for its channel's slot (not a failure)
                now = self.clock()
                await outbox.defer(lease, self.owner, now=now, delay=paced.seconds, card=paced.card)
                self._count(lease.target, "paced")
                loop = asyncio.get_running_loop()
                self._paced[lease.job_id] = (loop.time() + paced.seconds, now + timedelta(seconds=paced.seconds))
                loop.call_later(paced.seconds, self._wake.set)
                return
            except RetryLater as wait:
                delay = backoff_seconds(lease.attempts, wait.seconds)
                await outbox.retry_later(lease, self.owner, now=self.clock(), delay=delay, error=wait.reason)
                self._count(lease.target, "retry")
                log.info("delivery to %s for conversation %s delayed %.1fs: %s", lease.target, lease.conversation_id, delay, wait.reason)
                return
            except GiveUp as refused:  # for good: retrying cannot help, so the job ends (the target said why)
                log.warning("delivery to %s for conversation %s given up: %s", lease.target, lease.conversation_id,
                            refused.reason)
                await outbox.complete(lease, self.owner)
                self._count(lease.target, "given_up")
                return
            except Unroutable as no_route:
                await outbox.retry_later(
                    lease, self.owner, now=self.clock(), delay=UNROUTABLE_RETRY_SECONDS, error=str(no_route),
                    unless_new_work=True,
                )
                self._count(lease.target, "unroutable")
                log.warning("conversation %s has no %s channel: %s", lease.conversation_id, lease.target, no_route)
                if self.services is not None:
                    await routing.cannot_route(self.services, lease.conversation_id)
                return
            except Exception as error:  # unknown failure: keep the work, back off, and say so in the log
                delay = backoff_seconds(lease.attempts + 1)
                alive = await outbox.retry_later(
                    lease, self.owner, now=self.clock(), delay=delay, error=type(error).__name__
                )
                self._count(lease.target, "error" if alive else "dead")
                log.exception("delivery to %s for conversation %s failed", lease.target, lease.conversation_id)
                return
            await outbox.complete(lease, self.owner)
            self._count(lease.target, "ok")

    def _count(self, target: str, outcome: str) -> None:
        if self.metrics:
            self.metrics.deliveries.labels(target=target, outcome=outcome).inc()

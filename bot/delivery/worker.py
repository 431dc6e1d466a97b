"""The outbox worker: leases due jobs, runs the thread sync, retries with backoff and Retry-After."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from typing import Mapping

from bot.clock import Clock, utc_now
from bot.core import routing
from bot.delivery.poster import DeliveryTarget, GiveUp, RetryLater, ThreadPoster, Unroutable
from bot.delivery.sync import ThreadSyncTarget
from bot.metrics import Metrics
from bot.settings import Settings
from storage import outbox

log = logging.getLogger(__name__)

BATCH = 16
CONCURRENCY = 8
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
        self._stopping = False
        self._limit = asyncio.Semaphore(CONCURRENCY)
        # Set by create_app once the services exist: the core decides what an unroutable handoff means.
        self.services = None

    @property
    def targets(self) -> list[str]:
        return list(self.posters)

    def wake(self) -> None:
        """Called after a commit that queued work, so the card moves within a second."""
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            # Cleared before the pass, not after: a wake() from a commit that lands while this pass runs
            # stays set, so that work is picked up at once instead of after the next poll.
            self._wake.clear()
            try:
                handled = await self.run_once()
            except Exception:  # a database blip must not kill the worker; it retries next tick
                log.exception("outbox pass failed")
                handled = 0
            if handled:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.outbox_poll_seconds)
            except asyncio.TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run_once(self) -> int:
        if not self.posters:
            return 0
        leases = await outbox.lease_due(self.owner, now=self.clock(), limit=BATCH, targets=self.targets)
        await asyncio.gather(*(self._process(lease) for lease in leases))
        return len(leases)

    async def drain(self, max_passes: int = 100) -> None:
        """Process until nothing is due (tests, the demo, benchmarks)."""
        for _ in range(max_passes):
            if not await self.run_once():
                return

    async def _process(self, lease: outbox.Lease) -> None:
        async with self._limit:
            target = self.posters[lease.target]

            async def keep_alive() -> None:
                await outbox.renew(lease, self.owner, now=self.clock())

            try:
                await target.sync(lease.conversation_id, settings=self.settings, now=self.clock(), keep_alive=keep_alive)
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

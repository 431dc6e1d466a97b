"""APScheduler (UTC) running the SPEC 5 timers inside `baton serve`."""

from __future__ import annotations

import logging
from datetime import timezone
from typing import AsyncIterator

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import timers
from bot.core.services import Services

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30


def scheduler_ctx(services: Services):
    async def run_scheduler(app: web.Application) -> AsyncIterator[None]:
        scheduler = _scheduler(services)
        scheduler.start()
        yield
        scheduler.shutdown(wait=False)

    return run_scheduler


def _scheduler(services: Services) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=timezone.utc)

    async def guarded(sweep, name: str) -> None:
        try:
            await sweep(services)
        except Exception:  # a failed sweep is retried next tick; it must not stop the scheduler
            log.exception("timer sweep %s failed", name)

    scheduler.add_job(guarded, "interval", seconds=SWEEP_SECONDS, args=[timers.sweep_unclaimed, "unclaimed"],
                      id="unclaimed", coalesce=True, max_instances=1)
    scheduler.add_job(guarded, "interval", seconds=SWEEP_SECONDS, args=[timers.sweep_idle, "idle"],
                      id="idle", coalesce=True, max_instances=1)
    scheduler.add_job(guarded, "interval", hours=24, args=[timers.sweep_retention, "retention"],
                      id="retention", coalesce=True, max_instances=1)
    scheduler.add_job(guarded, "interval", hours=1, args=[timers.sweep_event_ids, "event ids"],
                      id="event_ids", coalesce=True, max_instances=1)
    return scheduler

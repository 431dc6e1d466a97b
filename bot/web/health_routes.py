"""Liveness, readiness (database reachable) and Prometheus metrics."""

from __future__ import annotations

from aiohttp import web

from bot.web.app import METRICS, json_error
from storage import db, outbox


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if not await db.ping():
        return json_error(503, "not_ready", "The database is not reachable.")
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[METRICS]
    if await db.ping():
        for target, count in (await outbox.pending_counts()).items():
            registry.outbox_pending.labels(target=target).set(count)
        registry.outbox_dead.set(await outbox.dead_count())
    return web.Response(body=registry.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)

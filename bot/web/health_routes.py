"""Liveness, readiness (database reachable) and Prometheus metrics."""

from __future__ import annotations

from aiohttp import web

from bot.core import health
from bot.core.services import Services
from bot.web.http import json_error


def setup(app: web.Application, services: Services) -> None:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        if not await health.database_reachable():
            return json_error(503, "not_ready", "The database is not reachable.")
        return web.json_response({"status": "ready"})

    async def metrics(request: web.Request) -> web.Response:
        registry = services.metrics
        if await health.database_reachable():
            pending, dead = await health.delivery_backlog()
            for target, count in pending.items():
                registry.outbox_pending.labels(target=target).set(count)
            registry.outbox_dead.set(dead)
        return web.Response(body=registry.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)

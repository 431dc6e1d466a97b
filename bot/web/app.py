"""The composition root `baton serve` runs: it builds the services once, hands them to every edge, and
owns the lifecycles (database, outbox worker, scheduler, platform clients).

Nothing in Baton imports this module but the CLI (and the tests); edges receive what they need."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, AsyncIterator, Mapping

from aiohttp import web

from bot import email, sms
from bot.clock import Clock, utc_now
from bot.core.intake import IntakeBatcher
from bot.core.services import Services
from bot.delivery.poster import ThreadPoster
from bot.delivery.source import SourceRelay
from bot.delivery.webhook import WebhookChannel
from bot.delivery.worker import OutboxWorker
from bot.errors import ApiError
from bot.metrics import Metrics
from bot.settings import Settings
from bot.web import files_routes, handoff_routes, health_routes, page_routes
from bot.web.http import json_error
from bot.web.scheduler import scheduler_ctx
from storage import db

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
WORKER = web.AppKey("worker", OutboxWorker)
POSTERS = web.AppKey("posters", dict)

_STATUS_CODES = {400: "malformed", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                 409: "conflict", 413: "body_too_large", 415: "unsupported_media_type", 422: "invalid_field",
                 429: "rate_limited", 503: "not_ready"}


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource else "unmatched"


def _error_middleware(services: Services):
    @web.middleware
    async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
        """Every error answer is JSON and no stack trace ever reaches a caller (SPEC §2)."""
        started = time.perf_counter()
        try:
            return await handler(request)
        except ApiError as error:
            return web.json_response(error.body(), status=error.status, headers=error.headers or None)
        except web.HTTPRequestEntityTooLarge:
            limit = services.settings.max_body_bytes
            return json_error(413, "body_too_large", f"The request body is larger than {limit} bytes.")
        except web.HTTPException as http:
            if http.status < 400:
                raise
            code = _STATUS_CODES.get(http.status, "error")
            return json_error(http.status, code, http.reason or code)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The route's pattern, not the path: paths carry tokens (file links) that are not for logs.
            log.exception("unhandled error on %s %s", request.method, _route_name(request))
            return json_error(500, "internal", "Something went wrong on our side; the request was not completed.")
        finally:
            if services.metrics is not None:
                services.metrics.request_seconds.labels(route=_route_name(request)).observe(time.perf_counter() - started)

    return error_middleware


def _database_ctx(settings: Settings):
    async def database(app: web.Application) -> AsyncIterator[None]:
        await db.connect(settings.database_url, migrate=True)
        yield
        await db.disconnect()

    return database


def _worker_ctx(worker: OutboxWorker):
    async def run_worker(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(worker.run(), name="baton-outbox")
        yield
        worker.stop()
        await asyncio.wait([task], timeout=5)
        task.cancel()

    return run_worker


def _close_posters(posters: Mapping[str, Any]):
    async def close_posters(app: web.Application) -> AsyncIterator[None]:
        yield
        for poster in posters.values():
            close = getattr(poster, "close", None)
            if close is not None:
                await close()

    return close_posters


def create_app(
    settings: Settings,
    *,
    posters: Mapping[str, ThreadPoster] | None = None,
    clock: Clock = utc_now,
    run_worker: bool = True,
    manage_database: bool = True,
) -> web.Application:
    """Build the app. `posters` maps delivery targets to their platform posters (default: from settings)."""
    metrics = Metrics()
    posters = dict(posters) if posters is not None else build_posters(settings)
    # Replies and statuses back to where the customer is; always on, a no-op without a way back.
    customer_channels: list[Any] = [WebhookChannel(webhook_secret=settings.webhook_secret)]
    posters.setdefault("source", SourceRelay(customer_channels))
    worker = OutboxWorker(posters, settings, clock=clock, metrics=metrics)
    services = Services(
        settings=settings,
        clock=clock,
        targets=worker.targets,
        wake=worker.wake,
        metrics=metrics,
        intake=IntakeBatcher(worker.targets),
        file_sources={name: p for name, p in posters.items() if hasattr(p, "open_file")},
        customer_channels=customer_channels,
    )
    worker.services = services
    for poster in posters.values():  # posters built before the services learn the settings in force
        bind = getattr(poster, "bind", None)
        if bind is not None:
            bind(services)

    app = web.Application(middlewares=[_error_middleware(services)], client_max_size=settings.max_body_bytes)
    app[SERVICES] = services
    app[WORKER] = worker
    app[POSTERS] = posters
    if manage_database:
        app.cleanup_ctx.append(_database_ctx(settings))
    app.cleanup_ctx.append(_close_posters(posters))
    if run_worker:
        app.cleanup_ctx.append(_worker_ctx(worker))
        app.cleanup_ctx.append(scheduler_ctx(services))

    handoff_routes.setup(app, services)
    health_routes.setup(app, services)
    files_routes.setup(app, services)
    sms.setup(app, services)
    email.setup(app, services)
    if settings.webchat_enabled:
        from bot import webchat  # noqa: PLC0415

        webchat.setup(app, services)
    page_routes.setup(app, services)
    if settings.slack_enabled:
        from bot import slack  # noqa: PLC0415 (only imported when Slack is configured)

        slack.setup(app, services, poster=posters.get("slack"))
    if settings.teams_enabled:
        from bot import teams  # noqa: PLC0415

        teams.setup(app, services, poster=posters.get("teams"))
    return app


def services_of(app: web.Application) -> Services:
    """The services an app was built with (for the CLI, the demo and tests)."""
    return app[SERVICES]


def build_posters(settings: Settings) -> dict:
    """The delivery targets this configuration enables; says once which surfaces are off."""
    posters: dict = {}
    if settings.slack_enabled:
        from bot.slack.poster import SlackPoster  # noqa: PLC0415

        posters["slack"] = SlackPoster.from_settings(settings)
    else:
        log.info("Slack is off: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (or SLACK_APP_TOKEN) to turn it on")
    if settings.teams_enabled:
        from bot.teams.poster import TeamsPoster  # noqa: PLC0415

        posters["teams"] = TeamsPoster.from_settings(settings)
    else:
        log.info("Teams is off: set MicrosoftAppId and MicrosoftAppPassword (or BATON_TEAMS_DEV=1 locally)")
    if not posters:
        from bot.delivery.recording import RecordingPoster  # noqa: PLC0415

        log.info("No chat platform configured: cards are rendered and kept in the database (target 'record')")
        posters["record"] = RecordingPoster()
    if not settings.handoff_auth_configured:
        log.info("POST /handoff is off: set BATON_WEBHOOK_SECRET or BATON_WEBHOOK_TOKEN")
    return posters

"""The aiohttp application `baton serve` runs: routes, middlewares, and the lifecycles it owns."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, AsyncIterator, Callable, Mapping

from aiohttp import web

from bot.clock import Clock, utc_now
from bot.core.intake import IntakeBatcher
from bot.delivery.poster import ThreadPoster
from bot.delivery.source import SourceRelay
from bot.delivery.worker import OutboxWorker
from bot.errors import ApiError
from bot.metrics import Metrics
from bot.settings import Settings
from storage import db

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
CLOCK = web.AppKey("clock", Callable)
WORKER = web.AppKey("worker", OutboxWorker)
POSTERS = web.AppKey("posters", dict)
INTAKE = web.AppKey("intake", IntakeBatcher)


def json_error(status: int, code: str, detail: str, field: str | None = None) -> web.Response:
    return web.json_response(ApiError(status, code, detail, field).body(), status=status)


_STATUS_CODES = {400: "malformed", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                 409: "conflict", 413: "body_too_large", 415: "unsupported_media_type", 422: "invalid_field",
                 429: "rate_limited", 503: "not_ready"}


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource else "unmatched"


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Every error answer is JSON and no stack trace ever reaches a caller (SPEC §2)."""
    started = time.perf_counter()
    try:
        return await handler(request)
    except ApiError as error:
        return web.json_response(error.body(), status=error.status)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[SETTINGS].max_body_bytes
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
        request.app[METRICS].request_seconds.labels(route=_route_name(request)).observe(time.perf_counter() - started)


async def read_body(request: web.Request) -> bytes:
    limit = request.app[SETTINGS].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "body_too_large", f"The request body is larger than {limit} bytes.")
    return await request.read()


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "malformed", "The body is not UTF-8 text.") from None
    except (ValueError, RecursionError) as error:
        raise ApiError(400, "malformed", f"The body is not valid JSON ({type(error).__name__}).") from None


def _database_ctx(settings: Settings):
    async def database(app: web.Application) -> AsyncIterator[None]:
        await db.connect(settings.database_url, migrate=True)
        yield
        await db.disconnect()

    return database


async def _worker_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[WORKER].run(), name="baton-outbox")
    yield
    app[WORKER].stop()
    await asyncio.wait([task], timeout=5)
    task.cancel()


async def _close_posters(app: web.Application) -> AsyncIterator[None]:
    yield
    for poster in app[POSTERS].values():
        close = getattr(poster, "close", None)
        if close is not None:
            await close()


def create_app(
    settings: Settings,
    *,
    posters: Mapping[str, ThreadPoster] | None = None,
    clock: Clock = utc_now,
    run_worker: bool = True,
    manage_database: bool = True,
) -> web.Application:
    """Build the app. `posters` maps delivery targets to their platform posters."""
    from bot.web import files_routes, handoff_routes, health_routes

    app = web.Application(middlewares=[error_middleware], client_max_size=settings.max_body_bytes)
    metrics = Metrics()
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[CLOCK] = clock
    app[POSTERS] = dict(posters) if posters is not None else build_posters(settings)
    # Replies and handoff.status back to where the customer is; always on, a no-op without a reply channel.
    app[POSTERS].setdefault("source", SourceRelay(webhook_secret=settings.webhook_secret))
    app[WORKER] = OutboxWorker(app[POSTERS], settings, clock=clock, metrics=metrics)
    app[INTAKE] = IntakeBatcher(app[WORKER].targets)

    if manage_database:
        app.cleanup_ctx.append(_database_ctx(settings))
    app.cleanup_ctx.append(_close_posters)
    if run_worker:
        from bot.web.scheduler import scheduler_ctx

        app.cleanup_ctx.append(_worker_ctx)
        app.cleanup_ctx.append(scheduler_ctx)

    handoff_routes.setup(app)
    health_routes.setup(app)
    files_routes.setup(app)
    if settings.slack_enabled:
        from bot import slack  # noqa: PLC0415 (only imported when Slack is configured)

        slack.setup(app)
    if settings.teams_enabled:
        from bot import teams  # noqa: PLC0415

        teams.setup(app)
    return app


def services_of(app: web.Application):
    """The core's view of this app: settings, clock, delivery targets and the worker's wake-up."""
    from bot.core.actions import Services

    worker = app[WORKER]
    return Services(settings=app[SETTINGS], clock=app[CLOCK], targets=worker.targets, wake=worker.wake)


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

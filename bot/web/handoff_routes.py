"""`POST /handoff` and `POST /handoff/dialogflow`: signed JSON handoffs into the one intake path."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable

from aiohttp import web

from bot.core.services import Services
from bot.domain import Handoff
from bot.errors import ApiError
from bot.intake.dialogflow import parse_dialogflow_handoff
from bot.intake.generic import answer_of, parse_generic_handoff
from bot.signing import verify
from bot.web.http import parse_json, read_body

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 255


async def _receive(services: Services, request: web.Request, parse: Callable[[object], Handoff],
                   source_format: str) -> web.Response:
    settings, metrics = services.settings, services.metrics
    if not settings.handoff_auth_configured:
        raise ApiError(503, "not_configured", "Set BATON_WEBHOOK_SECRET or BATON_WEBHOOK_TOKEN to accept handoffs.")
    body = await read_body(request, settings.max_body_bytes)
    try:
        verify(
            request.headers,
            body,
            secret=settings.webhook_secret,
            token=settings.webhook_token,
            now=services.clock().timestamp(),
        )
        handoff = replace(parse(parse_json(body)), idempotency_key=idempotency_key(request.headers))
    except ApiError as error:
        metrics.handoffs.labels(source_format=source_format, outcome=error.code).inc()
        raise
    result = await services.intake.accept(handoff, now=services.clock())
    services.wake()
    metrics.handoffs.labels(source_format=source_format, outcome="created" if result.created else "replayed").inc()
    log.info(
        "handoff %s from %s: conversation %s (%s)",
        "stored" if result.created else "replayed",
        source_format,
        result.conversation_public_id,
        f"{result.appended_lines} new lines" if not result.created else handoff.kind,
    )
    return web.json_response(answer_of(result), status=202 if result.created else 200)


def idempotency_key(headers) -> str | None:
    """SPEC 3.1: `Idempotency-Key` (at most 255 characters, per source) makes a request exactly repeatable."""
    key = headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ApiError(400, "invalid_idempotency_key",
                       f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters.", field="Idempotency-Key")
    return key


def setup(app: web.Application, services: Services) -> None:
    async def generic_handoff(request: web.Request) -> web.Response:
        return await _receive(services, request, parse_generic_handoff, "generic")

    async def dialogflow_handoff(request: web.Request) -> web.Response:
        return await _receive(services, request, parse_dialogflow_handoff, "dialogflow")

    app.router.add_post("/handoff", generic_handoff)
    app.router.add_post("/handoff/dialogflow", dialogflow_handoff)

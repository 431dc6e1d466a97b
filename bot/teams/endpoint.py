"""`POST /api/messages`: authenticate with botbuilder's CloudAdapter, hand the activity to the bot,
answer fast (invoke bodies synchronously; everything slow happens after the answer)."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from jwt import InvalidTokenError

from bot.errors import ApiError
from bot.teams.bot import TeamsBot
from bot.web.http import parse_json, read_body

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def _error(status: int, code: str, detail: str) -> web.Response:
    return web.json_response(ApiError(status, code, detail).body(), status=status)


def messages_handler(adapter: CloudAdapter, bot: TeamsBot, *, dev: bool, max_body: int):
    async def messages(request: web.Request) -> web.StreamResponse:
        if dev and request.remote not in LOOPBACK:
            return _error(401, "unauthorized", "Without Bot Framework credentials only loopback peers may call "
                                               "/api/messages (BATON_TEAMS_DEV).")
        if "application/json" not in (request.headers.get("Content-Type") or ""):
            return _error(415, "unsupported_media_type", "Send the activity as application/json.")
        body = parse_json(await read_body(request, max_body))
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _error(400, "malformed", "The body is not a Bot Framework activity.")
        activity = Activity().deserialize(body)
        outcome: dict[str, Any] = {}

        async def turn(_context) -> None:
            outcome["answer"] = await bot.on_activity(body)

        try:
            authenticated = await adapter.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization", "")
            )
        except (PermissionError, InvalidTokenError):
            return _error(401, "unauthorized", "The request does not carry a valid Bot Framework token.")
        except Exception:  # e.g. the OpenID metadata could not be fetched: not the caller's fault
            log.exception("teams: could not validate a request's token")
            return _error(503, "not_ready", "The Bot Framework token cannot be validated right now.")
        await adapter.process_activity(authenticated, activity, turn)
        status, answer = outcome.get("answer", (200, None))
        if answer is None:
            return web.Response(status=status)
        return web.Response(status=status, text=json.dumps(answer), content_type="application/json")

    return messages

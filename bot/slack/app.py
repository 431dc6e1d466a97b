"""Slack transport: the bolt AsyncApp on Baton's aiohttp app (HTTP at /slack/events, OAuth install) and Socket Mode.

Only translates: aiohttp request → bolt request (bolt checks Slack's signature) → bolt response → aiohttp
response, with error answers in Baton's JSON shape. The listeners live in bot.slack.handlers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import AsyncIterator

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.services import Services
from bot.settings import Settings
from bot.slack.handlers import SlackHandlers
from bot.slack.installation_store import DatabaseInstallationStore, DatabaseOAuthStateStore
from bot.web.http import json_error, read_body

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# Exactly the bot scopes manifest.json asks for (a test holds the two together).
BOT_SCOPES: tuple[str, ...] = (
    "app_mentions:read",
    "channels:history",
    "chat:write",
    "chat:write.customize",
    "commands",
    "files:read",
    "files:write",
    "groups:history",
    "im:history",
    "im:write",
    "links:read",  # link_shared: a customer-page link pasted in a channel (SPEC 4.4)
    "links:write",  # chat.unfurl
    "users:read",
)
SOCKET_RETRY_MAX_SECONDS = 60.0

BOLT = web.AppKey("slack_bolt", AsyncApp)


def oauth_enabled(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


def build_bolt(settings: Settings, clock) -> AsyncApp:
    """The bolt app: one bot token, or installations from OAuth (several workspaces) when a client id is set."""
    common = dict(
        signing_secret=settings.slack_signing_secret or "",  # without it no HTTP route is mounted (Socket Mode only)
        process_before_response=False,  # ack first; listeners go on after the HTTP answer
        request_verification_enabled=True,
        name="baton",
    )
    if oauth_enabled(settings):
        store = DatabaseInstallationStore(settings.slack_client_id, clock=clock)
        redirect_uri = f"{settings.public_url.rstrip('/')}{REDIRECT_PATH}" if settings.public_url else None
        oauth = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            scopes=list(BOT_SCOPES),
            redirect_uri=redirect_uri,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=store,
            state_store=DatabaseOAuthStateStore(clock=clock),
        )
        client = AsyncWebClient(base_url=settings.slack_api_url)
        return AsyncApp(client=client, oauth_settings=oauth, installation_store=store, **common)
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    return AsyncApp(client=client, **common)


_ERROR_CODES = {401: ("bad_signature", "The Slack request signature is missing, wrong or outside the 5-minute window."),
                404: ("not_found", "Baton does not handle this Slack request."),
                400: ("malformed", "The Slack request could not be read.")}


def to_aiohttp_response(bolt_response: BoltResponse) -> web.Response:
    """Bolt's answer as aiohttp's; error answers take Baton's JSON shape (SPEC §2)."""
    if bolt_response.status >= 400 and bolt_response.status != 429:
        code, detail = _ERROR_CODES.get(bolt_response.status, ("error", "Slack request failed."))
        return json_error(bolt_response.status, code, detail)
    headers = {k: v for k, v in bolt_response.first_headers_without_set_cookie().items() if k.lower() != "content-type"}
    content_type = (bolt_response.headers.get("content-type") or ["text/plain"])[0]
    content_type = re.sub(r";\s*charset=utf-8", "", content_type)
    response = web.Response(status=bolt_response.status, body=bolt_response.body, headers=headers, content_type=content_type)
    for cookie in bolt_response.cookies():
        for name, morsel in cookie.items():
            response.set_cookie(name=name, value=morsel.value, max_age=morsel.get("max-age") or None,
                                expires=morsel.get("expires") or None, path=morsel.get("path") or "/",
                                secure=True, httponly=True)
    return response


async def _bolt_request(request: web.Request, limit: int) -> AsyncBoltRequest:
    body = await read_body(request, limit)
    return AsyncBoltRequest(body=body.decode("utf-8", errors="replace"), query=request.query_string,
                            headers={k: v for k, v in request.headers.items()})


def _events_handler(bolt: AsyncApp, limit: int):
    async def slack_events(request: web.Request) -> web.Response:
        return to_aiohttp_response(await bolt.async_dispatch(await _bolt_request(request, limit)))

    return slack_events


def _oauth_handlers(bolt: AsyncApp, limit: int):
    flow = bolt.oauth_flow

    async def install(request: web.Request) -> web.Response:
        return to_aiohttp_response(await flow.handle_installation(await _bolt_request(request, limit)))

    async def redirect(request: web.Request) -> web.Response:
        return to_aiohttp_response(await flow.handle_callback(await _bolt_request(request, limit)))

    return install, redirect


def _socket_mode_ctx(bolt: AsyncApp, app_token: str):
    async def socket_mode(app: web.Application) -> AsyncIterator[None]:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(bolt, app_token=app_token)

        async def connect() -> None:
            delay = 1.0
            while True:
                try:
                    await handler.connect_async()
                    log.info("Slack Socket Mode connected")
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # Slack unreachable: keep serving HTTP, try again
                    log.warning("Slack Socket Mode connection failed (%s); retrying in %.0fs", type(error).__name__, delay)
                    await asyncio.sleep(delay)
                    delay = min(SOCKET_RETRY_MAX_SECONDS, delay * 2)

        task = asyncio.create_task(connect(), name="baton-slack-socket-mode")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await handler.close_async()

    return socket_mode


def setup(app: web.Application, services: Services, poster=None) -> None:
    """Mount Slack on Baton's app: /slack/events, OAuth install routes, Socket Mode; each only when configured."""
    settings = services.settings
    bolt = build_bolt(settings, services.clock)
    SlackHandlers(services).register(bolt)
    app[BOLT] = bolt
    limit = settings.max_body_bytes
    if settings.slack_signing_secret:
        app.router.add_post(EVENTS_PATH, _events_handler(bolt, limit))
    else:
        log.info("Slack HTTP endpoint %s is off: no SLACK_SIGNING_SECRET (Socket Mode only)", EVENTS_PATH)
    if bolt.oauth_flow is not None:
        install, redirect = _oauth_handlers(bolt, limit)
        app.router.add_get(INSTALL_PATH, install)
        app.router.add_get(REDIRECT_PATH, redirect)
    if settings.slack_app_token:
        app.cleanup_ctx.append(_socket_mode_ctx(bolt, settings.slack_app_token))
    log.info(
        "Slack is on: %s%s%s",
        f"HTTP at {EVENTS_PATH}" if settings.slack_signing_secret else "no HTTP endpoint",
        ", Socket Mode" if settings.slack_app_token else "",
        f", OAuth install at {INSTALL_PATH}" if bolt.oauth_flow is not None else ", one workspace (SLACK_BOT_TOKEN)",
    )

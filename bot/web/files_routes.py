"""`GET /files/{token}`: an agent's file, streamed to the customer through a signed, expiring link.

The token (bot/links.py) names the agent's message and the file's place in it; Baton looks the file up
there, fetches it from the platform it was shared on with its own credentials and streams it on. Only
links Baton signed are served, and only from the platforms' own file hosts (`files.fetchable`), without
following redirects, so the route is no open proxy and the bot's token goes nowhere else. Files are
sent as downloads (inline only for plain image types) with `nosniff` and a sandboxing CSP, so a shared
HTML or SVG file can never run as a page on Baton's origin.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot.core.services import Services
from bot.delivery.files import CUSTOMER_FILE_CLAIM, FILE_CLAIM, FILES_PATH, customer_file, fetchable, shared_file
from bot.delivery.poster import Unroutable
from bot.errors import ApiError, unauthorized
from bot.links import unseal

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 100 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
MAX_ID = 2**31 - 1  # message ids are INT columns
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
GONE_UPSTREAM = frozenset({401, 403, 404, 410})


def _gone() -> ApiError:
    return ApiError(404, "not_found", "The file is no longer available.")


def _unavailable() -> ApiError:
    return ApiError(503, "unavailable", "The file cannot be fetched right now; try again in a minute.")


def _disposition(name: str, inline: bool) -> str:
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name) or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _file_claims(claims: dict[str, Any]) -> tuple[int, int]:
    """(message id, attachment index) of a file link; anything else Baton might sign is refused."""
    message_id, index = claims.get("m"), claims.get("i")
    valid = (
        claims.get("k") == FILE_CLAIM
        and all(type(v) is int for v in (message_id, index))
        and 0 < message_id <= MAX_ID
        and 0 <= index < 1000
    )
    if not valid:
        raise unauthorized("This link is not one Baton made.")
    return message_id, index


async def serve_file(services: Services, request: web.Request) -> web.StreamResponse:
    settings = services.settings
    if not settings.file_links_on:
        raise ApiError(404, "not_found", "This Baton does not serve files (BATON_PUBLIC_URL or BATON_LINK_SECRET is not set).")
    claims = unseal(settings.link_secret, request.match_info["token"], now=time.time())
    if claims.get("k") == CUSTOMER_FILE_CLAIM:
        return await _serve_customer_file(claims)
    message_id, index = _file_claims(claims)
    found = await shared_file(message_id, index)
    if found is None:
        raise _gone()
    platform, attachment = found
    source = services.file_sources.get(platform)
    if source is None or not hasattr(source, "open_file") or not fetchable(platform, attachment.get("url"), settings):
        raise _gone()
    try:
        return await _stream(request, source, attachment, platform)
    except Unroutable:  # the Slack workspace uninstalled Baton since
        raise _gone() from None
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        log.warning("fetching a %s file for message %s failed: %s", platform, message_id, type(error).__name__)
        raise _unavailable() from None


async def _serve_customer_file(claims: dict[str, Any]) -> web.Response:
    """A customer's own upload, from Baton's database, for agents on a platform that shows it as a link."""
    conversation_id, file_id = claims.get("c"), claims.get("f")
    if not all(type(v) is int and 0 < v <= MAX_ID for v in (conversation_id, file_id)):
        raise unauthorized("This link is not one Baton made.")
    stored = await customer_file(conversation_id, file_id)
    if stored is None:
        raise _gone()
    file = stored.file
    inline = file.content_type in INLINE_TYPES
    return web.Response(body=file.data, headers={
        "Content-Type": file.content_type if inline else "application/octet-stream",
        "Content-Disposition": _disposition(file.name, inline),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    })


async def _stream(request: web.Request, source, attachment: dict[str, Any], platform: str) -> web.StreamResponse:
    async with source.open_file(attachment["url"], team=attachment.get("team")) as upstream:
        if upstream.status in GONE_UPSTREAM:
            raise _gone()
        upstream_type = (upstream.content_type or "").lower()
        expected = (attachment.get("content_type") or "application/octet-stream").split(";")[0].strip().lower()
        if upstream.status >= 300 or (upstream_type == "text/html" and expected != "text/html"):
            # A redirect (not followed: it could lead anywhere) or a sign-in page instead of the file,
            # which is what Slack answers when the workspace has not granted files:read yet.
            log.warning("the %s file host answered %s (%s) instead of the file", platform, upstream.status, upstream_type)
            raise _unavailable()
        if (upstream.content_length or 0) > MAX_FILE_BYTES:
            raise ApiError(413, "too_large", "The file is larger than Baton passes on.")
        inline = expected in INLINE_TYPES
        response = web.StreamResponse(headers={
            "Content-Type": expected if inline else "application/octet-stream",
            "Content-Disposition": _disposition(str(attachment.get("name") or "file"), inline),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        })
        if upstream.content_length is not None:
            response.content_length = upstream.content_length
        await response.prepare(request)
        # From here on the status line is sent: a failure can only cut the download short, never
        # become a JSON error inside the file.
        sent = 0
        try:
            async for chunk in upstream.content.iter_chunked(CHUNK_BYTES):
                sent += len(chunk)
                if sent > MAX_FILE_BYTES:
                    raise ConnectionAbortedError("larger than allowed")
                await response.write(chunk)
            await response.write_eof()
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as error:
            log.warning("a %s file download stopped after %s bytes: %s", platform, sent, type(error).__name__)
            if request.transport is not None:
                request.transport.close()
        return response


def setup(app: web.Application, services: Services) -> None:
    async def file_route(request: web.Request) -> web.StreamResponse:
        return await serve_file(services, request)

    app.router.add_get(FILES_PATH + "{token}", file_route)

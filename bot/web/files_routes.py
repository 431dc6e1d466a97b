"""`GET /files/{token}`: an agent's file, streamed to the customer through a signed, expiring link.

The token (bot/links.py) names the agent's message and the file's place in it; Baton looks the file up
there, fetches it from the platform it was shared on with its own credentials and streams it on. Only links Baton signed are served, so this is no
open proxy. Files are sent as downloads (inline only for plain image types) with `nosniff` and a
sandboxing CSP, so a shared HTML or SVG file can never run as a page on Baton's origin.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot.delivery.files import FILES_PATH
from bot.delivery.poster import Unroutable
from bot.errors import ApiError
from bot.links import unseal
from bot.web.app import POSTERS, SETTINGS
from storage import relay

MAX_FILE_BYTES = 100 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
GONE_UPSTREAM = frozenset({401, 403, 404, 410})


def _disposition(name: str, inline: bool) -> str:
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name) or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


async def serve_file(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    secret = settings.link_signing_secret
    if not settings.file_links_on or not secret:
        raise ApiError(404, "not_found", "This Baton does not serve files (BATON_PUBLIC_URL is not set).")
    claims = unseal(secret, request.match_info["token"], now=time.time())
    found = await relay.shared_file(int(claims.get("m", 0)), int(claims.get("i", -1)))
    source = request.app[POSTERS].get(found[0]) if found else None
    if found is None or source is None or not hasattr(source, "open_file") or not found[1].get("url"):
        raise ApiError(404, "not_found", "The file is no longer available.")
    try:
        return await _stream(request, source, found[1])
    except Unroutable:  # the Slack workspace uninstalled Baton since
        raise ApiError(404, "not_found", "The file is no longer available.") from None
    except (aiohttp.ClientError, asyncio.TimeoutError):
        raise ApiError(503, "unavailable", "The file cannot be fetched right now; try again in a minute.") from None


async def _stream(request: web.Request, source, attachment: dict) -> web.StreamResponse:
    async with source.open_file(attachment["url"], team=attachment.get("team")) as upstream:
        if upstream.status in GONE_UPSTREAM:
            raise ApiError(404, "not_found", "The file is no longer available.")
        if upstream.status >= 400:
            raise ApiError(503, "unavailable", "The file cannot be fetched right now; try again in a minute.")
        if (upstream.content_length or 0) > MAX_FILE_BYTES:
            raise ApiError(413, "too_large", "The file is larger than Baton passes on.")
        content_type = (attachment.get("content_type") or upstream.content_type or "application/octet-stream").split(";")[0].strip()
        inline = content_type in INLINE_TYPES
        response = web.StreamResponse(headers={
            "Content-Type": content_type if inline else "application/octet-stream",
            "Content-Disposition": _disposition(str(attachment.get("name") or "file"), inline),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        })
        if upstream.content_length is not None:
            response.content_length = upstream.content_length
        await response.prepare(request)
        sent = 0
        async for chunk in upstream.content.iter_chunked(CHUNK_BYTES):
            sent += len(chunk)
            if sent > MAX_FILE_BYTES:  # no Content-Length given and more than allowed: cut it off
                if request.transport is not None:
                    request.transport.close()
                return response
            await response.write(chunk)
        await response.write_eof()
        return response


def setup(app: web.Application) -> None:
    app.router.add_get(FILES_PATH + "{token}", serve_file)

"""HTTP helpers every edge shares: bounded body reading, JSON parsing and Baton's JSON error answers (SPEC §2).

A bottom module: it imports nothing of Baton's but its errors, so every route module can use it.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.errors import ApiError

DEFAULT_MAX_BODY = 1024 * 1024


def json_error(status: int, code: str, detail: str, field: str | None = None) -> web.Response:
    return web.json_response(ApiError(status, code, detail, field).body(), status=status)


async def read_body(request: web.Request, limit: int = DEFAULT_MAX_BODY) -> bytes:
    """The raw body, refused with 413 before reading when it says it is larger than `limit`."""
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


def client_ip(request: web.Request, trusted_proxies: tuple = ()) -> str | None:
    """The caller's address: the connection's, or — only when the connection comes from a trusted proxy
    (BATON_TRUSTED_PROXIES) — the nearest X-Forwarded-For hop that is not itself a trusted proxy."""
    import ipaddress

    def trusted(address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").strip())
        except ValueError:
            return False
        return any(ip in network for network in trusted_proxies)

    remote = request.remote
    if not trusted_proxies or not trusted(remote):
        return remote
    hops = [hop.strip() for header in request.headers.getall("X-Forwarded-For", []) for hop in header.split(",")]
    for hop in reversed([h for h in hops if h]):
        if not trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a forged or broken header: the proxy's own address is all we know
    return remote

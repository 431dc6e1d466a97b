"""Opening the customer page over real HTTP as an agent would: a signed link, then the session cookie."""

from __future__ import annotations

from datetime import datetime, timezone
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from bot.core import page_links
from bot.domain import Actor

PUBLIC_URL = "https://baton.example.com"
LINK_SECRET = "page-link-secret-for-tests"
PAGES = {"public_url": PUBLIC_URL, "link_secret": LINK_SECRET}
ANA = Actor(platform="slack", user_id="W111", display_name="Ana Agent", role="agent")
SUE = Actor(platform="slack", user_id="W333", display_name="Sue Super", role="supervisor")


def link(baton, actor: Actor, customer_id: int, *, now: datetime | None = None, **kw: Any) -> str:
    """The path and query of a link Baton signs (its host is BATON_PUBLIC_URL, not the test server)."""
    url = page_links.link_for(baton.settings, actor, customer_id, now=now or datetime.now(timezone.utc), **kw)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def open_link(baton, path: str) -> tuple[int, str | None, dict[str, str]]:
    """GET a link without following the redirect: (status, the session cookie, the cookie's attributes)."""
    async with baton.session.get(baton.base_url + path, allow_redirects=False) as response:
        raw = response.headers.get("Set-Cookie")
        if not raw:
            return response.status, None, {}
        cookie = SimpleCookie()
        cookie.load(raw)
        morsel = cookie[page_links.COOKIE]
        attributes = {key: morsel[key] for key in ("path", "httponly", "secure", "samesite", "max-age") if morsel[key]}
        attributes["location"] = response.headers.get("Location", "")
        return response.status, morsel.value, attributes


async def get(baton, path: str, cookie: str | None = None) -> tuple[int, str]:
    headers = {"Cookie": f"{page_links.COOKIE}={cookie}"} if cookie else {}
    async with baton.session.get(baton.base_url + path, headers=headers, allow_redirects=False) as response:
        return response.status, await response.text()


async def signed_in(baton, actor: Actor, customer_id: int) -> str:
    status, cookie, _ = await open_link(baton, link(baton, actor, customer_id))
    assert status == 303 and cookie, status
    return cookie

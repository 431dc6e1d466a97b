"""`GET /customers/{id}` and `/customers` (the Teams tab's search): the customer page, its data and assets.

The edge only translates: a link (`?t=`) or the session cookie names the viewer (`bot.core.page_links`),
`bot.core.page` says what they see. A link opens a session and redirects to the page without the token,
so it stays out of the history and every Referer. The page is one HTML shell with the first view as JSON
inside; `page.js` renders every value with `textContent` (never as HTML) and fetches each next page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any, Awaitable, Callable

from aiohttp import web

from bot.core import page, page_links
from bot.core.services import Services
from bot.domain import Actor
from bot.errors import ApiError

STATIC = Path(__file__).parent / "page_static"
ASSETS = {"page.js": "application/javascript", "page.css": "text/css"}
# Teams shows the "Customers" tab and stage view in a frame of its own hosts (SPEC 4.4; PROTOCOLS 9).
FRAME_ANCESTORS = "'self' https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft https://*.office.com"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; "
       f"form-action 'self'; frame-ancestors {FRAME_ANCESTORS}")
HEADERS = {"Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store",
           "X-Content-Type-Options": "nosniff"}


def _json_in_html(data: Any) -> str:
    """JSON safe inside a <script type="application/json">: no `<`, `>` or `&` can close or open a tag."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028").replace(
        "\u2029", "\\u2029")


def shell(title: str, kind: str, data: Any) -> str:
    # Relative asset paths, so the page works under a BATON_PUBLIC_URL with a path prefix too.
    assets = "../page/" if kind == "customer" else "page/"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Baton</title>
<link rel="stylesheet" href="{assets}page.css">
<script src="{assets}page.js" defer></script>
</head>
<body data-kind="{html.escape(kind)}">
<a class="skip" href="#main">Skip to content</a>
<div id="app"><noscript>This page needs JavaScript (served by Baton itself, nothing from elsewhere).</noscript></div>
<script type="application/json" id="baton-data">{_json_in_html(data)}</script>
</body>
</html>
"""


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


def _error_page(error: ApiError) -> web.Response:
    title = {401: "Sign-in needed", 403: "Not for your role", 404: "Not found"}.get(error.status, "Not available")
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Baton</title></head>
<body><main id="main" class="error"><h1>{html.escape(title)}</h1><p>{html.escape(error.detail)}</p></main></body></html>
"""
    return _html(body, error.status)


def _cookie_path(settings) -> str:
    return urlsplit(settings.public_url or "").path.rstrip("/") + "/customers"


def _int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ApiError(404, "not_found", "There is no such customer.") from None
    if not 0 < value < 2**31:
        raise ApiError(404, "not_found", "There is no such customer.")
    return value


class PageRoutes:
    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def settings(self):
        return self.services.settings

    def _viewer(self, request: web.Request) -> Actor:
        if not page_links.pages_on(self.settings):
            raise ApiError(404, "not_found", "The customer page is off (set BATON_PUBLIC_URL and BATON_LINK_SECRET).")
        return page_links.session_actor(self.settings, request.cookies.get(page_links.COOKIE), now=self.services.clock())

    async def _opened(self, request: web.Request, customer_id: int | None) -> web.StreamResponse | None:
        """A link in the address: open the session and send the browser on without the token."""
        token = request.query.get("t")
        if token is None:
            return None
        if not page_links.pages_on(self.settings):
            raise ApiError(404, "not_found", "The customer page is off (set BATON_PUBLIC_URL and BATON_LINK_SECRET).")
        now = self.services.clock()
        actor = await page_links.open_link(self.settings, token, customer_id, now=now)
        cookie, seconds = page_links.session_for(self.settings, actor, now=now)
        # Relative: behind a proxy with a path prefix the browser stays under it.
        response = web.Response(status=303, headers={**HEADERS, "Location": request.path.rsplit("/", 1)[-1]})
        response.set_cookie(page_links.COOKIE, cookie, max_age=seconds, path=_cookie_path(self.settings), httponly=True,
                            secure=(self.settings.public_url or "").startswith("https://"), samesite="Lax")
        return response

    async def customer_page(self, request: web.Request) -> web.StreamResponse:
        try:
            customer_id = _int(request.match_info["id"])
            redirect = await self._opened(request, customer_id)
            if redirect is not None:
                return redirect
            actor = self._viewer(request)
            data = await page.first_view(self.services, actor, customer_id)
            await page_links.audit_view(actor, data["id"], now=self.services.clock())
        except ApiError as error:
            return _error_page(error)
        return _html(shell(data["name"], "customer", data))

    async def search_page(self, request: web.Request) -> web.StreamResponse:
        try:
            redirect = await self._opened(request, None)
            if redirect is not None:
                return redirect
            actor = self._viewer(request)
        except ApiError as error:
            return _error_page(error)
        return _html(shell("Customers", "search", {"viewer": {"name": actor.label, "role": actor.role}}))

    async def _json(self, request: web.Request, read: Callable[[Actor], Awaitable[Any]]) -> web.Response:
        actor = self._viewer(request)
        return web.json_response(await read(actor), headers=HEADERS)

    async def search(self, request: web.Request) -> web.Response:
        return await self._json(request, lambda a: page.search(self.services, a, request.query.get("q", "")))

    async def more(self, request: web.Request) -> web.Response:
        customer_id = _int(request.match_info["id"])
        q = request.query
        return await self._json(request, lambda a: page.more(
            self.services, a, customer_id, request.match_info["what"], q.get("after"),
            category=q.get("category"), text=q.get("q")))

    async def messages(self, request: web.Request) -> web.Response:
        customer_id = _int(request.match_info["id"])
        return await self._json(request, lambda a: page.messages(
            self.services, a, customer_id, request.match_info["conversation"], request.query.get("after")))

    async def comments(self, request: web.Request) -> web.Response:
        customer_id = _int(request.match_info["id"])
        return await self._json(request, lambda a: page.comments(
            self.services, a, customer_id, request.match_info["case"], request.query.get("after")))


async def _asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return web.Response(body=(STATIC / name).read_bytes(), content_type=ASSETS[name], charset="utf-8",
                        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})


def setup(app: web.Application, services: Services) -> None:
    routes = PageRoutes(services)
    app.router.add_get("/customers", routes.search_page)
    app.router.add_get("/customers/search", routes.search)
    app.router.add_get("/customers/{id:\\d+}", routes.customer_page)
    app.router.add_get("/customers/{id:\\d+}/more/{what}", routes.more)
    app.router.add_get("/customers/{id:\\d+}/conversations/{conversation}/messages", routes.messages)
    app.router.add_get("/customers/{id:\\d+}/cases/{case}/comments", routes.comments)
    app.router.add_get("/page/{name}", _asset)

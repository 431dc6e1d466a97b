"""Real-browser tests: Playwright for Python driving Debian's Chromium, and a local server for the page.

Nothing is downloaded at test time: Chromium is the system's (`apt-get install chromium`, at
/usr/bin/chromium or `BATON_CHROMIUM`), passed to Playwright as `executable_path` — never `playwright
install`. JavaScript a page needs comes from `tests/js/node_modules` (`npm ci --prefix tests/js`) and is
served to the page by `static_server`, on 127.0.0.1 at an ephemeral port.

What is missing makes a browser test skip with the reason, or fail under BATON_REQUIRE_BROWSER=1 (set by
.ci/run). The `browser` and `page` fixtures in conftest.py use `launch_browser`; scripts (tests/screenshots.py)
use it directly.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Mapping

from aiohttp import web

CHROMIUM = Path(os.environ.get("BATON_CHROMIUM", "/usr/bin/chromium"))
JS_MODULES = Path(__file__).parent / "js" / "node_modules"
REQUIRE_BROWSER = os.environ.get("BATON_REQUIRE_BROWSER") == "1"
# Playwright adds --headless and a fresh temporary --user-data-dir itself (it refuses one in `args`).
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class BrowserUnavailable(Exception):
    """What a browser test needs is not on this machine; the message says what and how to get it."""


def unavailable(reason: str):
    """Skip the calling test with the reason, or fail it under BATON_REQUIRE_BROWSER=1."""
    import pytest

    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (BATON_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def js_file(package: str, path: str) -> Path:
    """A file of an npm package installed from tests/js/package-lock.json."""
    file = JS_MODULES / package / path
    if not file.is_file():
        raise BrowserUnavailable(f"npm package {package!r} is not installed: run `npm ci --prefix tests/js`")
    return file


@asynccontextmanager
async def launch_browser() -> AsyncIterator[object]:
    """A headless Chromium (the system's) under Playwright; closed on exit."""
    try:
        from playwright.async_api import async_playwright
    except ImportError as error:
        raise BrowserUnavailable("Playwright is not installed: pip install -e '.[test]'") from error
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        raise BrowserUnavailable(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set BATON_CHROMIUM)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(LAUNCH_ARGS))
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def static_server(files: Mapping[str, Path | str | bytes]) -> AsyncIterator[str]:
    """Serve `{url path: file or content}` on 127.0.0.1 at an ephemeral port; yields the base URL."""

    async def serve(request: web.Request) -> web.StreamResponse:
        content = files.get(request.path)
        if content is None:
            raise web.HTTPNotFound()
        if isinstance(content, Path):
            return web.FileResponse(content)
        body = content.encode() if isinstance(content, str) else content
        kind = "text/html" if request.path.endswith(("/", ".html")) else "application/octet-stream"
        return web.Response(body=body, content_type=kind, charset="utf-8" if kind == "text/html" else None)

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # the ephemeral port the OS picked
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()

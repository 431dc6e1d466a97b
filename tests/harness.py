"""Run Baton's real aiohttp app on an ephemeral loopback port and talk to it over HTTP."""

from __future__ import annotations

import json
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, AsyncIterator, Mapping

import aiohttp
from aiohttp import web

from bot.delivery.recording import RecordingPoster
from bot.settings import Settings
from bot.signing import signed_headers
from bot.web.app import WORKER, create_app

WEBHOOK_SECRET = "whsec-test-5f1c"
WEBHOOK_TOKEN = "tok-test-9a2b"


async def post_and_read(session: Any, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, Any]:
    """POST `body`; the status and the answer, as JSON when it is JSON."""
    async with session.post(url, data=body, headers=dict(headers)) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


@dataclass
class RunningBaton:
    app: web.Application
    base_url: str
    session: aiohttp.ClientSession
    settings: Settings

    @property
    def worker(self):
        return self.app[WORKER]

    async def post_raw(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, Any]:
        return await post_and_read(self.session, self.base_url + path, body, headers)

    async def post_signed(
        self, path: str, payload: Any, *, timestamp: int | None = None, secret: str = WEBHOOK_SECRET,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **signed_headers(secret, timestamp or int(time.time()), body),
                   **(headers or {})}
        return await self.post_raw(path, body, headers)

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(self.base_url + path) as response:
            return response.status, await response.text()


@asynccontextmanager
async def running_baton(
    database_url: str,
    *,
    posters: Mapping[str, Any] | None = None,
    run_worker: bool = False,
    clock: Any = None,
    **settings_overrides: Any,
) -> AsyncIterator[RunningBaton]:
    settings = replace(
        Settings(database_url=database_url, webhook_secret=WEBHOOK_SECRET, webhook_token=WEBHOOK_TOKEN),
        **settings_overrides,
    )
    app = create_app(settings, posters=posters if posters is not None else {"record": RecordingPoster()}, run_worker=run_worker,
                     **({"clock": clock} if clock is not None else {}))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    session = aiohttp.ClientSession()
    try:
        yield RunningBaton(app, f"http://127.0.0.1:{port}", session, settings)
    finally:
        await session.close()
        await runner.cleanup()

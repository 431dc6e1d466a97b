"""A small Bot Connector REST client: create conversations, send, reply, update — paced per thread.

Outbound calls go to the serviceUrl of the activity or stored reference (so a local fake Bot Connector
needs no patching). Throttling answers (429, 412, 502, 504) and transport failures become
`RetryLater` with the connector's Retry-After, which the outbox honours; nothing is retried here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable
from urllib.parse import quote

import aiohttp
from yarl import URL

from bot.delivery.poster import RetryLater

log = logging.getLogger(__name__)

RETRYABLE = {412, 429, 500, 502, 503, 504}
# Teams: per bot per thread 7 sends per second, 8 per 2 s (PROTOCOLS 2.2); we stay just under.
THREAD_SENDS_PER_SECOND = 7
THREAD_SENDS_PER_TWO_SECONDS = 8
DEFAULT_RETRY_AFTER = 2.0

TokenSource = Callable[[], Awaitable["str | None"]]


async def no_token() -> None:
    return None


class ConnectorError(Exception):
    """The Bot Connector refused a call for good (400, 403 MessageWritesBlocked, 404…)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"Bot Connector answered {status}: {detail[:200]}")
        self.status = status


def conversation_url(service_url: str, conversation_id: str, *rest: str) -> URL:
    base = service_url.rstrip("/") + "/v3/conversations"
    parts = [quote(conversation_id, safe="")] + [quote(p, safe="") for p in rest]
    return URL(base + "/" + "/".join(parts), encoded=True)


def _retry_after(response: aiohttp.ClientResponse) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", DEFAULT_RETRY_AFTER)))
    except ValueError:
        return DEFAULT_RETRY_AFTER


class Pacer:
    """Keeps sends into one conversation (thread) under Teams' per-thread limits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._clock = clock

    async def wait(self, key: str) -> None:
        async with self._locks[key]:
            sent = self._sent[key]
            while True:
                now = self._clock()
                while sent and now - sent[0] >= 2.0:
                    sent.popleft()
                last_second = [t for t in sent if now - t < 1.0]
                delay = 0.0
                if len(last_second) >= THREAD_SENDS_PER_SECOND:
                    delay = last_second[0] + 1.0 - now
                if len(sent) >= THREAD_SENDS_PER_TWO_SECONDS:
                    delay = max(delay, sent[0] + 2.0 - now)
                if delay <= 0:
                    sent.append(now)
                    self._forget_idle(now)
                    return
                await asyncio.sleep(delay)

    def _forget_idle(self, now: float) -> None:
        """Threads quiet for two seconds need no history (keeps memory flat over many threads)."""
        if len(self._sent) <= 1000:
            return
        for key in [k for k, times in self._sent.items() if not times or now - times[-1] >= 2.0]:
            if not self._locks[key].locked():
                self._sent.pop(key, None)
                self._locks.pop(key, None)


class BotConnector:
    def __init__(self, token: TokenSource = no_token, *, timeout: float = 15.0) -> None:
        self._token = token
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self.pacer = Pacer()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _call(self, method: str, url: URL, body: dict[str, Any], *, pace: str | None = None) -> dict[str, Any]:
        if pace:
            await self.pacer.wait(pace)
        headers = {"Content-Type": "application/json"}
        token = await self._token()
        if token:  # none in BATON_TEAMS_DEV without an app id, like botbuilder's empty credentials
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with self._http().request(method, url, json=body, headers=headers) as response:
                text = await response.text()
                if response.status in RETRYABLE:
                    raise RetryLater(_retry_after(response), f"Bot Connector answered {response.status}")
                if response.status >= 400:
                    raise ConnectorError(response.status, text)
                try:
                    return await response.json(content_type=None) or {}
                except ValueError:
                    return {}
        except aiohttp.ClientError as error:
            raise RetryLater(DEFAULT_RETRY_AFTER, f"Bot Connector unreachable: {type(error).__name__}") from None
        except asyncio.TimeoutError:
            raise RetryLater(DEFAULT_RETRY_AFTER, "Bot Connector timed out") from None

    @asynccontextmanager
    async def open_file(self, url: str) -> AsyncIterator[aiohttp.ClientResponse]:
        """An attachment's `contentUrl` (Teams keeps channel images behind the bot's token)."""
        token = await self._token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers["Accept-Encoding"] = "identity"  # the bytes and Content-Length passed on are the file's own
        # No redirects: the token's request goes to the file host checked by the caller and nowhere else.
        async with self._http().get(url, headers=headers, allow_redirects=False,
                                    timeout=aiohttp.ClientTimeout(total=None, sock_read=30)) as response:
            yield response

    async def create_conversation(self, service_url: str, parameters: dict[str, Any], *, pace: str | None = None) -> dict[str, Any]:
        url = URL(service_url.rstrip("/") + "/v3/conversations", encoded=True)
        return await self._call("POST", url, parameters, pace=pace)

    async def send(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> dict[str, Any]:
        url = conversation_url(service_url, conversation_id, "activities")
        return await self._call("POST", url, activity, pace=conversation_id)

    async def reply(self, service_url: str, conversation_id: str, reply_to_id: str, activity: dict[str, Any]) -> dict[str, Any]:
        url = conversation_url(service_url, conversation_id, "activities", reply_to_id)
        return await self._call("POST", url, {**activity, "replyToId": reply_to_id}, pace=conversation_id)

    async def update(self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]) -> dict[str, Any]:
        url = conversation_url(service_url, conversation_id, "activities", activity_id)
        return await self._call("PUT", url, {**activity, "id": activity_id}, pace=conversation_id)

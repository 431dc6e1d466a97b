"""A fake Bot Connector: a real aiohttp server on an ephemeral port that records every call.

Routes Baton uses: POST /v3/conversations (→ {id, activityId}), POST /v3/conversations/{id}/activities,
POST /v3/conversations/{id}/activities/{activityId} (reply), PUT …/activities/{activityId} (update),
GET …/members. It can answer 429/412/502/504 (with Retry-After) for the next N calls, and
`wait_for(predicate)` wakes on each recorded call; no sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web


@dataclass
class Call:
    method: str  # POST | PUT | GET
    route: str  # create_conversation | send | reply | update | members
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status < 300

    @property
    def activity(self) -> dict[str, Any]:
        """The activity sent: the body, or `activity` of a create-conversation call."""
        return self.body.get("activity") or {} if self.route == "create_conversation" else self.body

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for a in self.activity.get("attachments") or ()
                if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]

    @property
    def text(self) -> str:
        return self.activity.get("text") or ""


class FakeBotConnector:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._failures: list[tuple[int, float | None]] = []
        self._ids = itertools.count(1001)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.attachments: dict[str, tuple[bytes, str]] = {}  # attachment id -> (content, content type)

    def share_attachment(self, attachment_id: str, content: bytes, content_type: str, name: str) -> dict[str, Any]:
        """An attachment of a Teams message, as the activity carries it (contentUrl on the connector)."""
        self.attachments[attachment_id] = (content, content_type)
        return {"contentType": content_type, "contentUrl": f"{self.url}v3/attachments/{attachment_id}/views/original",
                "name": name}

    async def _attachment(self, request: web.Request) -> web.Response:
        found = self.attachments.get(request.match_info["aid"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    async def start(self) -> FakeBotConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/members", self._members)
        app.router.add_get("/v3/attachments/{aid}/views/original", self._attachment)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBotConnector:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # --- control -----------------------------------------------------------------------------------

    def fail_next(self, count: int, *, status: int = 429, retry_after: float | None = 1) -> None:
        """The next `count` calls answer `status` (429/412/502/504), with Retry-After when given."""
        self._failures += [(status, retry_after)] * count

    # --- queries -----------------------------------------------------------------------------------

    def ok(self, route: str | None = None, **match: Any) -> list[Call]:
        return [c for c in self.calls if c.ok and (route is None or c.route == route)
                and all(getattr(c, k) == v for k, v in match.items())]

    def in_conversation(self, conversation_id: str) -> list[Call]:
        return [c for c in self.calls if c.ok and c.conversation_id == conversation_id and c.route != "members"]

    def all_cards(self) -> list[dict[str, Any]]:
        return [card for call in self.calls if call.ok for card in call.cards]

    async def wait_for(self, predicate: Callable[[FakeBotConnector], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate(self)` is truthy (checked after every recorded call); return its value."""

        async def wait() -> Any:
            async with self._changed:
                while True:
                    value = predicate(self)
                    if value:
                        return value
                    await self._changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    # --- handlers ----------------------------------------------------------------------------------

    async def _record(self, request: web.Request, route: str, respond: Callable[[dict[str, Any]], dict[str, Any]]):
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            body = {}
        call = Call(request.method, route, request.match_info.get("cid"), request.match_info.get("aid"), body,
                    request.headers.get("Authorization"))
        if self._failures:
            call.status, retry_after = self._failures.pop(0)
            call.response = {"error": {"code": "Throttled" if call.status == 429 else "Failed", "message": "try later"}}
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        else:
            call.response = respond(body)
            headers = {}
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return web.json_response(call.response, status=call.status, headers=headers)

    async def _create(self, request: web.Request) -> web.Response:
        def respond(body: dict[str, Any]) -> dict[str, Any]:
            activity_id = str(next(self._ids))
            channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
            if channel:
                return {"id": f"{channel};messageid={activity_id}", "activityId": activity_id}
            member = ((body.get("members") or [{}])[0]).get("id", "someone")
            return {"id": f"a:personal-{member}", "activityId": None}

        return await self._record(request, "create_conversation", respond)

    async def _send(self, request: web.Request) -> web.Response:
        return await self._record(request, "send", lambda body: {"id": str(next(self._ids))})

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._record(request, "reply", lambda body: {"id": str(next(self._ids))})

    async def _update(self, request: web.Request) -> web.Response:
        return await self._record(request, "update", lambda body: {"id": request.match_info["aid"]})

    async def _members(self, request: web.Request) -> web.Response:
        return await self._record(request, "members", lambda body: [])  # type: ignore[arg-type,return-value]

"""A fake Slack Web API: a real aiohttp server on an ephemeral port that records every call.

`/api/{method}` answers the methods Baton uses (auth.test, chat.* including getPermalink, views.*, users.info, conversations.*,
files.* upload v2, oauth.v2.access, apps.connections.open), checks the bearer token, and can be told to
fail the next N calls with 429 + Retry-After or 500. `/response_url/{id}` records slash-command answers.
`wait_for(predicate)` wakes on each recorded call; no sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl

from aiohttp import web

BOT_TOKEN = "xoxb-test-baton"
APP_TOKEN = "xapp-test-baton"
BOT_USER_ID = "UBATON"
BOT_ID = "BBATON"
TEAM_ID = "T111"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


def _decode(value: Any) -> Any:
    """slack_sdk sends nested values (blocks, view) as JSON strings in form posts."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeSlack:
    def __init__(self, *, tokens: tuple[str, ...] = (BOT_TOKEN,), users: dict[str, str] | None = None,
                 app_tokens: tuple[str, ...] = (APP_TOKEN,)) -> None:
        self.tokens = set(tokens)
        self.app_tokens = set(app_tokens)
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[dict[str, Any]] = []  # what Baton answered over Socket Mode
        self.users = dict(users or {})
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # what Baton posted to response_urls
        self.uploads: dict[str, bytes] = {}
        self.relayed: list[tuple[dict[str, str], Any, bytes]] = []  # agent replies POSTed to the handoff's reply_url
        self.statuses: list[tuple[dict[str, str], Any, bytes]] = []  # status changes POSTed there
        self.reply_url_order: list[str] = []
        self.reply_url_failures = 0  # "message" / "status:<state>" in the order they arrived
        self._failures: list[tuple[int, float | None, Callable[[str], bool]]] = []
        self._ts = itertools.count(1)
        self.not_in: set[str] = set()  # channels Baton was never invited to: chat.postMessage says not_in_channel
        self.messages: set[tuple[str, str]] = set()  # (channel, ts) of the messages that exist, for chat.delete
        self.files: dict[str, tuple[bytes, str]] = {}  # url_private path -> (content, mimetype)
        self.file_requests: list[str | None] = []  # the Authorization header of each file download
        self.file_redirects: dict[str, str] = {}  # url_private path -> where it redirects
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.oauth_team = TEAM_ID

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response_url/{id}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/reply_url", self._reply_url)
        app.router.add_get("/files-pri/{path:.*}", self._file)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        for socket in list(self.sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.url}/response_url/{name}"

    # --- control -----------------------------------------------------------------------------------

    def fail_next(self, count: int, *, status: int = 429, retry_after: float | None = 1, method: str | None = None) -> None:
        """The next `count` calls (of `method`, if given) answer `status` (429 with Retry-After, or 500)."""
        for _ in range(count):
            self._failures.append((status, retry_after, lambda m, want=method: want is None or m == want))

    # --- queries -----------------------------------------------------------------------------------

    def of(self, method: str, **match: Any) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.ok and all(c.args.get(k) == v for k, v in match.items())]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[FakeSlack], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate(self)` is truthy (checked after every recorded call); return its value."""

        async def wait() -> Any:
            async with self._changed:
                while True:
                    value = predicate(self)
                    if value:
                        return value
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            methods = [c.method for c in self.calls]
            raise AssertionError(f"fake Slack: condition not met within {timeout}s; calls so far: {methods}") from None

    # --- the API -----------------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            content_type = request.content_type
            if content_type == "application/json":
                args.update(json.loads(raw))
            elif content_type == "application/x-www-form-urlencoded":
                args.update(dict(parse_qsl(raw.decode())))
            elif content_type.startswith("multipart/"):
                pass
        return {k: _decode(v) for k, v in args.items()}

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else args.pop("token", None)
        call = Call(method, args, token)
        failure = next((f for f in self._failures if f[2](method)), None)
        if failure is not None:
            self._failures.remove(failure)
            status, retry_after, _ = failure
            call.status = status
            call.response = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
            headers = {"Retry-After": str(int(retry_after))} if status == 429 and retry_after is not None else {}
            return await self._record(call, web.json_response(call.response, status=status, headers=headers))
        if method == "oauth.v2.access":
            call.response = self._oauth_access(args)
        elif method == "apps.connections.open":
            allowed = token in self.app_tokens
            ws_url = self.url.replace("http://", "ws://") + "/socket"
            call.response = {"ok": True, "url": ws_url} if allowed else {"ok": False, "error": "invalid_auth"}
        elif token not in self.tokens:
            call.response = {"ok": False, "error": "invalid_auth"}
        else:
            call.response = self._answer(method, args)
        return await self._record(call, web.json_response(call.response))

    async def _record(self, call: Call, response: web.Response) -> web.Response:
        self.calls.append(call)
        await self._notify()
        return response

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "baton", "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "chat.postMessage":
            if args.get("channel") in self.not_in:
                return {"ok": False, "error": "not_in_channel"}
            ts = self._next_ts()
            self.messages.add((args.get("channel"), ts))
            return {"ok": True, "channel": args.get("channel"), "ts": ts,
                    "message": {"text": args.get("text"), "bot_id": BOT_ID}}
        if method == "chat.getPermalink":
            # Slack's wire format: GET channel + message_ts; the archive link of a message that exists.
            channel, ts = args.get("channel"), args.get("message_ts")
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            if (channel, ts) not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            return {"ok": True, "channel": channel,
                    "permalink": f"https://test.slack.com/archives/{channel}/p{str(ts).replace('.', '')}"}
        if method == "chat.delete":
            if (args.get("channel"), args.get("ts")) not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages.discard((args.get("channel"), args.get("ts")))
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("views.open", "views.update", "views.push"):
            return {"ok": True, "view": {"id": "V" + self._next_ts().replace(".", ""), **(args.get("view") or {})}}
        if method == "users.info":
            user = args.get("user")
            name = self.users.get(user, user)
            return {"ok": True, "user": {"id": user, "name": name.lower(), "real_name": name,
                                         "profile": {"display_name": name, "real_name": name}}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "")).split(",")[0]}}
        if method == "conversations.info":
            return {"ok": True, "channel": {"id": args.get("channel"), "name": "support"}}
        if method == "files.getUploadURLExternal":
            file_id = "F" + self._next_ts().replace(".", "")
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        return {"ok": False, "error": "unknown_method"}

    def _oauth_access(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("code") != "good-code":
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": "A111",
            "authed_user": {"id": "W111"},
            "scope": "chat:write,commands",
            "token_type": "bot",
            "access_token": "xoxb-oauth-installed",
            "bot_user_id": BOT_USER_ID,
            "team": {"id": self.oauth_team, "name": "Installed team"},
            "enterprise": {"id": "E111", "name": "Sandbox Org"},  # the org of the fixtures' payloads
            "is_enterprise_install": False,
        }

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then record every envelope acknowledgement Baton sends back."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        await self._notify()
        try:
            async for message in socket:
                if message.type == web.WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(message.data))
                    await self._notify()
        finally:
            self.sockets.remove(socket)
        return socket

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        await self.sockets[-1].send_json(envelope)

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        await self._notify()
        return web.Response(text="ok")

    def share_file(self, name: str, content: bytes, mimetype: str) -> dict[str, Any]:
        """A file as it appears in a `file_share` message event; its url_private needs a bot token."""
        file_id = "F" + self._next_ts().replace(".", "")
        path = f"{TEAM_ID}-{file_id}/{name}"
        self.files[path] = (content, mimetype)
        return {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "size": len(content),
                "url_private": f"{self.url}/files-pri/{path}", "permalink": f"https://test.slack.com/files/{file_id}"}

    async def _file(self, request: web.Request) -> web.Response:
        """Slack serves url_private only with a token of the workspace (refused here without one)."""
        auth = request.headers.get("Authorization")
        self.file_requests.append(auth)
        token = auth[len("Bearer "):] if auth and auth.startswith("Bearer ") else None
        if token not in self.tokens:
            return web.Response(status=403, text="not_authed")
        if request.match_info["path"] in self.file_redirects:
            return web.Response(status=302, headers={"Location": self.file_redirects[request.match_info["path"]]})
        found = self.files.get(request.match_info["path"])
        if found is None:
            return web.Response(status=404, text="file_not_found")
        content, mimetype = found
        return web.Response(body=content, content_type=mimetype)

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        await self._notify()
        return web.Response(text="OK - 0")

    async def _reply_url(self, request: web.Request) -> web.Response:
        """An integrator's reply_url (SPEC 3.1); `fail_next(n, status=500, method="reply_url")` makes it fail."""
        raw = await request.read()
        failure = next((f for f in self._failures if f[2]("reply_url")), None)
        if failure is not None:
            self._failures.remove(failure)
            self.reply_url_failures += 1
            return web.json_response({"ok": False}, status=failure[0])
        body = json.loads(raw)
        (self.statuses if body.get("type") == "status" else self.relayed).append((dict(request.headers), body, raw))
        self.reply_url_order.append("message" if body.get("type") != "status" else f"status:{body.get('status')}")
        await self._notify()
        return web.json_response({"ok": True})

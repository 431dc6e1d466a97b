"""A fake Slack Web API: a real aiohttp server on an ephemeral port that records every call.

`/api/{method}` answers the methods Baton uses (auth.test, chat.* including getPermalink, views.*, users.info, conversations.*,
files.* upload v2, oauth.v2.access, apps.connections.open), checks the bearer token, and can be told to
fail the next N calls with 429 + Retry-After or 500. `/response_url/{id}` records slash-command answers.
`wait_for(predicate)` wakes on each recorded call; no sleeping.

For delivery benchmarks and crash tests it can also pace `chat.postMessage` per channel the way Slack
does (`channel_rate`, `channel_burst`: a 429 with Retry-After past that), keep every posted message with
its `metadata` for `conversations.history` / `conversations.replies`, answer 500 to everything while
`down` is set, and "lose" answers: `fail_next(..., applied=True)` posts the message, then answers 500.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
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
    at: float = field(default_factory=time.time)  # wall clock when it arrived (benchmarks compare processes)

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
                 app_tokens: tuple[str, ...] = (APP_TOKEN,), channel_rate: float = 0.0,
                 channel_burst: int = 3, keep_calls: bool = True) -> None:
        self.channel_rate = channel_rate  # chat.postMessage per second per channel (0: unlimited)
        self.channel_burst = channel_burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self.keep_calls = keep_calls  # a soak run keeps only `posted`, not every call
        self.down = False  # answer 500 to every API call (an outage)
        self.posted: dict[str, list[dict[str, Any]]] = {}  # channel -> messages in posting order
        self.counts: dict[tuple[str, int], int] = {}  # (method, status) -> calls
        self.listeners: list[Callable[[Call], None]] = []  # called on every call (benchmarks time cards)
        self.tokens = set(tokens)
        self.app_tokens = set(app_tokens)
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[dict[str, Any]] = []  # what Baton answered over Socket Mode
        self.users = dict(users or {})
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # what Baton posted to response_urls
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes POSTed to its upload URL
        self.upload_requests: dict[str, dict[str, Any]] = {}  # file id -> getUploadURLExternal's filename, length
        self.shared_files: list[dict[str, Any]] = []  # completed uploads: id, title, name, channel, thread_ts, content
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

    def fail_next(self, count: int, *, status: int = 429, retry_after: float | None = 1, method: str | None = None,
                  applied: bool = False) -> None:
        """The next `count` calls (of `method`, if given) answer `status` (429 with Retry-After, or 500).

        With `applied`, the call takes effect (the message is posted) and only its answer is a 500: the
        answer lost on the way back, as when Baton crashes right after Slack took a post."""
        for _ in range(count):
            self._failures.append((status, retry_after, lambda m, want=method: want is None or m == want, applied))

    def _paced(self, channel: str) -> bool:
        """Slack's ~1 post/s per channel with short bursts: False when this post is over the limit."""
        if self.channel_rate <= 0:
            return True
        now = time.monotonic()
        tokens, updated = self._buckets.get(channel, (float(self.channel_burst), now))
        tokens = min(float(self.channel_burst), tokens + (now - updated) * self.channel_rate)
        if tokens < 1.0:
            self._buckets[channel] = (tokens, now)
            return False
        self._buckets[channel] = (tokens - 1.0, now)
        return True

    def roots(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Thread roots posted (not replies), in posting order."""
        channels = [channel] if channel else list(self.posted)
        return [m for c in channels for m in self.posted.get(c, []) if not m.get("thread_ts")]

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
        if failure is None and self.down:
            failure = (500, None, None, False)
        elif failure is not None:
            self._failures.remove(failure)
        if failure is None and method == "chat.postMessage" and not self._paced(str(args.get("channel"))):
            failure = (429, 1, None, False)
        if failure is not None:
            status, retry_after, _, applied = failure
            if applied and token in self.tokens:
                self._answer(method, args)
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
        if self.keep_calls:
            self.calls.append(call)
        key = (call.method, call.status)
        self.counts[key] = self.counts.get(key, 0) + 1
        for listener in self.listeners:
            listener(call)
        await self._notify()
        return response

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def restart_ts(self) -> None:
        """Count message ts from the start again: a ts is unique only within a channel, so a thread in
        another channel may share one with a thread Baton already knows."""
        self._ts = itertools.count(1)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "baton", "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "chat.postMessage":
            if args.get("channel") in self.not_in:
                return {"ok": False, "error": "not_in_channel"}
            ts = self._next_ts()
            self.messages.add((args.get("channel"), ts))
            self.posted.setdefault(str(args.get("channel")), []).append({
                "ts": ts, "thread_ts": args.get("thread_ts"), "text": args.get("text"), "blocks": args.get("blocks"),
                "metadata": args.get("metadata"), "username": args.get("username"), "bot_id": BOT_ID})
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
        if method == "chat.unfurl":
            if not args.get("unfurls") or not (args.get("unfurl_id") or (args.get("channel") and args.get("ts"))):
                return {"ok": False, "error": "invalid_arguments"}
            return {"ok": True}
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
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, args)
        if method == "conversations.info":
            return {"ok": True, "channel": {"id": args.get("channel"), "name": "support"}}
        if method == "files.getUploadURLExternal":
            # Slack requires the name and the exact length up front (docs.slack.dev files.getUploadURLExternal).
            filename, length = args.get("filename"), args.get("length")
            if not filename or not str(length or "").isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = "F" + self._next_ts().replace(".", "")
            self.upload_requests[file_id] = {"filename": filename, "length": int(length)}
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            if not isinstance(files, list) or not files:
                return {"ok": False, "error": "invalid_arguments"}
            done = []
            for f in files:
                request = self.upload_requests.get(f.get("id"))
                content = self.uploads.get(f.get("id"))
                if request is None:
                    return {"ok": False, "error": "file_not_found"}
                if content is None or len(content) != request["length"]:
                    return {"ok": False, "error": "file_upload_size_mismatch" if content is not None else "upload_not_complete"}
                shared = {"id": f["id"], "title": f.get("title") or request["filename"], "name": request["filename"],
                          "channel": args.get("channel_id"), "thread_ts": args.get("thread_ts"), "content": content}
                self.shared_files.append(shared)
                done.append({"id": f["id"], "title": shared["title"], "name": shared["name"]})
            return {"ok": True, "files": done}
        return {"ok": False, "error": "unknown_method"}

    def _history(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first for history (top-level messages), oldest first for replies (root included);
        `limit` + `cursor` paginate; metadata only with include_all_metadata, as Slack does."""
        messages = [m for m in self.posted.get(str(args.get("channel")), []) if (args.get("channel"), m["ts"]) in self.messages]
        if method == "conversations.replies":
            root = args.get("ts")
            messages = [m for m in messages if m["ts"] == root or m.get("thread_ts") == root]
        else:
            messages = [m for m in reversed(messages) if not m.get("thread_ts")]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = messages[start:start + limit]
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        shown = [{k: v for k, v in m.items() if v is not None and (with_metadata or k != "metadata")} for m in page]
        more = start + limit < len(messages)
        return {"ok": True, "messages": shown, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

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
        """The upload URL takes the raw bytes (or one multipart part), as Slack's does."""
        if request.match_info["file_id"] not in self.upload_requests:
            return web.Response(status=404, text="unknown upload")
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            part = await reader.next()
            content = await part.read() if part is not None else b""
        else:
            content = await request.read()
        self.uploads[request.match_info["file_id"]] = bytes(content)
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

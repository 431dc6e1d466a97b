"""A fake Twilio REST API: a real aiohttp server on an ephemeral port that records every call.

It speaks Twilio's wire format (PROTOCOLS.md §5): `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
form-encoded (`To`, `From` or `MessagingServiceSid`, `Body`, `MediaUrl` repeated, `StatusCallback`),
HTTP Basic `AccountSid:AuthToken` (401 JSON otherwise), 201 JSON with `sid`, `status`, `num_segments`, and
Twilio's error JSON `{code, message, more_info, status}`. It refuses what Twilio refuses (a body over
1,600 characters, a `To` that is not E.164, a number in `opted_out`), can be told to fail the next
calls (21610, 21211, 20429 with Retry-After, 500, any status and body), to answer late, or to stop
listening altogether (`refuse_connections`: connection refused on the same port).

It also serves MMS media (`/2010-04-01/Accounts/{sid}/Messages/{MM}/Media/{ME}`) behind Basic auth, as
Twilio does with media HTTP authentication on, optionally through a redirect to a separate "CDN"
origin (as Twilio redirects to its media store), which records whether credentials reached it.
`wait_for(predicate)` wakes on each recorded call; no sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl

from aiohttp import web

ACCOUNT_SID = "AC3f2b8c9d0e1f2a3b4c5d6e7f8a9b0c1d"
AUTH_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
API_VERSION = "2010-04-01"
BODY_LIMIT = 1600
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# Twilio's own codes and texts (twilio.com/docs/api/errors/<code>).
ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "An internal server error has occurred"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21408: (400, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}."),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def segments(body: str) -> int:
    """How many SMS segments Twilio bills `body` as: GSM-7 160/153, else UCS-2 70/67 (UTF-16 units)."""
    if not body:
        return 1
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in body):
        septets = sum(2 if c in GSM7_EXTENDED else 1 for c in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = utf16_length(body)
    return 1 if units <= 70 else math.ceil(units / 67)


@dataclass
class Call:
    method: str
    path: str
    account_sid: str | None  # from the URL
    auth: tuple[str, str] | None  # Basic credentials sent
    form: dict[str, list[str]]
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)

    def one(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None

    @property
    def ok(self) -> bool:
        return self.status == 201


@dataclass
class _Failure:
    code: int | None
    status: int
    retry_after: float | None
    body: str | None


@dataclass
class _Media:
    content: bytes
    content_type: str
    chunked: bool
    redirect: bool


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[len("Basic "):], validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


class FakeTwilio:
    def __init__(self, *, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: list[Call] = []
        self.opted_out: set[str] = set()  # numbers that texted STOP: sending to them answers 21610
        self.media: dict[str, _Media] = {}
        self.media_requests: list[tuple[str, str | None]] = []  # (path, Authorization) of each media GET
        self.cdn_requests: list[tuple[str, str | None]] = []  # what reached the redirect target
        self._failures: list[_Failure] = []
        self._delays: list[float] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._cdn_runner: web.AppRunner | None = None
        self.port = 0
        self.url = ""
        self.cdn_url = ""

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post(f"/{API_VERSION}/Accounts/{{sid}}/Messages.json", self._create_message)
        app.router.add_get(f"/{API_VERSION}/Accounts/{{sid}}/Messages/{{mm}}/Media/{{me}}", self._get_media)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await self._listen(0)
        cdn = web.Application()
        cdn.router.add_get("/cdn/{me}", self._cdn_media)
        self._cdn_runner = web.AppRunner(cdn, access_log=None)
        await self._cdn_runner.setup()
        cdn_site = web.TCPSite(self._cdn_runner, "127.0.0.1", 0)
        await cdn_site.start()
        self.cdn_url = f"http://127.0.0.1:{cdn_site._server.sockets[0].getsockname()[1]}"
        return self

    async def _listen(self, port: int) -> None:
        self._site = web.TCPSite(self._runner, "127.0.0.1", port, reuse_address=True)
        await self._site.start()
        self.port = self._site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        for runner in (self._runner, self._cdn_runner):
            if runner is not None:
                await runner.cleanup()

    async def __aenter__(self) -> FakeTwilio:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def refuse_connections(self) -> None:
        """Stop listening: connecting to `url` is refused until `accept_connections()`."""
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def accept_connections(self) -> None:
        if self._site is None:
            await self._listen(self.port)

    # --- control -----------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, code: int | None = 20429, status: int | None = None,
                  retry_after: float | None = 1, body: str | None = None) -> None:
        """The next `count` message creations fail with Twilio error `code` (its usual status unless
        `status` is given; Retry-After on a 429 when `retry_after` is set). `body` replaces the JSON with
        raw text (a proxy's HTML page)."""
        for _ in range(count):
            http_status = status or ERRORS.get(code or 20500, (500, ""))[0]
            self._failures.append(_Failure(code, http_status, retry_after, body))

    def heal(self) -> None:
        """Forget the failures not used yet: the next message creations succeed."""
        self._failures.clear()

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """The next `count` message creations answer only after `seconds` (for client timeouts)."""
        self._delays.extend([seconds] * count)

    def add_media(self, content: bytes, content_type: str, *, chunked: bool = False, redirect: bool = False) -> str:
        """An inbound MMS media file, as Twilio puts its URL in `MediaUrl0`; GETting it needs Basic auth.
        `chunked`: no Content-Length; `redirect`: answered with a 307 to another origin, as Twilio does."""
        media_sid = f"ME{next(self._ids):032x}"
        message_sid = f"MM{next(self._ids):032x}"
        self.media[media_sid] = _Media(content, content_type, chunked, redirect)
        return f"{self.url}/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"

    # --- queries -----------------------------------------------------------------------------------

    @property
    def sent(self) -> list[Call]:
        """Every message Twilio accepted, in order."""
        return [c for c in self.calls if c.ok]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[FakeTwilio], Any], timeout: float = 10.0) -> Any:
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
            seen = [(c.path, c.status) for c in self.calls]
            raise AssertionError(f"fake Twilio: condition not met within {timeout}s; calls so far: {seen}") from None

    # --- the API -----------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> tuple[tuple[str, str] | None, bool]:
        auth = _basic(request.headers.get("Authorization"))
        sid = request.match_info["sid"]
        return auth, auth == (self.account_sid, self.auth_token) and sid == self.account_sid

    @staticmethod
    def _error(code: int, status: int, *, to: str = "") -> dict[str, Any]:
        message = ERRORS.get(code, (status, "Error"))[1].replace("{to}", to)
        return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}

    async def _create_message(self, request: web.Request) -> web.Response:
        raw = await request.read()
        form: dict[str, list[str]] = {}
        if request.content_type == "application/x-www-form-urlencoded":
            for key, value in parse_qsl(raw.decode(), keep_blank_values=True):
                form.setdefault(key, []).append(value)
        auth, allowed = self._authorized(request)
        call = Call("POST", request.path, request.match_info["sid"], auth, form)
        if self._delays:
            await asyncio.sleep(self._delays.pop(0))
        headers: dict[str, str] = {}
        if not allowed:
            call.status, call.response = 401, self._error(20003, 401)
        elif self._failures:
            failure = self._failures.pop(0)
            call.status = failure.status
            if failure.status == 429 and failure.retry_after is not None:
                headers["Retry-After"] = str(int(failure.retry_after))
            if failure.body is not None:
                return await self._record(call, web.Response(status=failure.status, text=failure.body,
                                                             content_type="text/html", headers=headers))
            call.response = self._error(failure.code or 20500, failure.status, to=call.one("To") or "")
        else:
            call.status, call.response = self._validate(call)
        return await self._record(call, web.json_response(call.response, status=call.status, headers=headers))

    def _validate(self, call: Call) -> tuple[int, dict[str, Any]]:
        to, sender, service = call.one("To"), call.one("From"), call.one("MessagingServiceSid")
        body, media = call.one("Body") or "", call.form.get("MediaUrl", [])
        if not to:
            return 400, self._error(21604, 400)
        if not sender and not service:
            return 400, self._error(21603, 400)
        if not body and not media:
            return 400, self._error(21602, 400)
        if utf16_length(body) > BODY_LIMIT:
            return 400, self._error(21617, 400)
        if not E164.match(to):
            return 400, self._error(21211, 400, to=to)
        if to in self.opted_out:
            return 400, self._error(21610, 400)
        sid = f"{'MM' if media else 'SM'}{next(self._ids):032x}"
        return 201, {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": sender,
            "messaging_service_sid": service,
            "body": body,
            "status": "queued" if sender else "accepted",
            "num_segments": str(segments(body)),  # Twilio sends these counts as strings
            "num_media": str(len(media)),
            "direction": "outbound-api",
            "api_version": API_VERSION,
            "error_code": None,
            "error_message": None,
            "price": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    async def _record(self, call: Call, response: web.StreamResponse) -> web.StreamResponse:
        self.calls.append(call)
        await self._notify()
        return response

    async def _get_media(self, request: web.Request) -> web.StreamResponse:
        self.media_requests.append((request.path, request.headers.get("Authorization")))
        _, allowed = self._authorized(request)
        if not allowed:
            return web.json_response(self._error(20003, 401), status=401)
        found = self.media.get(request.match_info["me"])
        if found is None:
            return web.json_response(self._error(20404, 404), status=404)
        if found.redirect:
            raise web.HTTPTemporaryRedirect(f"{self.cdn_url}/cdn/{request.match_info['me']}")
        return await self._serve(request, found)

    async def _cdn_media(self, request: web.Request) -> web.StreamResponse:
        self.cdn_requests.append((request.path, request.headers.get("Authorization")))
        found = self.media.get(request.match_info["me"])
        if found is None:
            return web.Response(status=404)
        return await self._serve(request, found)

    async def _serve(self, request: web.Request, media: _Media) -> web.StreamResponse:
        if not media.chunked:
            return web.Response(body=media.content, content_type=media.content_type)
        response = web.StreamResponse(headers={"Content-Type": media.content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        step = 64 * 1024
        try:
            for start in range(0, len(media.content), step):
                await response.write(media.content[start:start + step])
            await response.write_eof()
        except ConnectionError:  # the client stopped reading (a size cap): nothing more to send
            pass
        return response

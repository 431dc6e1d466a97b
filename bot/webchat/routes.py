"""HTTP of Baton's web chat (SPEC 3.5): the page and its embed script, the visitor API, the event stream.

- `GET /chat` (`?queue=`), `GET /chat/widget.js`, `GET /chat/static/…`: files shipped in this package,
  served with a CSP that allows scripts from Baton's origin only and framing by `[webchat] allowed_origins`.
- `POST /inbound/webchat`: start (no token), then message / end / csat with `Authorization: Bearer <token>`.
- `POST /inbound/webchat/files`: multipart `file` (+ `text`, `client_id`), at most 10 MB of an allowed type.
- `GET /inbound/webchat/events`: Server-Sent Events from `Last-Event-ID` (or `?after=`) on.
Everything here translates; what a visitor may do is decided in `bot.core.webchat`.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import random
import re
import uuid
from importlib import resources
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from bot.core import webchat
from bot.core.services import Services
from bot.domain import CustomerFile
from bot.errors import ApiError, UserError
from bot.intake.generic import parse_generic_handoff
from bot.web.http import client_ip, parse_json, read_body
from bot.webchat.channel import WebchatChannel
from bot.webchat.hub import EventHub
from bot.webchat.limits import RateLimits

log = logging.getLogger(__name__)

STATIC = resources.files(__package__).joinpath("static")
STATIC_FILES = {"chat.js": "application/javascript", "chat.css": "text/css"}
PING_SECONDS = 15.0  # at most this long between two writes on an idle stream (a keepalive comment)
MAX_JSON = 64 * 1024
QUEUE = re.compile(r"^[\w.-]{1,100}$")
CLIENT_ID = re.compile(r"^[\w-]{1,64}$")
IP_FACTOR = 5  # one address may send for this many chats (an office behind one NAT)
FILE_CHUNK = 64 * 1024
CORS_HEADERS = "Authorization, Content-Type, Last-Event-ID"


def _static(name: str) -> str:
    return STATIC.joinpath(name).read_text("utf-8")


class WebchatRoutes:
    def __init__(self, services: Services, hub: EventHub) -> None:
        self.services = services
        self.hub = hub
        self.limits = RateLimits()

    @property
    def config(self):
        return self.services.settings.webchat

    # --- helpers ------------------------------------------------------------------------------------

    def _limit(self, key: tuple, per_minute: int) -> None:
        wait = self.limits.take(key, per_minute)
        if wait:
            raise ApiError(429, "rate_limited", f"Too many requests; try again in {int(wait)} s.",
                           headers={"Retry-After": str(int(wait))})

    def _ip(self, request: web.Request) -> str | None:
        return client_ip(request, self.services.settings.trusted_proxies)

    def _cors(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin and origin in self.config.allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Vary"] = "Origin"
        return response

    async def _session(self, request: web.Request, *, query_token: bool = False) -> webchat.VisitorSession:
        authorization = request.headers.get("Authorization", "")
        token = authorization[len("Bearer "):].strip() if authorization.startswith("Bearer ") else None
        if token is None and query_token:  # EventSource cannot send headers
            token = request.query.get("token")
        return await webchat.verify(self.services, token)

    def _frame_ancestors(self) -> str:
        return " ".join(["'self'", *self.config.allowed_origins])

    # --- the page -----------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        queue = request.query.get("queue")
        if queue is not None and not QUEUE.match(queue):
            queue = None
        config = {
            "title": self.config.title,
            "queue": queue,
            "csat": self.config.csat,
            "prechat": [{"label": q.label, "field": q.field, "required": q.required, "choices": list(q.choices)}
                        for q in self.config.prechat],
            "maxText": webchat.MAX_TEXT,
            "maxFileBytes": webchat.MAX_FILE_BYTES if self.config.file_types else 0,
            "fileTypes": list(self.config.file_types),
            "embedded": request.query.get("embed") == "1",
            "page": request.query.get("page"),
            "referrer": request.query.get("ref"),
            "origins": list(self.config.allowed_origins),
        }
        # JSON in an inert <script type="application/json">: '<' escaped so no text can close the element.
        data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        body = _static("chat.html").replace("{{title}}", html.escape(self.config.title)).replace("{{config}}", data)
        return web.Response(text=body, content_type="text/html", charset="utf-8", headers={
            "Content-Security-Policy": (
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
                f"base-uri 'none'; form-action 'none'; frame-ancestors {self._frame_ancestors()}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        })

    async def widget(self, request: web.Request) -> web.Response:
        return web.Response(text=_static("widget.js"), content_type="application/javascript", charset="utf-8",
                            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff",
                                     "Access-Control-Allow-Origin": "*"})

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise ApiError(404, "not_found", "No such file.")
        return web.Response(text=_static(name), content_type=STATIC_FILES[name], charset="utf-8",
                            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})

    # --- the API ------------------------------------------------------------------------------------

    async def preflight(self, request: web.Request) -> web.Response:
        return self._cors(request, web.Response(status=204))

    async def inbound(self, request: web.Request) -> web.Response:
        body = parse_json(await read_body(request, MAX_JSON))
        if not isinstance(body, dict):
            raise ApiError(400, "malformed", "The body must be a JSON object.")
        kind = body.get("type")
        try:
            if kind == "start":
                answer, status = await self._start(request, body), 201
            elif kind in ("message", "end", "csat"):
                session = await self._session(request)
                answer, status = await getattr(self, f"_{kind}")(request, session, body), 200
            else:
                raise ApiError(422, "invalid_field", "type must be start, message, end or csat.", "type")
        except UserError as refusal:
            raise ApiError(422, "invalid_field", refusal.text, refusal.field) from None
        return self._cors(request, web.json_response(answer, status=status))

    async def _start(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        ip = self._ip(request)
        self._limit(("start", ip), self.config.starts_per_minute)
        answers, fills = webchat.check_prechat(self.config.prechat, body.get("prechat"))
        given = body.get("customer") if isinstance(body.get("customer"), dict) else {}
        customer = {k: v for k, v in given.items() if k in ("name", "email", "phone") and isinstance(v, str) and v.strip()}
        customer.update(fills)  # the survey's answers are what the visitor typed in this page
        visitor = body.get("visitor") if isinstance(body.get("visitor"), dict) else {}

        def text(key: str) -> str | None:
            value = visitor.get(key)
            return value.strip() if isinstance(value, str) and value.strip() else None

        time_zone = text("time_zone")
        queue = body.get("queue")
        payload = {
            "source": webchat.SOURCE,
            "conversation_id": f"wc-{uuid.uuid4().hex}",
            "channel": webchat.CHANNEL,
            "kind": "customer",
            "queue": queue if isinstance(queue, str) and QUEUE.match(queue) else None,
            "customer": customer,
            "prechat": answers,
            "visitor": {
                "user_agent": request.headers.get("User-Agent") or text("user_agent"),
                "ip": ip,
                "locale": text("locale") or (request.headers.get("Accept-Language", "").split(",")[0].split(";")[0] or None),
                # No geolocation service: the browser's time zone is the place Baton knows without asking.
                "location": text("location") or (f"{time_zone} (time zone)" if time_zone else None),
                "page_url": text("page_url"),
                "referrer": text("referrer"),
            },
        }
        payload["visitor"] = {k: v for k, v in payload["visitor"].items() if v}
        handoff = parse_generic_handoff({k: v for k, v in payload.items() if v is not None})
        conversation, token = await webchat.start(self.services, handoff)
        log.info("web chat %s started", conversation)
        answer: dict[str, Any] = {"conversation": conversation, "token": token}
        if handoff.cuts:
            answer["warnings"] = [cut.warning() for cut in handoff.cuts]
        return answer

    def _limit_sender(self, request: web.Request, session: webchat.VisitorSession) -> None:
        per_minute = self.config.messages_per_minute
        self._limit(("chat", session.conversation_id), per_minute)
        self._limit(("ip", self._ip(request)), per_minute * IP_FACTOR)

    def _client_id(self, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not CLIENT_ID.match(value):
            raise UserError("client_id is up to 64 letters, digits, '-' or '_' (a UUID).", field="client_id")
        return value

    async def _message(self, request: web.Request, session: webchat.VisitorSession, body: dict[str, Any]) -> dict:
        self._limit_sender(request, session)
        text = body.get("text")
        if not isinstance(text, str):
            raise UserError("text must be a string.", field="text")
        sent = await webchat.send(self.services, session, text, client_id=self._client_id(body.get("client_id")))
        self.hub.notify(session.conversation_id)
        answer: dict[str, Any] = {"status": "duplicate" if sent.duplicate else "sent"}
        if sent.event_id:
            answer["id"] = sent.event_id
        if sent.cut:
            answer["warnings"] = [{"field": "text", "detail": f"cut to {webchat.MAX_TEXT} characters"}]
        return answer

    async def _end(self, request: web.Request, session: webchat.VisitorSession, body: dict[str, Any]) -> dict:
        await webchat.end(self.services, session)
        return {"status": "ended", "csat": self.config.csat}

    async def _csat(self, request: web.Request, session: webchat.VisitorSession, body: dict[str, Any]) -> dict:
        await webchat.rate(self.services, session, body.get("score"), body.get("comment"))
        return {"status": "rated"}

    async def files(self, request: web.Request) -> web.Response:
        session = await self._session(request)
        self._limit_sender(request, session)
        if not self.config.file_types:
            raise ApiError(403, "forbidden", "This chat takes no files.")
        if not request.content_type.startswith("multipart/"):
            raise ApiError(400, "malformed", "Send the file as multipart/form-data (field `file`).")
        text, client_id, upload = "", None, None
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.name == "file" and upload is None:
                    upload = await self._read_file(part)
                elif part.name == "text":
                    text = (await part.text())[: webchat.MAX_TEXT * 2]
                elif part.name == "client_id":
                    client_id = self._client_id((await part.text()).strip())
        except (ValueError, AssertionError) as error:
            raise ApiError(400, "malformed", f"The multipart body cannot be read ({type(error).__name__}).") from None
        if upload is None:
            raise UserError("Attach a file in the field `file`.", field="file")
        try:
            sent = await webchat.send(self.services, session, text, client_id=client_id, files=[upload])
        except UserError as refusal:
            raise ApiError(422, "invalid_field", refusal.text, refusal.field) from None
        self.hub.notify(session.conversation_id)
        return self._cors(request, web.json_response(
            {"status": "duplicate" if sent.duplicate else "sent", **({"id": sent.event_id} if sent.event_id else {})}))

    async def _read_file(self, part) -> CustomerFile:
        content_type = (part.headers.get("Content-Type") or "application/octet-stream").split(";")[0].strip().lower()
        if content_type not in self.config.file_types:
            raise ApiError(415, "unsupported_media_type",
                           f"Files of type {content_type} are not accepted here. Allowed: {', '.join(self.config.file_types)}.",
                           "file")
        name = _file_name(part.filename)
        data = bytearray()
        while chunk := await part.read_chunk(FILE_CHUNK):
            data.extend(chunk)
            if len(data) > webchat.MAX_FILE_BYTES:  # counted while reading: a liar's Content-Length changes nothing
                raise ApiError(413, "body_too_large", "A file may be at most 10 MB.", "file")
        if not data:
            raise UserError("The file is empty.", field="file")
        return CustomerFile(name, content_type, bytes(data))

    # --- the stream ---------------------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.StreamResponse:
        session = await self._session(request, query_token=True)
        cursor = _cursor(request.headers.get("Last-Event-ID") or request.query.get("after"))
        response = self._cors(request, web.StreamResponse(headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx would hold the events back otherwise
        }))
        await response.prepare(request)
        wake = self.hub.subscribe(session.conversation_id)
        log.debug("web chat stream of conversation %s open after id %s", session.conversation_id, cursor)
        try:
            await response.write(b"retry: 2000\n\n")
            woken = True
            while not self.hub.closing:
                if woken:  # a keepalive reads nothing: an idle stream costs no query
                    wake.clear()  # before the read: a wake-up during the read makes the next wait return at once
                    events = await webchat.events_after(session, cursor)
                    for event in events:
                        data = json.dumps({**event.payload, "id": event.id, "client_id": event.client_id}, ensure_ascii=False)
                        await response.write(f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n".encode())
                        cursor = event.id
                    if events and log.isEnabledFor(logging.DEBUG):
                        log.debug("web chat stream of conversation %s sent ids %s", session.conversation_id,
                                  [e.id for e in events])
                try:
                    # Spread over the last third: streams opened together (a deploy, a reconnect wave) do
                    # not all ping in the same instant, ahead of a reply written meanwhile.
                    await asyncio.wait_for(wake.wait(), PING_SECONDS * random.uniform(2 / 3, 1))
                    woken = True
                except asyncio.TimeoutError:
                    await response.write(b": ping\n\n")  # keeps proxies from closing an idle stream
                    woken = False
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.hub.unsubscribe(session.conversation_id, wake)
        return response


def _cursor(value: str | None) -> int:
    try:
        return max(0, int(value)) if value else 0
    except ValueError:
        return 0


def _file_name(raw: str | None) -> str:
    # Browsers send '"' and line breaks in a file name as %22, %0A (HTML's form encoding), and aiohttp
    # percent-encodes more: decoded here, so the thread shows the name the visitor sees.
    name = unquote(raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:200] or "file"


def setup(app: web.Application, services: Services) -> EventHub:
    """Mount the web chat and register its way back to visitors; returns the hub (its lifecycle is the app's)."""
    hub = EventHub(webchat.recent_events, webchat.newest_event_id, poll_seconds=0.25, listen=webchat.listen_events,
                   in_order=webchat.ids_commit_in_order)
    services.customer_channels.append(WebchatChannel(services, hub))
    routes = WebchatRoutes(services, hub)

    async def run_hub(app: web.Application):
        await hub.start()
        yield
        await hub.stop()

    app.cleanup_ctx.append(run_hub)
    app.on_shutdown.append(hub.close_streams)
    app.router.add_get("/chat", routes.page)
    app.router.add_get("/chat/widget.js", routes.widget)
    app.router.add_get("/chat/static/{name}", routes.static)
    for path, handler in (("/inbound/webchat", routes.inbound), ("/inbound/webchat/files", routes.files)):
        app.router.add_post(path, handler)
        app.router.add_route("OPTIONS", path, routes.preflight)
    app.router.add_get("/inbound/webchat/events", routes.events)
    app.router.add_route("OPTIONS", "/inbound/webchat/events", routes.preflight)
    return hub

"""Inbound Twilio webhooks signed exactly as Twilio signs them, and a small aiohttp app that receives
them with Baton's SMS edge functions (what the `/inbound/sms` route does once it is wired).

Twilio's scheme (PROTOCOLS.md §4): X-Twilio-Signature = base64(HMAC-SHA1(auth token, the URL Twilio
called + every parameter name and value, sorted by name)). Signed here with the official library.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from bot.errors import ApiError
from bot.sms.webhook import parse_inbound, signed_url, verify_signature
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN

FIXTURES = Path(__file__).parent / "data" / "fixtures"
PUBLIC_URL = "https://baton.example.com"
CUSTOMER = "+14155550123"
BATON_NUMBER = "+14155559876"


def fixture_params(name: str) -> list[tuple[str, str]]:
    """A fixture's form body (tests/data/fixtures/twilio_*.txt) as Twilio's ordered parameters."""
    return parse_qsl((FIXTURES / name).read_text("utf-8").strip(), keep_blank_values=True)


def inbound_params(body: str = "Hello", *, media: list[tuple[str, str]] = (), **overrides: str) -> list[tuple[str, str]]:
    """A realistic inbound SMS/MMS webhook form: 34-character SIDs, geo fields, `MediaUrl{N}`."""
    params = {
        "ToCountry": "US", "ToState": "CA", "SmsMessageSid": "SM" + "a" * 32, "NumMedia": str(len(media)),
        "ToCity": "SAN FRANCISCO", "FromZip": "94105", "SmsSid": "SM" + "a" * 32, "FromState": "CA",
        "SmsStatus": "received", "FromCity": "SAN FRANCISCO", "Body": body, "FromCountry": "US",
        "To": BATON_NUMBER, "ToZip": "94105", "NumSegments": "1", "MessageSid": "SM" + "a" * 32,
        "AccountSid": ACCOUNT_SID, "From": CUSTOMER, "ApiVersion": "2010-04-01",
    }
    for index, (url, content_type) in enumerate(media):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = content_type
    params.update(overrides)
    return list(params.items())


def twilio_signature(url: str, params: list[tuple[str, str]], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, MultiDict(params))


def signed_post(path: str, params: list[tuple[str, str]], *, public_url: str = PUBLIC_URL,
                token: str = AUTH_TOKEN) -> tuple[bytes, dict[str, str]]:
    """The body and headers of Twilio's POST to `public_url + path`."""
    body = urlencode(params).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(public_url + path, params, token),
        "User-Agent": "TwilioProxy/1.1",
    }
    return body, headers


@asynccontextmanager
async def sms_receiver(*, public_url: str | None = PUBLIC_URL, auth_token: str | None = AUTH_TOKEN) -> AsyncIterator[tuple[TestServer, list]]:
    """A real HTTP server whose `/inbound/sms` checks and parses with `bot.sms.webhook`, answering
    TwiML `<Response/>` or the JSON error; yields (server, the InboundSms values received)."""
    received: list = []

    async def inbound(request: web.Request) -> web.Response:
        form = await request.post()
        url = signed_url(public_url, request.path_qs) if public_url else str(request.url)
        try:
            verify_signature(request.headers, url, form, auth_token=auth_token)
            received.append(parse_inbound(form))
        except ApiError as error:
            return web.json_response(error.body(), status=error.status)
        return web.Response(text="<Response/>", content_type="text/xml")

    app = web.Application()
    app.router.add_post("/inbound/sms", inbound)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, received
    finally:
        await server.close()

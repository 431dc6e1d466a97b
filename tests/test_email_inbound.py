"""What `/inbound/email` receives: SendGrid's and Mailgun's raw-MIME forms, a raw message/rfc822 body,
and who is trusted. Posted over real HTTP (aiohttp's own multipart and urlencoded encoders) to a small
server that reads the raw body with `bot.email.inbound` — what the route does once it is wired."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.email.inbound import read_form, read_inbound, verify_mailgun
from bot.email.message import parse_email
from bot.errors import ApiError
from bot.signing import signed_headers
from tests.email_messages import make_email

SECRET = "whsec-baton-test"
TOKEN = "tok-baton-test"
MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
NOW = 1_770_000_000


@asynccontextmanager
async def email_receiver(*, secret=SECRET, token=TOKEN, mailgun_key=MAILGUN_KEY, now=NOW):
    received: list = []

    async def inbound(request: web.Request) -> web.Response:
        try:
            found = read_inbound(request.headers, await request.read(), webhook_secret=secret, webhook_token=token,
                                 mailgun_signing_key=mailgun_key, now=now)
        except ApiError as error:
            return web.json_response(error.body(), status=error.status)
        received.append(found)
        return web.json_response({"status": "queued"}, status=202)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/inbound/email", inbound)
    app.router.add_post("/inbound/email/mime", inbound)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, received
    finally:
        await server.close()


async def _post(server, data, headers=None, path="/inbound/email", auth=None):
    headers = dict(headers or {})
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    async with aiohttp.ClientSession() as http:
        async with http.post(server.make_url(path), data=data, headers=headers) as response:
            return response.status, await response.json()


def form_data(fields: list[tuple[str, str | bytes]]) -> aiohttp.MultipartWriter:
    """multipart/form-data as aiohttp encodes it; bytes fields go exactly as given (no filename)."""
    writer = aiohttp.MultipartWriter("form-data")
    for name, value in fields:
        part = writer.append(value, {"Content-Type": "text/plain"})
        part.set_content_disposition("form-data", name=name)
    return writer


def mailgun_fields(raw: bytes, *, key: str = MAILGUN_KEY, timestamp: int = NOW, token: str = "a" * 50):
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return form_data([("recipient", "support@acme.example"), ("sender", "dana@example.com"),
                      ("timestamp", str(timestamp)), ("token", token), ("signature", signature), ("body-mime", raw)])


def sendgrid_fields(raw: bytes):
    return form_data([("envelope", json.dumps({"to": ["support@acme.example"], "from": "dana@example.com"})),
                      ("charsets", json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"})),
                      ("email", raw)])


# --- SendGrid --------------------------------------------------------------------------------------


async def test_sendgrid_raw_mime_with_basic_credentials_gives_the_message_byte_for_byte():
    raw = make_email("Mon colis est abîmé 📦", attachments=[("photo.jpg", "image/jpeg", bytes(range(256)) * 100)])
    async with email_receiver() as (server, received):
        status, _ = await _post(server, sendgrid_fields(raw), auth=f"baton:{TOKEN}")

    assert status == 202
    assert received[0].provider == "sendgrid"
    assert received[0].raw == raw
    assert parse_email(received[0].raw).new_text == "Mon colis est abîmé 📦"


async def test_sendgrid_without_credentials_is_refused():
    async with email_receiver() as (server, received):
        status, body = await _post(server, sendgrid_fields(make_email("hi")))
    assert status == 401
    assert body["error"] == "bad_signature"
    assert received == []


async def test_a_wrong_basic_password_or_user_is_refused():
    async with email_receiver() as (server, received):
        wrong_password, _ = await _post(server, sendgrid_fields(make_email("hi")), auth="baton:guess")
        wrong_user, _ = await _post(server, sendgrid_fields(make_email("hi")), auth=f"admin:{TOKEN}")
    assert (wrong_password, wrong_user) == (401, 401)
    assert received == []


async def test_a_message_in_a_legacy_8bit_charset_arrives_unchanged():
    raw = (b"From: dana@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\nJ'ai re\xe7u un colis ab\xeem\xe9.\r\n")
    async with email_receiver() as (server, received):
        status, _ = await _post(server, form_data([("email", raw)]), auth=f"baton:{TOKEN}")
    assert status == 202
    assert received[0].raw == raw


async def test_a_form_with_neither_field_is_a_422_naming_email():
    form = form_data([("text", "parsed, not raw")])
    async with email_receiver() as (server, _):
        status, body = await _post(server, form, auth=f"baton:{TOKEN}")
    assert status == 422
    assert body["field"] == "email"
    assert "POST the raw, full MIME message" in body["detail"]


# --- Mailgun ---------------------------------------------------------------------------------------


async def test_a_signed_mailgun_post_gives_the_raw_message():
    raw = make_email("Where is my refund?")
    async with email_receiver() as (server, received):
        status, _ = await _post(server, mailgun_fields(raw), path="/inbound/email/mime")
    assert status == 202
    assert received[0].provider == "mailgun"
    assert received[0].raw == raw


async def test_mailgun_urlencoded_posts_are_read_too():
    raw = make_email("no attachments, so Mailgun may urlencode")
    signature = hmac.new(MAILGUN_KEY.encode(), f"{NOW}{'t' * 50}".encode(), hashlib.sha256).hexdigest()
    data = {"timestamp": str(NOW), "token": "t" * 50, "signature": signature, "body-mime": raw.decode()}
    async with email_receiver() as (server, received):
        status, _ = await _post(server, data)
    assert status == 202
    assert received[0].raw == raw


async def test_a_mailgun_signature_made_with_another_key_is_refused():
    async with email_receiver() as (server, received):
        status, body = await _post(server, mailgun_fields(make_email("hi"), key="key-wrong"))
    assert status == 401
    assert "MAILGUN_SIGNING_KEY" in body["detail"]
    assert received == []


async def test_a_stale_mailgun_signature_is_refused_even_when_correct():
    async with email_receiver() as (server, received):
        old, _ = await _post(server, mailgun_fields(make_email("hi"), timestamp=NOW - 301))
        future, _ = await _post(server, mailgun_fields(make_email("hi"), timestamp=NOW + 301))
        fresh, _ = await _post(server, mailgun_fields(make_email("hi"), timestamp=NOW - 299))
    assert (old, future, fresh) == (401, 401, 202)


async def test_a_captured_mailgun_post_replayed_an_hour_later_is_refused():
    # Mailgun signs only timestamp + token, so a captured signature could carry another body: the window
    # is what keeps it from being reused.
    async with email_receiver(now=NOW + 3600) as (server, received):
        status, _ = await _post(server, mailgun_fields(make_email("forged body")))
    assert status == 401
    assert received == []


async def test_mailgun_without_a_signing_key_needs_basic_credentials():
    async with email_receiver(mailgun_key=None) as (server, received):
        unsigned, _ = await _post(server, mailgun_fields(make_email("hi")))
        with_basic, _ = await _post(server, mailgun_fields(make_email("hi")), auth=f"baton:{TOKEN}")
    assert (unsigned, with_basic) == (401, 202)


async def test_mailguns_parsed_format_says_how_to_get_the_raw_one():
    parsed = form_data([("body-plain", "hi"), ("timestamp", str(NOW))])
    async with email_receiver() as (server, _):
        status, body = await _post(server, parsed, auth=f"baton:{TOKEN}")
    assert status == 422
    assert body["field"] == "body-mime"
    assert "mime" in body["detail"]


@pytest.mark.parametrize("missing", ["timestamp", "token", "signature"])
def test_a_mailgun_form_without_its_signature_fields_is_refused(missing):
    fields = {"timestamp": str(NOW).encode(), "token": b"t" * 50, "signature": b"0" * 64}
    del fields[missing]
    with pytest.raises(ApiError) as refused:
        verify_mailgun(fields, signing_key=MAILGUN_KEY, now=NOW)
    assert refused.value.status == 401


def test_the_mailgun_signature_is_compared_case_insensitively_as_hex():
    signature = hmac.new(MAILGUN_KEY.encode(), f"{NOW}tok".encode(), hashlib.sha256).hexdigest().upper()
    verify_mailgun({"timestamp": str(NOW).encode(), "token": b"tok", "signature": signature.encode()},
                   signing_key=MAILGUN_KEY, now=NOW)


# --- raw message/rfc822 ----------------------------------------------------------------------------


async def test_a_raw_message_signed_as_in_3_1_is_accepted():
    raw = make_email("From my Postfix pipe")
    headers = {"Content-Type": "message/rfc822", **signed_headers(SECRET, NOW, raw)}
    async with email_receiver() as (server, received):
        status, _ = await _post(server, raw, headers)
    assert status == 202
    assert received[0] == type(received[0])(raw, "rfc822")


async def test_a_raw_message_with_basic_credentials_is_accepted():
    raw = make_email("curl -u baton:token")
    async with email_receiver() as (server, received):
        status, _ = await _post(server, raw, {"Content-Type": "message/rfc822"}, auth=f"baton:{TOKEN}")
    assert status == 202


async def test_a_raw_message_with_a_bearer_token_is_accepted():
    raw = make_email("bearer")
    async with email_receiver() as (server, _):
        status, _ = await _post(server, raw, {"Content-Type": "message/rfc822", "Authorization": f"Bearer {TOKEN}"})
    assert status == 202


async def test_a_raw_message_whose_body_changed_after_signing_is_refused():
    raw = make_email("original")
    headers = {"Content-Type": "message/rfc822", **signed_headers(SECRET, NOW, raw)}
    async with email_receiver() as (server, received):
        status, _ = await _post(server, raw.replace(b"original", b"tampered"), headers)
    assert status == 401
    assert received == []


async def test_an_unsigned_raw_message_is_refused():
    async with email_receiver() as (server, _):
        status, _ = await _post(server, make_email("hi"), {"Content-Type": "message/rfc822"})
    assert status == 401


async def test_an_empty_raw_message_is_a_400():
    async with email_receiver() as (server, _):
        status, body = await _post(server, b"", {"Content-Type": "message/rfc822"}, auth=f"baton:{TOKEN}")
    assert status == 400


async def test_json_is_not_an_email_post():
    async with email_receiver() as (server, _):
        status, body = await _post(server, b'{"email": "x"}', {"Content-Type": "application/json"}, auth=f"baton:{TOKEN}")
    assert status == 400
    assert body["error"] == "malformed"


async def test_with_nothing_configured_email_is_off():
    async with email_receiver(secret=None, token=None, mailgun_key=None) as (server, _):
        status, body = await _post(server, make_email("hi"), {"Content-Type": "message/rfc822"})
    assert status == 503
    assert body["error"] == "not_configured"


def test_a_multipart_body_with_a_wrong_boundary_is_a_400():
    with pytest.raises(ApiError) as refused:
        read_form("multipart/form-data; boundary=abc", b"--xyz\r\nContent-Disposition: form-data; name=email\r\n\r\nx\r\n--xyz--\r\n")
    assert refused.value.status == 400


def test_a_10_mb_message_in_a_form_comes_out_whole():
    raw = make_email("big", attachments=[("video.mp4", "video/mp4", bytes(range(256)) * (40 * 1024))])  # 10 MiB
    body = (b"--B\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n" + raw + b"\r\n--B--\r\n")
    assert read_form("multipart/form-data; boundary=B", body)["email"] == raw

"""What `POST /inbound/email` receives, as the raw message it carries (SPEC 3.7, PROTOCOLS.md §6).

Three shapes, told apart by Content-Type and fields:
- `message/rfc822`: the raw message itself (a Postfix pipe, any MTA), signed as in SPEC 3.1
  (`X-Baton-Signature` or `Authorization: Bearer`);
- SendGrid Inbound Parse with "POST the raw, full MIME message": multipart form, the message in `email`;
  SendGrid cannot sign, so it carries credentials in its URL (`https://baton:<token>@…`);
- Mailgun routes forwarding to a URL ending in `mime` (Mailgun sends the raw message to no other URL):
  the message in `body-mime`, signed with
  `signature` = hex HMAC-SHA256(MAILGUN_SIGNING_KEY, timestamp + token), at most 5 minutes old.
Any of them may instead carry `Authorization: Basic` with user `baton` and password
`BATON_WEBHOOK_TOKEN`. Forms are read from the raw body here, so the message's bytes arrive exactly
as sent, whatever their charset. Pure functions: errors are `ApiError`s (400, 401, 422, 503).
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import hashlib
import hmac
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import parse_qsl

from bot.errors import ApiError, invalid, malformed, unauthorized
from bot.signing import verify

MAILGUN_WINDOW_SECONDS = 300
BASIC_USER = "baton"


@dataclass(frozen=True)
class RawEmail:
    raw: bytes
    provider: str  # "rfc822" | "sendgrid" | "mailgun"


def read_form(content_type: str, body: bytes) -> dict[str, bytes]:
    """A multipart/form-data or urlencoded body as {field: bytes} (the first value of a repeated field)."""
    kind = content_type.split(";")[0].strip().lower()
    fields: dict[str, bytes] = {}
    if kind == "application/x-www-form-urlencoded":
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            raise malformed("A urlencoded form must be ASCII.") from None
        for key, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1"):
            fields.setdefault(key, value.encode("latin-1"))
        return fields
    if kind != "multipart/form-data":
        raise malformed("Expected a multipart/form-data or urlencoded form.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not form.is_multipart() or any(type(d).__name__ in ("NoBoundaryInMultipartDefect", "StartBoundaryNotFoundDefect")
                                      for d in form.defects):
        raise malformed("The multipart form has no parts (a wrong or missing boundary).")
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        fields.setdefault(str(name), payload if isinstance(payload, bytes) else b"")
    return fields


def basic_credentials_valid(headers: Mapping[str, str], token: str | None) -> bool | None:
    """None without Basic credentials; otherwise whether they are `baton:<BATON_WEBHOOK_TOKEN>`."""
    authorization = headers.get("Authorization", "")
    if not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        return False
    if not token:
        return False
    return hmac.compare_digest(user.encode(), BASIC_USER.encode()) & hmac.compare_digest(password.encode(), token.encode())


def verify_mailgun(fields: Mapping[str, bytes], *, signing_key: str, now: float,
                   window: float = MAILGUN_WINDOW_SECONDS) -> None:
    """Raise 401 unless the form's signature is Mailgun's for its timestamp and token, and recent."""
    try:
        timestamp, token, signature = (fields[name].decode("ascii").strip() for name in ("timestamp", "token", "signature"))
    except KeyError:
        raise unauthorized("Mailgun's timestamp, token and signature fields are required.") from None
    except UnicodeDecodeError:
        raise unauthorized("Mailgun's signature fields are not ASCII.") from None
    try:
        sent_at = float(timestamp)
    except ValueError:
        raise unauthorized("Mailgun's timestamp must be unix seconds.") from None
    if abs(now - sent_at) > window:
        raise unauthorized(f"Mailgun's timestamp is outside the {int(window)}-second window.")
    expected = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise unauthorized("The Mailgun signature does not match (check MAILGUN_SIGNING_KEY).")


def read_inbound(
    headers: Mapping[str, str],
    body: bytes,
    *,
    webhook_secret: str | None,
    webhook_token: str | None,
    mailgun_signing_key: str | None,
    now: float,
) -> RawEmail:
    """The raw message of an inbound email post, once its sender is trusted."""
    if not (webhook_secret or webhook_token or mailgun_signing_key):
        raise ApiError(503, "not_configured",
                       "Set BATON_WEBHOOK_SECRET, BATON_WEBHOOK_TOKEN or MAILGUN_SIGNING_KEY to accept email.")
    basic = basic_credentials_valid(headers, webhook_token)
    if basic is False:
        raise unauthorized("The Basic credentials are not baton:<BATON_WEBHOOK_TOKEN>.")
    content_type = headers.get("Content-Type", "")
    kind = content_type.split(";")[0].strip().lower()

    if kind == "message/rfc822":
        if not basic:
            verify(headers, body, secret=webhook_secret, token=webhook_token, now=now)
        if not body.strip():
            raise malformed("The message is empty.")
        return RawEmail(body, "rfc822")

    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise malformed("Send the raw message as message/rfc822, or SendGrid's or Mailgun's raw-MIME form post.")
    fields = read_form(content_type, body)
    if "body-mime" in fields:
        if not basic:
            if not mailgun_signing_key:
                raise unauthorized("Set MAILGUN_SIGNING_KEY, or put baton:<token> credentials in Mailgun's URL.")
            verify_mailgun(fields, signing_key=mailgun_signing_key, now=now)
        provider, raw = "mailgun", fields["body-mime"]
    elif "email" in fields:
        if not basic:
            # SendGrid cannot sign: its URL carries the credentials. A relay may sign as in SPEC 3.1.
            verify(headers, body, secret=webhook_secret, token=webhook_token, now=now)
        provider, raw = "sendgrid", fields["email"]
    elif "body-plain" in fields or "stripped-text" in fields:
        raise invalid("body-mime", "Mailgun sent its parsed format, without the raw message: forward to a URL "
                                   "ending in `mime` (Baton's /inbound/email/mime).")
    else:
        raise invalid("email", "No raw message: SendGrid sends it in `email` (turn on \"POST the raw, full MIME "
                               "message\"), Mailgun in `body-mime` (forward to a URL ending in `mime`).")
    if not raw.strip():
        raise invalid("body-mime" if provider == "mailgun" else "email", "The raw message is empty.")
    return RawEmail(raw, provider)

"""Twilio's messaging webhook (PROTOCOLS.md §4): its signature, and its form as a frozen `InboundSms`.

Twilio signs the URL it called plus every parameter it sent. Behind a proxy or a load balancer the
URL Baton sees (`http://10.0.0.5:3978/inbound/sms`) is not that URL, so the signature is checked
against `BATON_PUBLIC_URL` + the path and query Baton received (`signed_url`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from twilio.request_validator import RequestValidator, get_signature_algorithm

from bot.errors import ApiError, invalid, unauthorized
from bot.identity import normalize_phone
from bot.sms.keywords import Keyword, keyword_of

SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
MAX_MEDIA = 10  # Twilio delivers at most ten media files per message


def signed_url(public_url: str, path_qs: str) -> str:
    """The URL Twilio signed: the public base URL (which may carry a path prefix of its own, e.g.
    `https://example.com/baton`) followed by the path and query string of the request as received."""
    return public_url.rstrip("/") + "/" + path_qs.lstrip("/")


def verify_signature(
    headers: Mapping[str, str], url: str, params: Any, *, auth_token: str | None
) -> None:
    """Raise 401 unless `X-Twilio-Signature` signs `url` and `params` with `auth_token`.

    `params` is the form as received, every parameter (Twilio adds new ones without notice): a
    multidict such as aiohttp's `await request.post()`, so repeated keys count as Twilio counts them."""
    if not auth_token:
        raise ApiError(503, "not_configured", "Set TWILIO_AUTH_TOKEN to accept Twilio's webhook.")
    signature = headers.get(SIGNATURE_HEADER)
    if not signature:
        raise unauthorized(f"Missing {SIGNATURE_HEADER} header.")
    algorithm = get_signature_algorithm(headers.get(SIGNATURE_SETTINGS_HEADER))
    if not RequestValidator(auth_token).validate(url, params, signature, algorithm):
        raise unauthorized("The Twilio signature does not match this URL and these parameters.")


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str | None


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    from_number: str  # where a reply goes: the sender exactly as Twilio gave it
    phone: str | None  # the sender in E.164 when it is a phone number: the customer's identity
    to: str | None  # the Baton number the customer wrote to; replies come from it
    body: str
    media: tuple[Media, ...] = ()
    messaging_service_sid: str | None = None
    account_sid: str | None = None
    keyword: Keyword | None = None


def _text(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _media(form: Mapping[str, Any]) -> tuple[Media, ...]:
    try:
        count = int(form.get("NumMedia") or 0)
    except (TypeError, ValueError):
        count = MAX_MEDIA  # look at what is there
    found = []
    for index in range(min(max(count, 0), MAX_MEDIA)):
        url = _text(form, f"MediaUrl{index}")
        if url:
            found.append(Media(url, _text(form, f"MediaContentType{index}")))
    return tuple(found)


def parse_inbound(form: Mapping[str, Any]) -> InboundSms:
    """The webhook's form as an `InboundSms`; 422 naming the field when `MessageSid` or `From` is missing.

    `SmsMessageSid` and `SmsSid` are older names of `MessageSid`; the body is kept as the customer
    typed it (any length, any script: SPEC 3.4)."""
    message_sid = _text(form, "MessageSid") or _text(form, "SmsMessageSid") or _text(form, "SmsSid")
    if message_sid is None:
        raise invalid("MessageSid", "Twilio's webhook always carries MessageSid; this request has none.")
    sender = _text(form, "From")
    if sender is None:
        raise invalid("From", "The message has no From number.")
    body = form.get("Body")
    body = body if isinstance(body, str) else ""
    return InboundSms(
        message_sid=message_sid,
        from_number=sender,
        phone=normalize_phone(sender),
        to=_text(form, "To"),
        body=body,
        media=_media(form),
        messaging_service_sid=_text(form, "MessagingServiceSid"),
        account_sid=_text(form, "AccountSid"),
        keyword=keyword_of(body, _text(form, "OptOutType")),
    )

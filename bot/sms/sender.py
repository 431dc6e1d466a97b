"""Replies to a customer's phone through Twilio's Messages API (PROTOCOLS.md §5), for the outbox.

`POST {TWILIO_API_URL}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, HTTP Basic
`AccountSid:AuthToken`, from the number the customer wrote to, else `TWILIO_FROM`, else the Messaging
Service. Failures become the outbox's two answers: `RetryLater` when waiting can help (429 / 20429
with its Retry-After, 5xx, no connection, a timeout) and `GiveUp` when it cannot (21610 the customer
texted STOP, 21211 not a mobile number, any other 4xx with Twilio's message). Nothing is retried here.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Awaitable, Callable, Sequence

import aiohttp

from bot.delivery.poster import GiveUp, RetryLater
from bot.settings import Settings
from bot.sms.split import BODY_LIMIT, split_reply, utf16_length

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
MAX_MEDIA_PER_MESSAGE = 10
DEFAULT_RETRY_AFTER = 5.0
OPTED_OUT = 21610
NOT_MOBILE = 21211
THROTTLED = 20429
# Twilio's messages name the number at fault; a reason is logged and shown, so it names none.
_PHONE = re.compile(r"\+?\d[\d ().-]{5,}\d")


@dataclass(frozen=True)
class SentSms:
    sid: str
    status: str | None
    num_segments: int | None


def basic_authorization(user: str, password: str) -> str:
    """The `Authorization` header value of HTTP Basic auth (Twilio: AccountSid and AuthToken)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def retry_after_seconds(value: str | None, default: float = DEFAULT_RETRY_AFTER) -> float:
    """A Retry-After header (seconds or an HTTP date) as seconds to wait."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _redact(text: str) -> str:
    return _PHONE.sub("<number>", text)


def _failure(status: int, payload: Any, headers: Any) -> Exception:
    """Twilio's error answer as RetryLater or GiveUp."""
    error = payload if isinstance(payload, dict) else {}
    try:
        code = int(error.get("code")) if error.get("code") is not None else None
    except (TypeError, ValueError):
        code = None
    message = error.get("message") if isinstance(error.get("message"), str) else None
    if status == 429 or code == THROTTLED:
        return RetryLater(retry_after_seconds(headers.get("Retry-After")), f"Twilio is throttling (HTTP {status})")
    if status >= 500:
        return RetryLater(retry_after_seconds(headers.get("Retry-After")), f"Twilio answered {status}")
    if code == OPTED_OUT:
        return GiveUp("the customer opted out (STOP)", code=str(code))
    if code == NOT_MOBILE:
        return GiveUp("not a valid mobile number", code=str(code))
    if status == 401:
        return GiveUp("Twilio refused Baton's credentials (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)",
                      code=str(code) if code else None)
    reason = _redact(message) if message else f"Twilio refused the message (HTTP {status})"
    return GiveUp(f"{reason} (Twilio error {code})" if code else reason, code=str(code) if code else None)


class TwilioSender:
    """One Twilio account's Messages API. Create it once (it holds a connection pool); `close()` at the end."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        api_url: str = "https://api.twilio.com",
        default_from: str | None = None,
        messaging_service_sid: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.account_sid = account_sid
        self.api_url = api_url.rstrip("/")
        self.default_from = default_from
        self.messaging_service_sid = messaging_service_sid
        self._headers = {"Authorization": basic_authorization(account_sid, auth_token)}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSender | None:
        """The sender for `Settings`, or None when the SMS channel has no credentials."""
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            return None
        return cls(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            api_url=settings.twilio_api_url,
            default_from=settings.twilio_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
        )

    @property
    def messages_url(self) -> str:
        return f"{self.api_url}/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def sender_fields(self, from_number: str | None) -> list[tuple[str, str]]:
        """Who the message comes from: the number the customer wrote to, else TWILIO_FROM, else the
        Messaging Service (which picks one of its numbers)."""
        if from_number or self.default_from:
            return [("From", from_number or self.default_from)]
        if self.messaging_service_sid:
            return [("MessagingServiceSid", self.messaging_service_sid)]
        raise GiveUp("no sender for SMS replies: set TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")

    async def send(
        self,
        to: str,
        body: str,
        *,
        from_number: str | None = None,
        media_urls: Sequence[str] = (),
        status_callback: str | None = None,
    ) -> SentSms:
        """Send one message (`body` within 1,600 characters, at most ten media URLs Twilio can fetch)."""
        if utf16_length(body) > BODY_LIMIT:
            raise ValueError("an SMS body is at most 1,600 characters: send split_reply()'s parts")
        if len(media_urls) > MAX_MEDIA_PER_MESSAGE:
            raise ValueError("a message carries at most ten media URLs")
        form = [("To", to), *self.sender_fields(from_number)]
        if body:
            form.append(("Body", body))
        form.extend(("MediaUrl", url) for url in media_urls)
        if status_callback:
            form.append(("StatusCallback", status_callback))
        try:
            async with self._http().post(self.messages_url, data=form, headers=self._headers) as response:
                try:
                    payload = await response.json(content_type=None)
                except ValueError:  # a proxy's HTML page, an empty body
                    payload = None
                if response.status >= 300:
                    raise _failure(response.status, payload, response.headers)
        except aiohttp.ClientError as error:
            raise RetryLater(DEFAULT_RETRY_AFTER, f"Twilio unreachable: {type(error).__name__}") from None
        except asyncio.TimeoutError:
            raise RetryLater(DEFAULT_RETRY_AFTER, "Twilio did not answer in time") from None
        payload = payload if isinstance(payload, dict) else {}
        segments = payload.get("num_segments")
        sent = SentSms(
            sid=str(payload.get("sid") or ""),
            status=payload.get("status"),
            num_segments=int(segments) if str(segments or "").isdigit() else None,
        )
        log.debug("Twilio accepted message %s (%s)", sent.sid, sent.status)
        return sent

    async def send_reply(
        self,
        to: str,
        text: str,
        *,
        from_number: str | None = None,
        media_urls: Sequence[str] = (),
        start_at: int = 0,
        on_sent: Callable[[int, SentSms], Awaitable[None]] | None = None,
    ) -> list[SentSms]:
        """Send a reply of any length: its text in parts (`split_reply`), then its media, ten per message.

        Each message sent is reported to `on_sent(index, sms)` before the next goes, so a caller that
        records the index can resume a reply cut short by RetryLater with `start_at` and never send a
        part twice."""
        messages: list[tuple[str, list[str]]] = [(part, []) for part in split_reply(text)]
        media = list(media_urls)
        if media:
            if not messages:
                messages.append(("", []))
            messages[-1][1].extend(media[:MAX_MEDIA_PER_MESSAGE])
            rest = media[MAX_MEDIA_PER_MESSAGE:]
            messages.extend(("", rest[i:i + MAX_MEDIA_PER_MESSAGE]) for i in range(0, len(rest), MAX_MEDIA_PER_MESSAGE))
        sent = []
        for index, (body, urls) in enumerate(messages):
            if index < start_at:
                continue
            sms = await self.send(to, body, from_number=from_number, media_urls=urls)
            sent.append(sms)
            if on_sent is not None:
                await on_sent(index, sms)
        return sent

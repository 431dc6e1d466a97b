"""Replies sent by SMTP (`BATON_SMTP_URL`, SPEC 3.7) with aiosmtplib, for the outbox.

`smtp://user:pass@smtp.example.com:587?starttls=true` (STARTTLS required), `smtps://…:465` (TLS from the
first byte), `smtp://relay.internal:25` (a local relay: STARTTLS when the server offers it, unless
`?starttls=false`). User and password are percent-decoded. Failures become the outbox's two answers:
RetryLater for what waiting can heal (no connection, a timeout, a TLS failure, any 4xx reply) and
GiveUp for what it cannot (a 5xx reply, a server without the STARTTLS or AUTH the URL asks for).
Reasons never carry an address: they are logged and shown.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from bot.delivery.poster import GiveUp, RetryLater
from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_RETRY_SECONDS = 60.0  # a server that answered "later" (4xx, greylisting) wants minutes, not seconds
UNREACHABLE_RETRY_SECONDS = 5.0  # no server at all (down, restarting): the outbox's own backoff grows from here
_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class SmtpUrl:
    hostname: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # smtps://
    start_tls: bool | None = None  # True required, False never, None when offered

    @classmethod
    def parse(cls, url: str) -> SmtpUrl:
        """Read BATON_SMTP_URL; ValueError naming what is wrong."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("BATON_SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("BATON_SMTP_URL names no host")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("BATON_SMTP_URL has a port that is not a number") from None
        query = {k.lower(): v[-1].strip().lower() for k, v in parse_qs(parts.query).items()}
        start_tls: bool | None = None
        if "starttls" in query:
            if query["starttls"] in _TRUE:
                start_tls = True
            elif query["starttls"] in _FALSE:
                start_tls = False
            else:
                raise ValueError("BATON_SMTP_URL: starttls must be true or false")
        use_tls = parts.scheme == "smtps"
        if use_tls and start_tls:
            raise ValueError("BATON_SMTP_URL: smtps:// is TLS already; starttls=true is for smtp://")
        if use_tls:
            start_tls = False
        return cls(
            hostname=parts.hostname,
            port=port or (465 if use_tls else 587 if start_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=start_tls,
        )


def _redact(text: str) -> str:
    return _ADDRESS.sub("<address>", " ".join(text.split()))[:200]


def _by_code(code: int, message: str, what: str) -> Exception:
    said = _redact(message)
    if 400 <= code < 500:
        return RetryLater(DEFAULT_RETRY_SECONDS, f"the mail server deferred {what}: {code} {said}".rstrip())
    if 500 <= code < 600:
        return GiveUp(f"the mail server refused {what}: {code} {said}".rstrip(), code=str(code))
    return RetryLater(DEFAULT_RETRY_SECONDS, f"the mail server failed on {what}")


class SmtpSender:
    def __init__(self, url: SmtpUrl | str, *, timeout: float = 30.0, tls_context: ssl.SSLContext | None = None) -> None:
        self.url = url if isinstance(url, SmtpUrl) else SmtpUrl.parse(url)
        self.timeout = timeout
        self.tls_context = tls_context  # None: the system's trusted CAs

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender | None:
        return cls(settings.smtp_url) if settings.smtp_url else None

    async def send(self, message: EmailMessage) -> None:
        """Hand `message` to the server for its From/To (envelope sender: the From address)."""
        url = self.url
        try:
            refused, _ = await aiosmtplib.send(
                message,
                hostname=url.hostname,
                port=url.port,
                username=url.username,
                password=url.password,
                use_tls=url.use_tls,
                start_tls=url.start_tls,
                tls_context=self.tls_context,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            first = error.recipients[0] if error.recipients else None
            raise (_by_code(first.code, first.message, "the recipient") if first
                   else RetryLater(DEFAULT_RETRY_SECONDS, "the mail server refused the recipients")) from None
        except aiosmtplib.SMTPAuthenticationError as error:
            raise _by_code(error.code, "check the user and password in BATON_SMTP_URL", "Baton's login") from None
        except aiosmtplib.SMTPResponseException as error:
            raise _by_code(error.code, error.message, "the message") from None
        except aiosmtplib.SMTPNotSupported as error:
            raise GiveUp(f"the mail server cannot do what BATON_SMTP_URL asks: {_redact(str(error))}") from None
        except (aiosmtplib.SMTPTimeoutError, asyncio.TimeoutError):
            raise RetryLater(DEFAULT_RETRY_SECONDS, "the mail server did not answer in time") from None
        except ssl.SSLError as error:
            raise RetryLater(DEFAULT_RETRY_SECONDS, f"TLS with the mail server failed: {error.reason or 'error'}") from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError) as error:  # refused, reset
            raise RetryLater(UNREACHABLE_RETRY_SECONDS, f"the mail server is unreachable: {type(error).__name__}") from None
        except aiosmtplib.SMTPException as error:  # aiosmtplib says "STARTTLS extension not supported" this way
            if "not supported" in str(error).lower():
                raise GiveUp(f"the mail server cannot do what BATON_SMTP_URL asks: {_redact(str(error))}") from None
            raise RetryLater(DEFAULT_RETRY_SECONDS, "the mail server failed") from None
        if refused:
            response = next(iter(refused.values()))
            raise _by_code(response.code, response.message, "the recipient")
        log.debug("mail %s handed to %s", message.get("Message-ID"), url.hostname)

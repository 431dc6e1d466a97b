"""An MMS file the customer sent (`MediaUrl{N}`), fetched with Twilio's Basic auth (PROTOCOLS.md §5).

Twilio serves media behind `AccountSid:AuthToken` when media authentication is on, and redirects to
its media store; aiohttp drops the credentials when a redirect leaves the origin. Baton sends its
credentials only to the Twilio API origin (`api.twilio.com`, or `TWILIO_API_URL`), and reads at most
`max_bytes` (10 MB), counted while streaming: a missing or lying Content-Length changes nothing.
"""

from __future__ import annotations

import asyncio
import mimetypes
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from bot.delivery.poster import GiveUp, RetryLater
from bot.sms.sender import DEFAULT_RETRY_AFTER, basic_authorization, retry_after_seconds

MAX_MEDIA_BYTES = 10 * 1024 * 1024
TWILIO_API_HOST = "api.twilio.com"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class MediaFile:
    name: str
    content_type: str
    data: bytes


def is_twilio_media(url: str, api_url: str) -> bool:
    """Whether `url` is on Twilio's API origin (or the configured stand-in), the only place Baton's
    Twilio credentials may go."""
    parts, api = urlsplit(url), urlsplit(api_url)
    if parts.scheme == "https" and (parts.hostname or "").lower() == TWILIO_API_HOST:
        return True
    return bool(api.netloc) and (parts.scheme, parts.netloc.lower()) == (api.scheme, api.netloc.lower())


def _name(url: str, content_type: str) -> str:
    """`ME1234….jpg`: the media sid Twilio gave the file, with the extension of its type."""
    sid = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "media"
    extension = mimetypes.guess_extension(content_type) or ""
    return sid if sid.endswith(extension) else sid + extension


async def fetch_media(
    session: aiohttp.ClientSession,
    url: str,
    *,
    account_sid: str,
    auth_token: str,
    api_url: str = "https://api.twilio.com",
    max_bytes: int = MAX_MEDIA_BYTES,
) -> MediaFile:
    """The file at `url` as (name, content type, bytes). RetryLater when Twilio fails or cannot be
    reached; GiveUp for a URL that is not Twilio's, a refusal (401, 404) or a file over `max_bytes`."""
    if not is_twilio_media(url, api_url):
        raise GiveUp("not a Twilio media URL; Baton sends its Twilio credentials nowhere else")
    try:
        async with session.get(url, headers={"Authorization": basic_authorization(account_sid, auth_token)}) as response:
            if response.status == 429 or response.status >= 500:
                raise RetryLater(retry_after_seconds(response.headers.get("Retry-After")),
                                 f"Twilio media answered {response.status}")
            if response.status >= 300:
                raise GiveUp(f"Twilio refused the media file (HTTP {response.status})")
            if response.content_length is not None and response.content_length > max_bytes:
                raise GiveUp(f"the file is over {max_bytes // (1024 * 1024)} MB")
            content_type = (response.content_type or "application/octet-stream").lower()
            data = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise GiveUp(f"the file is over {max_bytes // (1024 * 1024)} MB")
    except aiohttp.ClientError as error:
        raise RetryLater(DEFAULT_RETRY_AFTER, f"Twilio media unreachable: {type(error).__name__}") from None
    except asyncio.TimeoutError:
        raise RetryLater(DEFAULT_RETRY_AFTER, "Twilio media did not arrive in time") from None
    return MediaFile(name=_name(url, content_type), content_type=content_type, data=bytes(data))

"""Baton's webhook signature (SPEC 3.1): v1=HMAC-SHA256(secret, "<timestamp>.<raw body>")."""

from __future__ import annotations

import hashlib
import hmac
from typing import Mapping

from bot.errors import unauthorized

WINDOW_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"X-Baton-Timestamp": str(timestamp), "X-Baton-Signature": sign(secret, timestamp, body)}


def verify(
    headers: Mapping[str, str], body: bytes, *, secret: str | None, token: str | None, now: float
) -> None:
    """Accept a valid signature within the window, or the configured bearer token; raise 401 otherwise."""
    authorization = headers.get("Authorization", "")
    if token and authorization.startswith("Bearer "):
        if hmac.compare_digest(authorization[len("Bearer ") :].encode(), token.encode()):
            return
        raise unauthorized("The bearer token is not valid.")
    if not secret:
        raise unauthorized("Send Authorization: Bearer <token>.")
    timestamp = headers.get("X-Baton-Timestamp")
    signature = headers.get("X-Baton-Signature")
    if not timestamp or not signature:
        raise unauthorized("Missing X-Baton-Timestamp or X-Baton-Signature header.")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise unauthorized("X-Baton-Timestamp must be unix seconds.") from None
    if abs(now - sent_at) > WINDOW_SECONDS:
        raise unauthorized("The request timestamp is outside the 300-second window.")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode()):
        raise unauthorized("The signature does not match the body.")

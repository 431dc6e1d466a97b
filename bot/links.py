"""Signed, short-lived links Baton hands to people outside Slack and Teams (an agent's file for the customer).

A link token is `<base64url JSON claims>.<base64url HMAC-SHA256>`, the claims holding what it points at
and when it expires (`exp`, unix seconds). The key is derived from the link secret, so a token made for
links can never pass as a webhook signature or the other way round. Baton serves only what it signed
itself: the files route is not an open proxy.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from bot.errors import ApiError, unauthorized

KEY_PURPOSE = b"baton-link-v1"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), KEY_PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(secret: str, claims: dict[str, Any], *, expires_at: int) -> str:
    body = _b64(json.dumps({**claims, "exp": int(expires_at)}, separators=(",", ":"), ensure_ascii=False).encode())
    signature = _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def unseal(secret: str, token: str, *, now: float) -> dict[str, Any]:
    """The claims of a token Baton signed and that has not expired; 401 otherwise."""
    body, _, signature = token.partition(".")
    expected = _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(expected.encode(), signature.encode()):
        raise unauthorized("This link is not one Baton made.")
    try:
        claims = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        raise unauthorized("This link is not one Baton made.") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise unauthorized("This link is not one Baton made.")
    if claims["exp"] < now:
        raise ApiError(401, "link_expired", "This link has expired; ask the agent to send the file again.")
    return claims

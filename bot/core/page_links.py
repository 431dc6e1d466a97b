"""Signed links to the customer page and the short browser session they open (SPEC 4.4).

A link is a `bot.links` token whose claims name the agent (platform, user id, name), the role they had
when they asked for it, the customer, and a one-time id; it works for 15 minutes and once. Opening it
gives the browser a session cookie — another token, of kind "session", with the same agent and role —
for `page_session_minutes`. Nothing else opens the page: without a valid link or session it is 401.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

from bot.domain import Actor, public_id
from bot.core.services import Services
from bot.errors import ApiError, UserError, unauthorized
from bot.links import seal, unseal
from bot.settings import Settings
from storage import audit, page as store

LINK_CLAIM = "page"
SESSION_CLAIM = "session"
LINK_MINUTES = 15  # SPEC 4.4
COOKIE = "baton_page"
PAGE_PATH = "/customers/"
_PLATFORMS = ("slack", "teams", "cli")


def pages_on(settings: Settings) -> bool:
    return settings.customer_page_on


def page_url(settings: Settings, customer_id: int) -> str:
    """The page's own address (what an unfurl matches, and where a link lands after it opened the session)."""
    return f"{settings.public_url.rstrip('/')}{PAGE_PATH}{customer_id}"


def customer_of_url(settings: Settings, url: str) -> int | None:
    """The customer a link to Baton's page names (any query or fragment), or None for any other link."""
    if not pages_on(settings):
        return None
    prefix = page_url(settings, 0)[:-1]
    if not url.startswith(prefix):
        return None
    number = url[len(prefix):].split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return int(number) if number.isdigit() and 0 < int(number) < 2**31 else None


def _who(actor: Actor) -> dict[str, Any]:
    return {"p": actor.platform, "u": actor.user_id, "n": actor.display_name, "r": actor.role}


def _actor(claims: dict[str, Any]) -> Actor:
    platform, user, name, role = claims.get("p"), claims.get("u"), claims.get("n"), claims.get("r")
    if platform not in _PLATFORMS or not isinstance(user, str) or not isinstance(role, str) or not (
            name is None or isinstance(name, str)):
        raise unauthorized("This link is not one Baton made.")
    return Actor(platform=platform, user_id=user, display_name=name, role=role)


def link_for(settings: Settings, actor: Actor, customer_id: int | None, *, now: datetime,
             anchor: str | None = None) -> str:
    """A link for `actor` alone, with their role, to a customer's page (None: to the customer search)."""
    claims = {"k": LINK_CLAIM, **_who(actor), "c": customer_id, "j": secrets.token_hex(8)}
    token = seal(settings.link_secret, claims, expires_at=int(now.timestamp()) + LINK_MINUTES * 60)
    target = f"{PAGE_PATH}{customer_id}" if customer_id is not None else PAGE_PATH.rstrip("/")
    return f"{settings.public_url.rstrip('/')}{target}?t={token}" + (f"#{anchor}" if anchor else "")


def for_agent(services: Services, actor: Actor, customer_id: int | None, *, anchor: str | None = None) -> str:
    """The link an agent asked for (a card button, `page`), or the refusal when the page is off."""
    if not pages_on(services.settings):
        raise UserError("The customer page is off: an admin sets BATON_PUBLIC_URL and BATON_LINK_SECRET to turn it on.")
    return link_for(services.settings, actor, customer_id, now=services.clock(), anchor=anchor)


async def logs_link(services: Services, actor: Actor, conversation_id: int) -> str | None:
    """"Wrap up and see logs": the page at that conversation's interaction log, for this agent (None: no page)."""
    if not pages_on(services.settings):
        return None
    row = await store.conversation(conversation_id)
    if row is None or row.customer_id is None:
        return None
    return link_for(services.settings, actor, row.customer_id, now=services.clock(), anchor=f"conversation-{public_id(conversation_id)}")


async def open_link(settings: Settings, token: str, customer_id: int | None, *, now: datetime) -> Actor:
    """The agent a link was made for; once only, for the customer it names (None: the search). 401 otherwise."""
    try:
        claims = unseal(settings.link_secret, token, now=now.timestamp())
    except ApiError as error:
        if error.code == "link_expired":
            raise ApiError(401, "link_expired", "This link has expired (links work 15 minutes); click Open full "
                                                "profile on the card for a new one.") from None
        raise
    if claims.get("k") != LINK_CLAIM or not isinstance(claims.get("j"), str) or len(claims["j"]) > 32:
        raise unauthorized("This link is not one Baton made.")
    if customer_id is not None and claims.get("c") != customer_id:
        raise unauthorized("This link is for another customer's page.")
    actor = _actor(claims)
    expires = datetime.fromtimestamp(claims["exp"], tz=timezone.utc)
    if not await store.use_link(claims["j"], expires, now=now):
        raise ApiError(401, "link_used", "This link was opened already; click Open full profile on the card for a new one.")
    return actor


def session_for(settings: Settings, actor: Actor, *, now: datetime) -> tuple[str, int]:
    """The session cookie's value and lifetime in seconds."""
    seconds = int(settings.page_session_minutes * 60)
    return seal(settings.link_secret, {"k": SESSION_CLAIM, **_who(actor)}, expires_at=int(now.timestamp()) + seconds), seconds


def session_actor(settings: Settings, cookie: str | None, *, now: datetime) -> Actor:
    if not cookie:
        raise unauthorized("Open this page from Baton: Open full profile on a card, or `page` in a chat with Baton.")
    try:
        claims = unseal(settings.link_secret, cookie, now=now.timestamp())
    except ApiError as error:
        if error.code == "link_expired":
            raise ApiError(401, "session_expired", "Your session has ended; open the page from Baton again.") from None
        raise
    if claims.get("k") != SESSION_CLAIM:
        raise unauthorized("This session is not one Baton made.")
    return _actor(claims)


async def audit_view(actor: Actor, customer_id: int, *, now: datetime, **detail: Any) -> None:
    await audit.record(actor, "view", customer_id=customer_id, now=now, page=True, **detail)

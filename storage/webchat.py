"""The web chat's own rows: visitor sessions (the token's nonce), the visitor's event stream, CSAT answers.

Events are the visitor's transcript in order; their ids are the Server-Sent Events ids, so a page that
reconnects with `Last-Event-ID` (or reloads and replays from 0) gets exactly what it missed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from storage import engagement
from storage.changes import card_changed
from storage.models import Activity, BatonSecret, Conversation, Survey, WebchatEvent, WebchatSession


class DuplicateClientId(Exception):
    """A visitor message with this client_id is already stored (a resend)."""


@dataclass(frozen=True)
class Session:
    id: int
    conversation_id: int
    nonce: str
    visitor_name: str | None
    created_at: datetime
    ended_at: datetime | None
    csat_score: int | None


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    payload: dict[str, Any]
    client_id: str | None


def _session(row: WebchatSession) -> Session:
    return Session(row.id, row.conversation_id, row.nonce, row.visitor_name, row.created_at, row.ended_at, row.csat_score)


async def secret(name: str, *, now: datetime) -> str:
    """A random key Baton made for itself, the same for every process on this database."""
    row = await BatonSecret.get_or_none(name=name)
    if row is None:
        try:
            await BatonSecret.create(name=name, value=secrets.token_urlsafe(48), created_at=now)
        except IntegrityError:
            pass  # another process made it first: theirs is the key
        row = await BatonSecret.get(name=name)
    return row.value


async def open_session(conversation_id: int, nonce: str, *, visitor_name: str | None, now: datetime) -> None:
    await WebchatSession.create(conversation_id=conversation_id, nonce=nonce, visitor_name=visitor_name, created_at=now)


async def session(conversation_id: int, nonce: str) -> Session | None:
    row = await WebchatSession.get_or_none(conversation_id=conversation_id, nonce=nonce)
    return _session(row) if row else None


async def session_of(conversation_id: int) -> Session | None:
    row = await WebchatSession.filter(conversation_id=conversation_id).order_by("-id").first()
    return _session(row) if row else None


async def mark_ended(conversation_id: int, *, now: datetime) -> None:
    await WebchatSession.filter(conversation_id=conversation_id, ended_at__isnull=True).update(ended_at=now)


async def add_event(conversation_id: int, kind: str, payload: dict[str, Any], *, now: datetime,
                    client_id: str | None = None) -> int:
    """Append to the visitor's stream; a second visitor message with the same client_id raises
    DuplicateClientId (the unique key decides, so two processes cannot both store it)."""
    try:
        row = await WebchatEvent.create(conversation_id=conversation_id, kind=kind, payload=payload,
                                        client_id=client_id, at=now)
    except IntegrityError:
        raise DuplicateClientId(client_id) from None
    return row.id


async def has_client_id(conversation_id: int, client_id: str) -> bool:
    return await WebchatEvent.filter(conversation_id=conversation_id, client_id=client_id).exists()


async def events_after(conversation_id: int, after_id: int, *, limit: int = 200) -> list[Event]:
    rows = await WebchatEvent.filter(conversation_id=conversation_id, id__gt=after_id).order_by("id").limit(limit)
    return [Event(r.id, r.kind, r.payload, r.client_id) for r in rows]


async def recent_events(after_id: int, *, limit: int = 1000) -> list[tuple[int, int]]:
    """(event id, conversation id) of the newest events, for the process-wide poller that wakes streams
    when another process wrote (the worker relaying an agent's reply there)."""
    rows = await WebchatEvent.filter(id__gt=after_id).order_by("id").limit(limit).values_list("id", "conversation_id")
    return [(int(a), int(b)) for a, b in rows]


async def newest_event_id() -> int:
    row = await WebchatEvent.all().order_by("-id").first().values_list("id", flat=True)
    return int(row or 0)


async def record_csat(conversation_id: int, score: int, comment: str | None, *, targets: list[str], now: datetime) -> bool:
    """The visitor's rating, once per session; a survey of the linked customer (the card's satisfaction
    figure moves). False when this chat was rated already."""
    rated = await WebchatSession.filter(conversation_id=conversation_id, csat_score__isnull=True).update(
        csat_score=score, csat_comment=comment)
    if not rated:
        return False
    row = await Conversation.get(id=conversation_id)
    if row.customer_id is not None:
        await Survey.create(customer_id=row.customer_id, conversation_id=conversation_id, score=score, comment=comment, at=now)
        await Activity.create(customer_id=row.customer_id, at=now, category="conversation", kind="survey",
                              title=f"Rated the chat {score}/5", detail=comment, conversation_id=conversation_id)
        await engagement.recompute([row.customer_id])
        await card_changed(conversation_id, targets, now)
    return True

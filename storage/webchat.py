"""The web chat's own rows: visitor sessions (the token's nonce), the visitor's event stream, CSAT answers.

Events are the visitor's transcript in order; their ids are the Server-Sent Events ids, so a page that
reconnects with `Last-Event-ID` (or reloads and replays from 0) gets exactly what it missed.

That needs each conversation's ids to become visible in id order. Ids come from one sequence, taken at
insert, while transactions commit in any order: on PostgreSQL a visitor message still in its transaction
(id 41) while the agent's reply is relayed (id 42, committed) would be behind the open stream's cursor
once it committed, and never shown. So on PostgreSQL `add_event` takes a transaction-scoped advisory lock
of the conversation before its insert: one writer per conversation at a time, until its commit, so a later
writer of the same conversation takes a higher id. SQLite has one writer at a time anyway. The same
transaction sends `NOTIFY baton_webchat` with the conversation id, which every process LISTENs to
(`listen`): delivered on commit, once, to wake just that conversation's streams.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from storage import db, engagement
from storage.changes import card_changed
from storage.models import Activity, BatonSecret, Conversation, Survey, WebchatEvent, WebchatSession


EVENTS_CHANNEL = "baton_webchat"  # PostgreSQL NOTIFY channel; the payload is the conversation id
EVENT_LOCK = 0x7763  # "wc": pg_advisory_xact_lock(EVENT_LOCK, conversation id), one writer per conversation


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
    DuplicateClientId (the unique key decides, so two processes cannot both store it). Inside the caller's
    transaction, if any: on PostgreSQL the conversation stays locked for other writers until its commit."""
    fields = dict(conversation_id=conversation_id, kind=kind, payload=payload, client_id=client_id, at=now)
    try:
        if db.dialect() != "postgres":
            return (await WebchatEvent.create(**fields)).id
        async with in_transaction() as connection:
            await connection.execute_query("SELECT pg_advisory_xact_lock($1, $2)", [EVENT_LOCK, conversation_id])
            row = await WebchatEvent.create(**fields, using_db=connection)
            await connection.execute_query("SELECT pg_notify($1, $2)", [EVENTS_CHANNEL, str(conversation_id)])
            return row.id
    except IntegrityError:
        raise DuplicateClientId(client_id) from None


async def has_client_id(conversation_id: int, client_id: str) -> bool:
    return await WebchatEvent.filter(conversation_id=conversation_id, client_id=client_id).exists()


async def events_after(conversation_id: int, after_id: int, *, limit: int = 200) -> list[Event]:
    rows = await WebchatEvent.filter(conversation_id=conversation_id, id__gt=after_id).order_by("id").limit(limit)
    return [Event(r.id, r.kind, r.payload, r.client_id) for r in rows]


async def recent_events(after_id: int, *, limit: int = 1000) -> list[tuple[int, int]]:
    """(event id, conversation id) of the events after `after_id`, for the process-wide poll that wakes
    streams when another process wrote, where nothing LISTENs (SQLite)."""
    rows = await WebchatEvent.filter(id__gt=after_id).order_by("id").limit(limit).values_list("id", "conversation_id")
    return [(int(a), int(b)) for a, b in rows]


def ids_commit_in_order() -> bool:
    """SQLite: one writer at a time, so an event id seen means every lower id is visible too (a poll may
    read `id > newest seen`). On PostgreSQL ids of different conversations commit in any order."""
    return db.dialect() != "postgres"


class Listener:
    """A PostgreSQL connection of its own that LISTENs to `baton_webchat`."""

    def __init__(self, connection) -> None:
        self._connection = connection

    async def check(self, timeout: float) -> None:
        """A round trip: raises when the connection is gone (a silent network loss never says so)."""
        await self._connection.fetchval("SELECT 1", timeout=timeout)

    async def close(self) -> None:
        if self._connection.is_closed():
            return
        try:
            await self._connection.close(timeout=2)
        except Exception:
            self._connection.terminate()


async def listen(on_event: Callable[[int], None], on_lost: Callable[[], None]) -> Listener | None:
    """Call `on_event(conversation id)` for every event committed by any process (PostgreSQL NOTIFY), and
    `on_lost()` if the connection ends. None on SQLite, which has no NOTIFY."""
    connection = await db.side_connection(application_name="baton-webchat")
    if connection is None:
        return None

    def heard(_connection, _pid, _channel, payload: str) -> None:
        try:
            conversation_id = int(payload)
        except ValueError:
            return
        on_event(conversation_id)

    try:
        await connection.add_listener(EVENTS_CHANNEL, heard)
    except Exception:
        connection.terminate()
        raise
    connection.add_termination_listener(lambda _connection: on_lost())
    return Listener(connection)


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

"""Persisting a handoff: conversation, transcript, customer match and outbox work in one transaction."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Iterable, Sequence

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.domain import Handoff, IntakeResult, TranscriptLine
from storage import outbox
from storage.customers import resolve_identities
from storage.fastinsert import insert_rows
from storage.models import Activity, Case, Conversation, Message, OutboxJob


def public_id(conversation_id: int) -> str:
    """What agents type after '#': short, stable, and readable aloud."""
    return f"c{conversation_id}"


def parse_public_id(text: str) -> int | None:
    text = text.strip().lstrip("#").lower()
    if text.startswith("c") and text[1:].isdigit():
        return int(text[1:])
    return None


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _message_rows(conversation_id: int, lines: Sequence[TranscriptLine], first_index: int, now: datetime):
    return [
        {
            "conversation_id": conversation_id,
            "sender": line.sender,
            "sender_name": line.sender_name,
            "text": line.text,
            "attachments": _jsonable(line.attachments),
            "internal": False,
            "transcript_index": first_index + offset,
            "at": line.at or now,
        }
        for offset, line in enumerate(lines)
    ]


async def store_handoff(
    handoff: Handoff,
    identities: Iterable[tuple[str, str]],
    *,
    targets: Sequence[str],
    sentiment: tuple[float, str] | None,
    now: datetime,
) -> IntakeResult:
    """Store a handoff before it is acknowledged. Replays append only unseen transcript lines."""
    identities = list(identities)
    attempts = 3
    for attempt in range(attempts):
        try:
            async with in_transaction():
                if attempt == 0:
                    # Optimistic: most handoffs are new, and the unique (source, external_id) index tells us
                    # when one is not, without a SELECT on the hot path.
                    return await _create(handoff, identities, targets, sentiment, now)
                existing = await Conversation.get_or_none(source=handoff.source, external_id=handoff.conversation_id)
                if existing is not None:
                    return await _append_to_existing(existing, handoff, targets, now)
                return await _create(handoff, identities, targets, sentiment, now)
        except IntegrityError:
            # A replay, or a concurrent request for the same conversation or identity: the transaction was
            # rolled back whole; look again.
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


async def _create(handoff, identities, targets, sentiment, now) -> IntakeResult:
    match = await resolve_identities(identities, now=now, learn=True)
    case = await Case.get_or_none(number=handoff.case_number) if handoff.case_number else None
    case_id = case.id if case else None
    conn = connections.get("default")  # inside in_transaction(): the transaction's client
    [conversation_id] = await insert_rows(
        conn,
        Conversation,
        [
            {
                "source": handoff.source,
                "external_id": handoff.conversation_id,
                "channel": handoff.channel,
                "kind": handoff.kind,
                "queue": handoff.queue,
                "status": "queued",
                "customer_id": match.customer_id,
                "case_id": case_id,
                "candidates": list(match.candidate_ids),
                "customer_input": _jsonable(handoff.customer),
                "prechat": _jsonable(handoff.prechat),
                "visitor": _jsonable(handoff.visitor) if handoff.visitor else None,
                "bot": _jsonable(handoff.bot) if handoff.bot else None,
                "origin": _jsonable(handoff.origin) if handoff.origin else None,
                "reply_url": handoff.reply_url,
                "sentiment": sentiment[0] if sentiment else None,
                "topic_text": sentiment[1] if sentiment else None,
                "reminders_sent": 0,
                "revision": 1,
                "last_activity_at": now,
                "created_at": now,
            }
        ],
        returning_id=True,
    )
    await insert_rows(conn, Message, _message_rows(conversation_id, handoff.transcript, 0, now))
    if match.customer_id is not None:
        await insert_rows(conn, Activity, [{
            "customer_id": match.customer_id,
            "at": now,
            "category": "conversation",
            "kind": "conversation",
            "title": f"Conversation via {handoff.channel}",
            "detail": handoff.bot.last_topic if handoff.bot else None,
            "conversation_id": conversation_id,
            "case_id": case_id,
        }])
    await insert_rows(conn, OutboxJob, [
        {"target": t, "conversation_id": conversation_id, "requested_rev": 1, "done_rev": 0, "available_at": now,
         "attempts": 0, "dead": False}
        for t in targets
    ])
    return IntakeResult(conversation_public_id=public_id(conversation_id), created=True)


async def _append_to_existing(conversation: Conversation, handoff: Handoff, targets, now) -> IntakeResult:
    known = await Message.filter(conversation_id=conversation.id, transcript_index__not_isnull=True).count()
    new_lines = handoff.transcript[known:]
    if not new_lines or conversation.status in ("wrapped", "failed"):
        return IntakeResult(conversation_public_id=public_id(conversation.id), created=False)
    await insert_rows(connections.get("default"), Message, _message_rows(conversation.id, new_lines, known, now))
    await Conversation.filter(id=conversation.id).update(last_activity_at=now)
    await bump_revision(conversation.id)
    for target in targets:
        await outbox.enqueue(target, conversation.id, now=now)
    return IntakeResult(conversation_public_id=public_id(conversation.id), created=False, appended_lines=len(new_lines))


async def bump_revision(conversation_id: int) -> None:
    """Mark the card as changed; the delivery worker edits it in place until it caught up."""
    from tortoise.expressions import F

    await Conversation.filter(id=conversation_id).update(revision=F("revision") + 1)

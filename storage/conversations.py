"""Conversation state changes: claim, messages, notes, wrap-up, links. Each bumps the card revision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from tortoise.transactions import in_transaction

from bot.domain import ENDED_STATUSES, Actor, ConversationStatus
from storage import events
from storage.changes import card_changed
from storage.models import Activity, Agent, Conversation, Message, Note


@dataclass(frozen=True)
class ClaimOutcome:
    won: bool
    holder: str | None  # who has it now
    status: ConversationStatus


async def agent_for(actor: Actor) -> Agent:
    """The stored agent row for a Slack/Teams user (created on first contact; name kept fresh)."""
    agent, created = await Agent.get_or_create(
        platform=actor.platform,
        platform_user_id=actor.user_id,
        defaults={"display_name": actor.display_name, "role": actor.role},
    )
    if not created and actor.display_name and agent.display_name != actor.display_name:
        agent.display_name = actor.display_name
        await agent.save(update_fields=["display_name"])
    return agent


async def known_agents(platform: str, *, limit: int = 100) -> list[tuple[str, str]]:
    """(platform user id, name) of the agents Baton has met on `platform`, by name; bounded for a picker."""
    rows = await Agent.filter(platform=platform).order_by("display_name", "id").limit(limit).values_list(
        "platform_user_id", "display_name")
    return [(user_id, name or user_id) for user_id, name in rows]


async def exists(conversation_id: int) -> bool:
    return await Conversation.filter(id=conversation_id).exists()


async def set_current(actor: Actor, conversation_id: int) -> None:
    agent = await agent_for(actor)
    await Agent.filter(id=agent.id).update(current_conversation_id=conversation_id)


async def current_conversation(actor: Actor) -> int | None:
    agent = await Agent.get_or_none(platform=actor.platform, platform_user_id=actor.user_id)
    return agent.current_conversation_id if agent else None


async def record_status(conversation_id: int, state: str, *, by: str | None, now: datetime,
                        code: str | None = None) -> None:
    """A status change the customer's side hears (SPEC 3.1 status / 3.2 handoff.status), queued in the same
    ordered stream as the agents' replies, inside the caller's transaction. A disposition `code` travels with
    the event itself (in the row's JSON), never read back from the conversation later."""
    await Message.create(conversation_id=conversation_id, kind="status", sender="system", sender_name=by, text=state,
                         internal=True, at=now, attachments=[{"code": code}] if code else [])


async def claim(conversation_id: int, actor: Actor, *, targets: Sequence[str], now: datetime) -> ClaimOutcome:
    """Atomic: the UPDATE only matches an unclaimed, open conversation, so exactly one agent wins."""
    agent = await agent_for(actor)
    async with in_transaction():
        won = await Conversation.filter(id=conversation_id, claimed_by_id__isnull=True, status=ConversationStatus.QUEUED).update(
            claimed_by_id=agent.id, claimed_at=now, status=ConversationStatus.CLAIMED
        )
        if won:
            await record_status(conversation_id, "accepted", by=agent.display_name or agent.platform_user_id, now=now)
            await card_changed(conversation_id, targets, now)
    if won:
        await set_current(actor, conversation_id)
    row = await Conversation.get(id=conversation_id).select_related("claimed_by")
    holder = (row.claimed_by.display_name or row.claimed_by.platform_user_id) if row.claimed_by else None
    return ClaimOutcome(won=bool(won), holder=holder, status=ConversationStatus(row.status))


async def claimed_by(conversation_id: int) -> tuple[str, str] | None:
    """(platform, user id) of the agent holding the conversation, if any."""
    row = await Conversation.get_or_none(id=conversation_id).select_related("claimed_by")
    return (row.claimed_by.platform, row.claimed_by.platform_user_id) if row and row.claimed_by else None


async def unclaim(conversation_id: int, *, by: str, queue: str | None, targets: Sequence[str], now: datetime) -> bool:
    """Back to the queue (another queue when `queue` is given); the source hears `queued`."""
    async with in_transaction():
        changes = {"claimed_by_id": None, "claimed_at": None, "status": ConversationStatus.QUEUED, "reminders_sent": 0}
        if queue:
            changes["queue"] = queue
        done = await Conversation.filter(id=conversation_id, status=ConversationStatus.CLAIMED).update(**changes)
        if done:
            await record_status(conversation_id, "queued", by=by, now=now)
            await card_changed(conversation_id, targets, now)
    return bool(done)


async def transfer(conversation_id: int, to: Actor, *, targets: Sequence[str], now: datetime) -> bool:
    """To another agent: claimed by them now; the source hears `accepted` with their name."""
    agent = await agent_for(to)
    async with in_transaction():
        done = await Conversation.filter(id=conversation_id).exclude(status__in=[s.value for s in ENDED_STATUSES]).update(
            claimed_by_id=agent.id, claimed_at=now, status=ConversationStatus.CLAIMED)
        if done:
            await record_status(conversation_id, "accepted", by=agent.display_name or agent.platform_user_id, now=now)
            await card_changed(conversation_id, targets, now)
    if done:
        await Agent.filter(id=agent.id).update(current_conversation_id=conversation_id)
    return bool(done)


async def add_message(
    conversation_id: int,
    *,
    sender: str,
    text: str,
    sender_name: str | None,
    posted_from: str | None,
    internal: bool,
    attachments: list | None = None,
    targets: Sequence[str],
    now: datetime,
    sentiment: tuple[float, str] | None = None,
    kind: str = "text",
    once_key: str | None = None,
) -> int | None:
    """Store a message and ask for a card edit. With `once_key` (a platform's event id) the key is recorded in
    the same transaction; a second call with the key stores nothing and returns None."""
    async with in_transaction():
        if once_key is not None and not await events.record_once(once_key, now=now):
            return None
        message = await Message.create(
            conversation_id=conversation_id,
            kind=kind,
            sender=sender,
            sender_name=sender_name,
            text=text,
            attachments=attachments or [],
            internal=internal,
            posted_from=posted_from,
            at=now,
        )
        if sentiment is not None:
            await Conversation.filter(id=conversation_id).update(sentiment=sentiment[0], topic_text=sentiment[1])
        if sender == "customer":
            await Conversation.filter(id=conversation_id).update(last_customer_line=text)
        await card_changed(conversation_id, targets, now)
    return message.id


async def customer_texts(conversation_id: int, limit: int = 50) -> list[str]:
    rows = await Message.filter(conversation_id=conversation_id, sender="customer").order_by("-id").limit(limit).values_list("text", flat=True)
    return list(reversed(rows))


async def add_note(
    *, customer_id: int | None, conversation_id: int | None, author: str, text: str, targets: Sequence[str], now: datetime,
    once_key: str | None = None,
) -> None:
    async with in_transaction():
        if once_key is not None and not await events.record_once(once_key, now=now):
            return
        await Note.create(customer_id=customer_id, conversation_id=conversation_id, author=author, text=text, created_at=now)
        if customer_id is not None:
            await Activity.create(
                customer_id=customer_id,
                at=now,
                category="conversation" if conversation_id else "customer",
                kind="note",
                title=f"Note by {author}",
                detail=text,
                conversation_id=conversation_id,
            )
        if conversation_id is not None:
            await card_changed(conversation_id, targets, now)


async def wrap_up(
    conversation_id: int, *, code: str, notes: str | None, author: str, targets: Sequence[str], now: datetime
) -> bool:
    async with in_transaction():
        done = await Conversation.filter(id=conversation_id).exclude(status=ConversationStatus.WRAPPED).update(
            status=ConversationStatus.WRAPPED, wrapup_code=code, wrapup_notes=notes, wrapped_at=now,
            open_key=None,  # the customer may come back with the same source and id (SPEC 3.1)
        )
        if not done:
            return False
        await record_status(conversation_id, "completed", by=author, now=now, code=code)
        row = await Conversation.get(id=conversation_id)
        if row.customer_id is not None:
            await Activity.create(
                customer_id=row.customer_id,
                at=now,
                category="conversation",
                kind="conversation",
                title=f"Conversation wrapped up: {code}",
                detail=notes,
                conversation_id=conversation_id,
                case_id=row.case_id,
            )
        await card_changed(conversation_id, targets, now)
    return True


async def link_customer(conversation_id: int, customer_id: int, *, targets: Sequence[str], now: datetime) -> None:
    async with in_transaction():
        await Conversation.filter(id=conversation_id).update(customer_id=customer_id, candidates=[])
        await Activity.create(
            customer_id=customer_id, at=now, category="conversation", kind="conversation",
            title="Conversation linked", conversation_id=conversation_id,
        )
        await card_changed(conversation_id, targets, now)


async def link_case(conversation_id: int, case_id: int, *, targets: Sequence[str], now: datetime) -> None:
    async with in_transaction():
        await Conversation.filter(id=conversation_id).update(case_id=case_id)
        await card_changed(conversation_id, targets, now)


async def open_sessions(actor: Actor, limit: int = 20) -> list[tuple[int, str, str | None]]:
    """The caller's open conversations: (id, status, customer name)."""
    agent = await Agent.get_or_none(platform=actor.platform, platform_user_id=actor.user_id)
    if agent is None:
        return []
    rows = (
        await Conversation.filter(claimed_by_id=agent.id)
        .exclude(status=ConversationStatus.WRAPPED)
        .order_by("-last_activity_at")
        .limit(limit)
        .select_related("customer")
    )
    return [(r.id, ConversationStatus(r.status), r.customer.display_name if r.customer else None) for r in rows]


async def messages_for_log(conversation_id: int, limit: int = 200) -> list[tuple[datetime, str, str | None, str, bool]]:
    rows = await Message.filter(conversation_id=conversation_id).exclude(kind="status").order_by("id").limit(limit)
    return [(m.at, m.sender, m.sender_name, m.text, m.internal) for m in rows]


async def open_conversations_of_case(case_id: int) -> list[int]:
    return list(await Conversation.filter(case_id=case_id).exclude(status=ConversationStatus.WRAPPED).values_list("id", flat=True))


async def open_conversations_of_customers(customer_ids: Sequence[int]) -> list[int]:
    return list(
        await Conversation.filter(customer_id__in=list(customer_ids)).exclude(status=ConversationStatus.WRAPPED).values_list("id", flat=True)
    )


async def open_conversation_of(source: str, external_id: str) -> int | None:
    """The open Baton conversation a source's conversation id was handed off as (Bot Framework, channels)."""
    row = (
        await Conversation.filter(source=source, external_id=external_id)
        .exclude(status__in=[s.value for s in ENDED_STATUSES])
        .order_by("-id")
        .first()
        .values("id")
    )
    return row["id"] if row else None


async def fail_unroutable(conversation_id: int, *, targets: Sequence[str], now: datetime) -> bool:
    """A queued Bot Framework handoff that no channel can take becomes `failed` (its source hears it)."""
    async with in_transaction():
        changed = await Conversation.filter(
            id=conversation_id, status=ConversationStatus.QUEUED, origin__isnull=False
        ).update(status=ConversationStatus.FAILED, open_key=None)
        if changed:
            await record_status(conversation_id, "failed", by=None, now=now)
            await card_changed(conversation_id, targets, now)
    return bool(changed)

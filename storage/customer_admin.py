"""Customer-level operations: search, profile edits, merge (and its 24-hour undo), lock, anonymize, export."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from bot.domain import MatchCandidate
from storage.customers import candidate_of
from storage.engagement import recompute as recompute_engagement
from storage.posts import mark_for_redaction
from storage.models import (
    Activity,
    AuditEvent,
    Case,
    Conversation,
    Customer,
    CustomerFile,
    Identity,
    Message,
    Note,
    Order,
    Survey,
    WebchatEvent,
    WebchatSession,
)

UNDO_WINDOW = timedelta(hours=24)
REMOVED = "[removed: customer anonymized]"  # what anonymized message and note texts become
PROFILE_FIELDS = (
    "first_name", "last_name", "company", "gender", "email", "mobile_phone", "home_phone", "tags", "notes",
    "job_title", "city", "relationship_type", "category", "preferred_channel", "primary_contact",
)
# Tables whose rows follow a customer on merge.
_OWNED = {"identities": Identity, "conversations": Conversation, "cases": Case, "notes": Note,
          "orders": Order, "activities": Activity, "surveys": Survey}


class CustomerLocked(Exception):
    pass


@dataclass(frozen=True)
class CustomerBrief:
    id: int
    display_name: str
    locked: bool
    merged_into: int | None
    anonymized: bool


def _brief(c: Customer) -> CustomerBrief:
    return CustomerBrief(c.id, c.display_name, c.locked, c.merged_into_id, c.anonymized_at is not None)


async def get_brief(customer_id: int) -> CustomerBrief | None:
    c = await Customer.get_or_none(id=customer_id)
    return _brief(c) if c else None


async def search_by_name(text: str, limit: int = 25) -> list[MatchCandidate]:
    words = [w for w in text.split() if w]
    if not words:
        return []
    condition = Q()
    for word in words:
        condition &= Q(display_name__icontains=word)
    rows = await Customer.filter(condition, merged_into_id__isnull=True).order_by("id").limit(limit)
    return [candidate_of(c) for c in rows]


async def candidates(ids: list[int]) -> list[MatchCandidate]:
    rows = await Customer.filter(id__in=ids).order_by("id")
    return [candidate_of(c) for c in rows]


async def update_profile(customer_id: int, changes: dict[str, Any], *, now: datetime) -> None:
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    async with in_transaction():
        customer = await Customer.get(id=customer_id).select_for_update()
        if customer.locked:
            raise CustomerLocked(customer.display_name)
        for name, value in changes.items():
            setattr(customer, name, value)
        if "first_name" in changes or "last_name" in changes:
            customer.display_name = " ".join(x for x in (customer.first_name, customer.last_name) if x) or customer.display_name
        customer.updated_at = now
        # Only what the edit owns: the running engagement totals are written by others meanwhile.
        await customer.save(update_fields=[*changes, "display_name", "updated_at"])


async def set_locked(customer_id: int, locked: bool, *, now: datetime) -> None:
    await Customer.filter(id=customer_id).update(locked=locked, updated_at=now)


async def merge(survivor_id: int, merged_id: int, *, now: datetime) -> dict[str, list[int]]:
    """Move everything of `merged_id` to `survivor_id`; returns what moved (kept in the audit for undo)."""
    async with in_transaction():
        survivor = await Customer.get(id=survivor_id).select_for_update()
        merged = await Customer.get(id=merged_id).select_for_update()
        if survivor.locked or merged.locked:
            raise CustomerLocked(merged.display_name if merged.locked else survivor.display_name)
        if merged.merged_into_id is not None:
            raise ValueError("already merged")
        moved: dict[str, list[int]] = {}
        survivor_identities = set(await Identity.filter(customer_id=survivor_id).values_list("kind", "value"))
        duplicate_ids = [
            i.id for i in await Identity.filter(customer_id=merged_id) if (i.kind, i.value) in survivor_identities
        ]
        for name, model in _OWNED.items():
            query = model.filter(customer_id=merged_id)
            if name == "identities":
                query = query.exclude(id__in=duplicate_ids) if duplicate_ids else query
            ids = list(await query.values_list("id", flat=True))
            if ids:
                await model.filter(id__in=ids).update(customer_id=survivor_id)
            moved[name] = ids
        await recompute_engagement([survivor_id, merged_id])
        await Customer.filter(id=merged_id).update(merged_into_id=survivor_id, updated_at=now)
        await Activity.create(customer_id=survivor_id, at=now, category="customer", kind="note",
                              title=f"Merged with {merged.display_name}")
    return moved


async def last_merge(merged_id: int) -> AuditEvent | None:
    return await AuditEvent.filter(customer_id=merged_id, action="merge").order_by("-id").first()


async def undo_merge(merged_id: int, *, now: datetime) -> int:
    """Put back what a merge moved, within 24 hours. Returns the survivor's id."""
    event = await last_merge(merged_id)
    if event is None or event.detail.get("undone"):
        raise ValueError("no merge to undo")
    if now - event.at > UNDO_WINDOW:
        raise ValueError("the 24-hour undo window has passed")
    survivor_id = int(event.detail["survivor"])
    async with in_transaction():
        for name, model in _OWNED.items():
            ids = event.detail.get("moved", {}).get(name) or []
            if ids:
                await model.filter(id__in=ids).update(customer_id=merged_id)
        await recompute_engagement([survivor_id, merged_id])
        await Customer.filter(id=merged_id).update(merged_into_id=None, updated_at=now)
        await AuditEvent.filter(id=event.id).update(detail={**event.detail, "undone": now.isoformat()})
    return survivor_id


def _anon(value: str, salt: int) -> str:
    return "anon-" + hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:12]


async def anonymize(customer_id: int, *, now: datetime, notice: str) -> list[int]:
    """Replace personal data irreversibly; counts, dates and case numbers remain. Returns touched conversations.

    What Baton already posted of the customer's messages is marked for redaction on every platform,
    and each conversation gets `notice` as an internal message saying so, in the same transaction."""
    async with in_transaction():
        customer = await Customer.get(id=customer_id).select_for_update()
        label = f"Anonymized customer {customer.id}"
        await Customer.filter(id=customer_id).update(
            display_name=label, first_name=None, last_name=None, company=None, job_title=None, city=None,
            primary_contact=None, gender=None, email=None, mobile_phone=None, home_phone=None, tags=[], notes=None,
            anonymized_at=now, updated_at=now,
        )
        for identity in await Identity.filter(customer_id=customer_id):
            await Identity.filter(id=identity.id).update(value=_anon(identity.value, customer_id))
        conversation_ids = list(await Conversation.filter(customer_id=customer_id).values_list("id", flat=True))
        if conversation_ids:
            await Conversation.filter(id__in=conversation_ids).update(
                customer_input={}, visitor=None, prechat=[], topic_text=None, last_customer_line=None
            )
            await Message.filter(conversation_id__in=conversation_ids, sender="customer").update(
                text=REMOVED, sender_name=None, attachments=[]
            )
            await _anonymize_webchat(conversation_ids)
            await mark_for_redaction(conversation_ids)
            await Message.bulk_create(
                [Message(conversation_id=c, sender="system", text=notice, internal=True, at=now) for c in conversation_ids]
            )
        await Note.filter(customer_id=customer_id).update(text=REMOVED)
        await Activity.filter(customer_id=customer_id).update(detail=None)
    return conversation_ids


async def _anonymize_webchat(conversation_ids: list[int]) -> None:
    """The customer's own files and what their web chat page replays: gone too (SPEC 5, every copy)."""
    await CustomerFile.filter(conversation_id__in=conversation_ids).delete()
    await WebchatSession.filter(conversation_id__in=conversation_ids).update(visitor_name=None, csat_comment=None)
    for event in await WebchatEvent.filter(conversation_id__in=conversation_ids, kind="message"):
        if event.payload.get("from") == "visitor":
            await WebchatEvent.filter(id=event.id).update(
                payload={**event.payload, "name": None, "text": REMOVED, "files": []})
    await Survey.filter(conversation_id__in=conversation_ids).update(comment=None)


async def export(customer_id: int) -> dict[str, Any]:
    customer = await Customer.get(id=customer_id)
    profile = {name: getattr(customer, name) for name in ("id", "display_name", *PROFILE_FIELDS, "locked")}
    return {
        "customer": profile,
        "identities": [dict(kind=k, value=v) for k, v in await Identity.filter(customer_id=customer_id).values_list("kind", "value")],
        "cases": await Case.filter(customer_id=customer_id).order_by("id").values("number", "title", "status", "priority", "product"),
        "orders": [
            {"number": o["number"], "total": str(o["total"]), "currency": o["currency"], "placed_at": o["placed_at"].isoformat()}
            for o in await Order.filter(customer_id=customer_id).order_by("placed_at").values("number", "total", "currency", "placed_at")
        ],
        "notes": await Note.filter(customer_id=customer_id).order_by("id").values("author", "text"),
        "conversations": await Conversation.filter(customer_id=customer_id).order_by("id").values("id", "source", "channel", "status", "wrapup_code"),
    }


async def identities_of_customer(customer_id: int) -> list[tuple[str, str]]:
    return list(await Identity.filter(customer_id=customer_id).order_by("kind", "id").values_list("kind", "value"))


async def customers_sharing_identities(customer_id: int, limit: int = 10) -> list[MatchCandidate]:
    """Other customers with one of this customer's identity values, or the same name: merge suggestions."""
    mine = await Identity.filter(customer_id=customer_id).values_list("kind", "value")
    condition = Q()
    for kind, value in mine:
        condition |= Q(kind=kind, value=value)
    ids: set[int] = set()
    if mine:
        ids |= set(await Identity.filter(condition).exclude(customer_id=customer_id).values_list("customer_id", flat=True))
    customer = await Customer.get(id=customer_id)
    ids |= set(
        await Customer.filter(display_name=customer.display_name, merged_into_id__isnull=True)
        .exclude(id=customer_id).limit(limit).values_list("id", flat=True)
    )
    return await candidates(sorted(ids)[:limit])

"""Customer-level operations: search, profile edits, merge (and its 24-hour undo), lock, anonymize, export."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from bot.domain import MatchCandidate
from bot.identity import name_keys
from storage.customers import candidate_of, customers_named
from storage.engagement import recompute as recompute_engagement
from storage.posts import mark_for_redaction
from storage.models import (
    Activity,
    AuditEvent,
    Case,
    CaseComment,
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
MERGED_TITLE = "Merged with"
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
    """Customers by the start of their name or surname: "dana", "Dana W", "whitfield", "Whitfield, Dana",
    "zoe" for Zoë. Ordered by name; at most `limit`."""
    return [candidate_of(c) for c in await customers_named(text, limit)]


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
                              title=f"{MERGED_TITLE} {merged.display_name}")
    return moved


async def last_merge(merged_id: int) -> AuditEvent | None:
    """The merge of `merged_id` that no later `unmerge` record undid (audit records are never changed)."""
    event = await AuditEvent.filter(customer_id=merged_id, action__in=["merge", "unmerge"]).order_by("-id").first()
    return event if event is not None and event.action == "merge" and "survivor" in event.detail else None


async def undo_merge(merged_id: int, *, now: datetime) -> int:
    """Put back what a merge moved, within 24 hours. Returns the survivor's id. The caller records the
    `unmerge` in the same transaction: that record is what marks the merge as undone."""
    merged = await Customer.get_or_none(id=merged_id)
    if merged is None:
        raise ValueError(f"there is no customer {merged_id}")
    event = await last_merge(merged_id)
    if event is None or merged.merged_into_id is None:
        raise ValueError(f"customer {merged_id} is not merged into another")
    if now - event.at > UNDO_WINDOW:
        raise ValueError("the 24-hour undo window has passed")
    survivor_id = int(event.detail["survivor"])
    if merged.anonymized_at is not None or await Customer.filter(id=survivor_id, anonymized_at__isnull=False).exists():
        # What the merge moved is anonymized now; splitting it again would bring nothing back but blanks.
        raise ValueError(f"customer {survivor_id} was anonymized after the merge")
    async with in_transaction():
        for name, model in _OWNED.items():
            ids = event.detail.get("moved", {}).get(name) or []
            if ids:
                await model.filter(id__in=ids).update(customer_id=merged_id)
        await recompute_engagement([survivor_id, merged_id])
        await Customer.filter(id=merged_id).update(merged_into_id=None, updated_at=now)
    return survivor_id


def _anon(value: str, salt: int) -> str:
    return "anon-" + hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:12]


async def anonymize(customer_id: int, *, now: datetime, notice: str) -> list[int]:
    """Replace personal data irreversibly; counts, dates and case numbers remain. Returns touched conversations.

    Reaches every copy Baton holds (SPEC 5): the customer and every customer merged into it (what a merge
    undo would bring back), identities, conversations and their customer messages, interaction logs posted
    with `--logs`, wrap-up notes, notes, case titles and comments, timeline details. What Baton already
    posted of the customer's messages and of those logs is marked for redaction on every platform, and
    each conversation gets `notice` as an internal message saying so, in the same transaction."""
    async with in_transaction():
        await Customer.get(id=customer_id).select_for_update()
        customer_ids = await _with_merged(customer_id)
        for cid in customer_ids:
            name = f"Anonymized customer {cid}"
            name_key, surname_key = name_keys(name)
            await Customer.filter(id=cid).update(
                display_name=name, name_key=name_key, surname_key=surname_key, first_name=None, last_name=None,
                company=None, job_title=None, city=None, primary_contact=None, gender=None, email=None, mobile_phone=None,
                home_phone=None, tags=[], notes=None, anonymized_at=now, updated_at=now,
            )
        for identity in await Identity.filter(customer_id__in=customer_ids):
            await Identity.filter(id=identity.id).update(value=_anon(identity.value, identity.customer_id))
        conversation_ids = list(await Conversation.filter(customer_id__in=customer_ids).values_list("id", flat=True))
        if conversation_ids:
            await Conversation.filter(id__in=conversation_ids).update(
                customer_input={}, visitor=None, prechat=[], topic_text=None, last_customer_line=None
            )
            await Conversation.filter(id__in=conversation_ids, wrapup_notes__isnull=False).update(wrapup_notes=REMOVED)
            await Message.filter(conversation_id__in=conversation_ids, sender="customer").update(
                text=REMOVED, sender_name=None, attachments=[]
            )
            await _anonymize_webchat(conversation_ids)
            # An interaction log quotes the customer line by line: it goes as a whole.
            await Message.filter(conversation_id__in=conversation_ids, kind="log").update(text=f"Interaction log: {REMOVED}")
            await mark_for_redaction(conversation_ids)
            await Message.bulk_create(
                [Message(conversation_id=c, sender="system", text=notice, internal=True, at=now) for c in conversation_ids]
            )
        await Note.filter(customer_id__in=customer_ids).update(text=REMOVED)
        if conversation_ids:
            await Note.filter(conversation_id__in=conversation_ids).update(text=REMOVED)
        for case in await Case.filter(customer_id__in=customer_ids):
            await Case.filter(id=case.id).update(title=f"Case {case.number}", updated_at=now)
        case_ids = list(await Case.filter(customer_id__in=customer_ids).values_list("id", flat=True))
        if case_ids:
            await CaseComment.filter(case_id__in=case_ids).update(text=REMOVED)
            await Activity.filter(case_id__in=case_ids).update(title="Case activity", detail=None)
        await Activity.filter(customer_id__in=customer_ids).update(detail=None)
        # merge() names the merged customer in the survivor's timeline.
        await Activity.filter(customer_id__in=customer_ids, title__startswith=MERGED_TITLE).update(
            title=f"{MERGED_TITLE} another customer record")
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


async def _with_merged(customer_id: int) -> list[int]:
    """The customer and every customer merged into it, at any depth."""
    ids, frontier = [customer_id], [customer_id]
    while frontier:
        frontier = [i for i in await Customer.filter(merged_into_id__in=frontier).values_list("id", flat=True) if i not in ids]
        ids += frontier
    return ids


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def export(customer_id: int) -> dict[str, Any]:
    """Everything Baton holds about the customer (SPEC 5 Export, GDPR access and portability): profile,
    identities, conversations with their messages, cases with their comments, notes, orders, surveys, the
    timeline and the audit of access to them, as one JSON-ready document."""
    customer = await Customer.get(id=customer_id)
    profile = {name: getattr(customer, name) for name in ("id", "display_name", *PROFILE_FIELDS, "locked")}
    profile.update(created_at=_iso(customer.created_at), updated_at=_iso(customer.updated_at),
                   anonymized_at=_iso(customer.anonymized_at))
    ids = await _with_merged(customer_id)
    conversations = await Conversation.filter(customer_id=customer_id).order_by("id")
    messages: dict[int, list[dict[str, Any]]] = {}
    for m in await Message.filter(conversation_id__in=[c.id for c in conversations]).exclude(kind="status").order_by("id"):
        messages.setdefault(m.conversation_id, []).append(
            {"at": _iso(m.at), "from": m.sender, "name": m.sender_name, "text": m.text, "internal": m.internal,
             "kind": m.kind, "attachments": [a.get("name") for a in m.attachments or [] if isinstance(a, dict)]})
    cases = await Case.filter(customer_id=customer_id).order_by("id")
    comments: dict[int, list[dict[str, Any]]] = {}
    for c in await CaseComment.filter(case_id__in=[c.id for c in cases]).order_by("id"):
        comments.setdefault(c.case_id, []).append({"at": _iso(c.created_at), "author": c.author, "text": c.text})
    audit = await AuditEvent.filter(customer_id__in=ids).order_by("id").values("at", "actor", "action", "customer_id", "detail")
    return {
        "customer": profile,
        "merged_customers": ids[1:],
        "identities": [dict(kind=k, value=v) for k, v in await Identity.filter(customer_id=customer_id).values_list("kind", "value")],
        "conversations": [
            {"id": c.id, "source": c.source, "channel": c.channel, "status": c.status, "queue": c.queue,
             "created_at": _iso(c.created_at), "wrapup_code": c.wrapup_code, "wrapup_notes": c.wrapup_notes,
             "prechat": c.prechat, "visitor": c.visitor, "messages": messages.get(c.id, [])}
            for c in conversations
        ],
        "cases": [
            {"number": c.number, "title": c.title, "status": c.status, "priority": c.priority, "product": c.product,
             "owner": c.owner, "created_at": _iso(c.created_at), "comments": comments.get(c.id, [])}
            for c in cases
        ],
        "notes": [{"at": _iso(at), "author": author, "text": text} for at, author, text in
                  await Note.filter(customer_id=customer_id).order_by("id").values_list("created_at", "author", "text")],
        "orders": [
            {"number": o["number"], "total": str(o["total"]), "currency": o["currency"], "placed_at": o["placed_at"].isoformat()}
            for o in await Order.filter(customer_id=customer_id).order_by("placed_at").values("number", "total", "currency", "placed_at")
        ],
        "surveys": [{"at": _iso(at), "score": score} for at, score in
                    await Survey.filter(customer_id=customer_id).order_by("at").values_list("at", "score")],
        "timeline": [
            {"at": _iso(a["at"]), "category": a["category"], "kind": a["kind"], "title": a["title"], "detail": a["detail"]}
            for a in await Activity.filter(customer_id=customer_id).order_by("-at", "-id")
            .values("at", "category", "kind", "title", "detail")
        ],
        "audit": [{**row, "at": _iso(row["at"])} for row in audit],
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

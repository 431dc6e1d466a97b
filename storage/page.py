"""What the customer page reads (SPEC 4.4): one bounded, indexed query per list and page.

Every list is read newest first (messages and comments oldest first) in index order, `LIMIT size + 1`
(the extra row says whether there is a next page), and continued with a keyset cursor — the position
of the last row shown, never an OFFSET — so page 1,000 of a 100,000-entry timeline costs what page 1
costs. Totals per currency are one GROUP BY over the covering index `order_by_currency`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count, Sum

from storage.customers import customers_named, survivors
from storage.models import Activity, Case, CaseComment, Conversation, Customer, Identity, Message, Note, Order, PageLinkUse, Survey


CLOSED_CASE_STATUSES = ("resolved", "closed", "cancelled", "canceled")


@dataclass(frozen=True)
class Page:
    rows: tuple[Any, ...]
    next: str | None  # the cursor of the next page; None: this is the last


def _cursor(at: datetime, row_id: int) -> str:
    return f"{at.isoformat()}~{row_id}"


def _read_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    at, _, row_id = cursor.rpartition("~")
    try:
        return datetime.fromisoformat(at), int(row_id)
    except ValueError:
        return None


def _before(query, field: str, cursor: str | None):
    """Rows strictly after `cursor` in (field, id) descending order."""
    position = _read_cursor(cursor)
    if position is None:
        return query
    at, row_id = position
    return query.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "id__lt": row_id}))


async def _newest_first(query, field: str, cursor: str | None, size: int) -> Page:
    rows = await _before(query, field, cursor).order_by(f"-{field}", "-id").limit(size + 1)
    more = len(rows) > size
    rows = rows[:size]
    return Page(tuple(rows), _cursor(getattr(rows[-1], field), rows[-1].id) if more else None)


async def _oldest_first(query, after: str | None, size: int) -> Page:
    if after and after.isdigit():
        query = query.filter(id__gt=int(after))
    rows = await query.order_by("id").limit(size + 1)
    more = len(rows) > size
    rows = rows[:size]
    return Page(tuple(rows), str(rows[-1].id) if more else None)


# --------------------------------------------------------------------------- the customer


async def customer(customer_id: int) -> Customer | None:
    """The customer, or the one it was merged into (a merged id keeps resolving)."""
    row = await Customer.get_or_none(id=customer_id)
    if row is not None and row.merged_into_id is not None:
        row = await Customer.get_or_none(id=(await survivors([row.id]))[row.id])
    return row


async def identities(customer_id: int, limit: int = 100) -> list[tuple[str, str]]:
    return list(await Identity.filter(customer_id=customer_id).order_by("kind", "id").limit(limit).values_list("kind", "value"))


async def search(query: str, limit: int = 20) -> list[Customer]:
    """Customers whose name or surname starts with the query (case and accents ignored), or who hold it as
    an identity value (exact, normalized)."""
    text = query.strip()
    if not text:
        return []
    by_identity = Identity.filter(value=text.lower()).limit(limit).values_list("customer_id", flat=True)
    ids = set(await by_identity)
    if text.isdigit():
        ids.add(int(text))
    named = await customers_named(text, limit, order=("display_name", "id"))
    held = [c for c in await Customer.filter(id__in=list(ids), merged_into_id=None) if c.id not in {n.id for n in named}]
    return sorted([*named, *held], key=lambda c: (c.display_name, c.id))[:limit]


# --------------------------------------------------------------------------- lists, page by page


async def conversations(customer_id: int, cursor: str | None, size: int) -> Page:
    query = Conversation.filter(customer_id=customer_id).select_related("claimed_by")
    return await _newest_first(query, "created_at", cursor, size)


async def conversation(conversation_id: int) -> Conversation | None:
    return await Conversation.get_or_none(id=conversation_id).select_related("claimed_by")


async def messages(conversation_id: int, after: str | None, size: int) -> Page:
    return await _oldest_first(Message.filter(conversation_id=conversation_id), after, size)


async def cases(customer_id: int, cursor: str | None, size: int) -> Page:
    return await _newest_first(Case.filter(customer_id=customer_id), "created_at", cursor, size)


async def case(customer_id: int, number: str) -> Case | None:
    return await Case.get_or_none(number=number, customer_id=customer_id)


async def comments(case_id: int, after: str | None, size: int) -> Page:
    return await _oldest_first(CaseComment.filter(case_id=case_id), after, size)


async def notes(customer_id: int, cursor: str | None, size: int) -> Page:
    return await _newest_first(Note.filter(customer_id=customer_id), "created_at", cursor, size)


async def orders(customer_id: int, cursor: str | None, size: int) -> Page:
    return await _newest_first(Order.filter(customer_id=customer_id), "placed_at", cursor, size)


async def order_totals(customer_id: int) -> list[tuple[str, Decimal, int]]:
    """(currency, total, orders) per currency, from the covering index."""
    rows = await (Order.filter(customer_id=customer_id).annotate(total_sum=Sum("total"), orders=Count("id"))
                  .group_by("currency").order_by("currency").values_list("currency", "total_sum", "orders"))
    return [(currency, Decimal(str(total or 0)).quantize(Decimal("0.01")), count) for currency, total, count in rows]


async def surveys(customer_id: int, cursor: str | None, size: int) -> Page:
    return await _newest_first(Survey.filter(customer_id=customer_id), "at", cursor, size)


async def timeline(customer_id: int, *, category: str | None, text: str | None, cursor: str | None, size: int) -> Page:
    """Newest first; `category` uses the index `activity_timeline_category`. A search walks the timeline's
    index newest first and stops at a full page, so a common word costs one page of rows."""
    query = Activity.filter(customer_id=customer_id)
    if category:
        query = query.filter(category=category)
    if text:
        query = query.filter(Q(title__icontains=text) | Q(detail__icontains=text))
    return await _newest_first(query, "at", cursor, size)


async def interactions(customer_id: int, limit: int) -> list[tuple[float, str]]:
    """(sentiment, topic text) of the newest conversations that have one, for the sentiment section."""
    rows = await (Conversation.filter(customer_id=customer_id, sentiment__not_isnull=True)
                  .order_by("-created_at", "-id").limit(limit).values_list("sentiment", "topic_text"))
    return [(s, t or "") for s, t in rows]


async def open_case_count(customer_id: int) -> int:
    """Cases not closed (a customer has few cases; `case_by_customer` bounds the scan to theirs)."""
    return await Case.filter(customer_id=customer_id).exclude(status__in=CLOSED_CASE_STATUSES).count()


async def last_contact(customer_id: int) -> str | None:
    row = await Conversation.filter(customer_id=customer_id).order_by("-created_at", "-id").first().values("last_activity_at")
    return row["last_activity_at"].isoformat() if row and row["last_activity_at"] else None


# --------------------------------------------------------------------------- one-time links


async def use_link(jti: str, expires_at: datetime, *, now: datetime) -> bool:
    """Mark a link opened; False when it was opened before. Old marks go as new ones come (bounded)."""
    try:
        await PageLinkUse.create(jti=jti, expires_at=expires_at)
    except IntegrityError:
        return False
    stale = await PageLinkUse.filter(expires_at__lt=now - timedelta(minutes=1)).order_by("expires_at").limit(100).values_list(
        "jti", flat=True)
    if stale:
        await PageLinkUse.filter(jti__in=list(stale)).delete()
    return True

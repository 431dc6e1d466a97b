"""Cases and their internal comments. Comments have no update or delete path; canceling a case removes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from storage.models import Activity, Case, CaseComment, Conversation


@dataclass(frozen=True)
class CaseRef:
    id: int
    number: str
    title: str
    customer_id: int | None
    status: str


def _ref(case: Case) -> CaseRef:
    return CaseRef(case.id, case.number, case.title, case.customer_id, case.status)


async def find_case(number: str) -> CaseRef | None:
    case = await Case.get_or_none(number=number.strip().upper())
    return _ref(case) if case else None


async def open_case(*, title: str, customer_id: int | None, owner: str, now: datetime) -> CaseRef:
    async with in_transaction():
        case = await Case.create(
            number=f"TMP-{now.timestamp()}", title=title, customer_id=customer_id, owner=owner,
            priority="Normal", status="active", created_at=now, updated_at=now,
        )
        # Case numbers follow the row id so two processes never hand out the same number; a number an
        # import brought in from another CRM may already hold it, and then the id gets a suffix.
        number = f"CAS-{case.id:05d}"
        if await Case.filter(number=number).exists():
            number = f"CAS-{case.id:05d}-B"
        case.number = number
        await case.save(update_fields=["number"])
        if customer_id is not None:
            await Activity.create(customer_id=customer_id, at=now, category="case", kind="case",
                                  title=f"Case {case.number} opened", detail=title, case_id=case.id)
    return _ref(case)


async def add_comment(case: CaseRef, *, author: str, text: str, now: datetime) -> int:
    async with in_transaction():
        comment = await CaseComment.create(case_id=case.id, author=author, text=text, created_at=now)
        if case.customer_id is not None:
            await Activity.create(customer_id=case.customer_id, at=now, category="case", kind="comment",
                                  title=f"Internal comment on {case.number} by {author}", detail=text, case_id=case.id)
    return comment.id


async def comments(case: CaseRef) -> list[tuple[str, str]]:
    return list(await CaseComment.filter(case_id=case.id).order_by("id").values_list("author", "text"))


async def cancel_case(case: CaseRef, *, now: datetime) -> None:
    """Seed rule: internal comments are deleted when their case is canceled."""
    async with in_transaction():
        await CaseComment.filter(case_id=case.id).delete()
        await Activity.filter(case_id=case.id, kind="comment").delete()
        await Case.filter(id=case.id).update(status="canceled", updated_at=now)


async def case_number_of_conversation(conversation_id: int) -> str | None:
    """The case a conversation is about (e.g. the "Comment on case" shortcut's default)."""
    row = await Conversation.filter(id=conversation_id).first().values("case_id")
    if not row or not row["case_id"]:
        return None
    case = await Case.filter(id=row["case_id"]).first().values("number")
    return case["number"] if case else None


async def set_status(case: CaseRef, status: str, *, by: str, now: datetime) -> int:
    """Close or cancel a case. Canceling deletes its internal comments and their timeline entries (seed:
    "comments are deleted when the case is canceled"); returns how many comments went."""
    async with in_transaction():
        removed = 0
        if status == "canceled":
            removed = await CaseComment.filter(case_id=case.id).delete()
            await Activity.filter(case_id=case.id, kind="comment").delete()
        await Case.filter(id=case.id).update(status=status, updated_at=now)
        if case.customer_id is not None:
            await Activity.create(customer_id=case.customer_id, at=now, category="case", kind="case",
                                  title=f"Case {case.number} {status} by {by}", case_id=case.id)
    return removed


async def set_priority(case: CaseRef, priority: str, *, now: datetime) -> None:
    await Case.filter(id=case.id).update(priority=priority, updated_at=now)


async def find_case_by_id(case_id: int) -> CaseRef | None:
    case = await Case.get_or_none(id=case_id)
    return _ref(case) if case else None


async def priority_of(case_id: int) -> str | None:
    rows = await Case.filter(id=case_id).limit(1).values_list("priority", flat=True)
    return rows[0] if rows else None

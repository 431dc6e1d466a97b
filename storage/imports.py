"""Writing imported CRM records (`baton import`): one transaction per batch, idempotent by matching.

Customers are matched by their id in the source CRM (an identity of kind `source`), then by email or
phone; cases by case number; orders by customer and order number. A match is updated with what the file
says, so importing the same file twice changes nothing the second time. Several matches, a locked or an
anonymized customer are reported and skipped, never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from tortoise.transactions import in_transaction

from storage.customers import add_identities, create_customer, find_by_identities, find_by_identity_value
from storage.engagement import recompute as recompute_engagement
from storage.models import Activity, Case, Customer, Order


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why): not imported
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line, what): imported, with a caveat


def _changes(row: Any, wanted: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in wanted.items() if v not in (None, "", []) and getattr(row, k) != v}


async def import_customers(records: Sequence[Any], *, source: str, now: datetime) -> BatchResult:
    result = BatchResult()
    async with in_transaction():
        for r in records:
            identities = [(source, r.external_id)] if r.external_id else []
            identities += [("email", r.email)] if r.email else []
            identities += [("phone", p) for p in r.phones]
            found = await find_by_identities(identities[:1]) if r.external_id else []
            if not found:
                found = await find_by_identities([i for i in identities if i[0] in ("email", "phone")])
            if len(found) > 1:
                result.skipped.append((r.line, f"matches customers {', '.join(map(str, found))}; merge them first"))
                continue
            if not found:
                await create_customer(display_name=r.display_name, identities=identities, now=now, email=r.email,
                                      **dict(r.profile))
                result.created += 1
                continue
            customer = await Customer.get(id=found[0]).select_for_update()
            if customer.locked or customer.anonymized_at is not None:
                state = "locked" if customer.locked else "anonymized"
                result.skipped.append((r.line, f"customer {customer.id} is {state}; left as it is"))
                continue
            changes = _changes(customer, {"display_name": r.display_name, "email": r.email, **r.profile})
            new_identities = await add_identities(customer.id, identities, now=now)
            if changes:
                await Customer.filter(id=customer.id).update(**changes, updated_at=now)
            if changes or new_identities:
                result.updated += 1
            else:
                result.unchanged += 1
    return result


async def _customer_for(ref: str | None, email: str | None, *, source: str) -> tuple[int | None, str | None]:
    """(customer id, None) or (None, why not) for a case's or order's customer reference."""
    found: list[int] = []
    if ref:
        found = await find_by_identities([(source, ref)]) or await find_by_identity_value(ref)
    if not found and email:
        found = await find_by_identities([("email", email)])
    if len(found) == 1:
        return found[0], None
    if found:
        return None, f"its customer matches customers {', '.join(map(str, found))}"
    if ref or email:
        return None, f"no customer “{ref or email}” (import customers first)"
    return None, "no customer column"


async def import_cases(records: Sequence[Any], *, source: str, now: datetime) -> BatchResult:
    result = BatchResult()
    async with in_transaction():
        for r in records:
            customer_id, why = await _customer_for(r.customer_ref, r.customer_email, source=source)
            existing = await Case.get_or_none(number=r.number)
            wanted = {"title": r.title, "status": r.status, "priority": r.priority, "product": r.product,
                      "owner": r.owner}
            if existing is not None:
                changes = _changes(existing, {**wanted, "customer_id": customer_id if existing.customer_id is None else None})
                if changes:
                    await Case.filter(id=existing.id).update(**changes, updated_at=now)
                    result.updated += 1
                else:
                    result.unchanged += 1
                continue
            opened = r.opened_at or now
            case = await Case.create(number=r.number, customer_id=customer_id, created_at=opened, updated_at=now,
                                     **{k: v for k, v in wanted.items() if v is not None})
            if customer_id is not None:
                await Activity.create(customer_id=customer_id, at=opened, category="case", kind="case",
                                      title=f"Case {case.number} opened", detail=r.title, case_id=case.id)
            else:
                result.notes.append((r.line, f"imported without a customer: {why}"))
            result.created += 1
    return result


async def import_orders(records: Sequence[Any], *, source: str, now: datetime) -> BatchResult:
    result = BatchResult()
    touched: set[int] = set()
    async with in_transaction():
        for r in records:
            customer_id, why = await _customer_for(r.customer_ref, r.customer_email, source=source)
            if customer_id is None:
                result.skipped.append((r.line, why))
                continue
            existing = await Order.filter(customer_id=customer_id, number=r.number).first()
            wanted = {"total": r.total, "currency": r.currency, "placed_at": r.placed_at}
            if existing is not None:
                changes = _changes(existing, wanted)
                if changes:
                    await Order.filter(id=existing.id).update(**changes)
                    touched.add(customer_id)
                    result.updated += 1
                else:
                    result.unchanged += 1
                continue
            await Order.create(customer_id=customer_id, number=r.number, **wanted)
            await Activity.create(customer_id=customer_id, at=r.placed_at, category="customer", kind="order",
                                  title=f"Order {r.number} placed", detail=f"{r.total} {r.currency}")
            touched.add(customer_id)
            result.created += 1
        await recompute_engagement(touched)  # the card's engagement figures follow the imported orders
    return result


IMPORTERS = {"customers": import_customers, "cases": import_cases, "orders": import_orders}


async def import_batch(kind: str, records: Iterable[Any], *, source: str, now: datetime) -> BatchResult:
    return await IMPORTERS[kind](list(records), source=source, now=now)

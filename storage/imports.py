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

from tortoise.models import Model
from tortoise.transactions import in_transaction

from bot.identity import name_keys, normalize_email
from storage.customers import add_identities, create_customer, find_by_identities
from storage.engagement import recompute as recompute_engagement
from storage.models import Activity, Case, Customer, Identity, Order

IDENTITY_VALUE_LENGTH = Identity._meta.fields_map["value"].max_length


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why): not imported
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line, what): imported, with a caveat


def _changes(row: Any, wanted: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in wanted.items() if v not in (None, "", []) and getattr(row, k) != v}


async def _each(records: Sequence[Any], result: BatchResult, store, *, then=None) -> BatchResult:
    """The batch in one transaction, each record in its own savepoint inside it: a row the database
    refuses is reported, the rest stay. `then` runs last, in the same transaction."""
    async with in_transaction():
        for record in records:
            try:
                async with in_transaction():
                    await store(record)
            except Exception as error:  # noqa: BLE001 (whatever the database refuses, the other rows go on)
                result.skipped.append((record.line, f"the database refused it ({type(error).__name__})"))
        if then is not None:
            await then()
    return result


def _fit(model: type[Model], values: Mapping[str, Any], line: int, result: BatchResult) -> dict[str, Any]:
    """Values cut to the model's column lengths (a CRM may allow longer ones); each cut is noted."""
    fitted = dict(values)
    for name, value in values.items():
        limit = getattr(model._meta.fields_map.get(name), "max_length", None)
        if isinstance(value, str) and limit and len(value) > limit:
            fitted[name] = value[:limit]
            result.notes.append((line, f"{name} cut to {limit} characters"))
    return fitted


async def import_customers(records: Sequence[Any], *, source: str, now: datetime) -> BatchResult:
    result = BatchResult()

    async def store(r: Any) -> None:
        keyed = [(source, r.external_id)] if r.external_id else []
        contacts = ([("email", r.email)] if r.email else []) + ([("phone", r.mobile)] if r.mobile else [])
        identities = [(k, v) for k, v in keyed + contacts if len(v) <= IDENTITY_VALUE_LENGTH]
        found = await find_by_identities(keyed) if keyed else []
        if not found and contacts:
            found = await find_by_identities(contacts)
            if keyed and found and await _has_other_id(found, source, r.external_id):
                # Same email or phone, another id in the same CRM: two people (or a shared inbox), not one.
                result.skipped.append((r.line, f"its email or phone belongs to customer {found[0]}, who has another "
                                               f"{source} id; left apart"))
                return
        if len(found) > 1:
            result.skipped.append((r.line, f"matches customers {', '.join(map(str, found))}; merge them first"))
            return
        named = {"display_name": r.display_name} if r.named or not found else {}
        profile = _fit(Customer, {**named, "email": r.email, **r.profile}, r.line, result)
        if not found:
            await create_customer(identities=identities, now=now, **profile)
            result.created += 1
            return
        customer = await Customer.get(id=found[0]).select_for_update()
        if customer.locked or customer.anonymized_at is not None:
            state = "locked" if customer.locked else "anonymized"
            result.skipped.append((r.line, f"customer {customer.id} is {state}; left as it is"))
            return
        changes = _changes(customer, profile)
        new_identities = await add_identities(customer.id, identities, now=now)
        if changes:
            if "display_name" in changes:
                changes["name_key"], changes["surname_key"] = name_keys(changes["display_name"])
            await Customer.filter(id=customer.id).update(**changes, updated_at=now)
        if changes or new_identities:
            result.updated += 1
        else:
            result.unchanged += 1

    return await _each(records, result, store)


async def _has_other_id(customer_ids: Sequence[int], source: str, external_id: str) -> bool:
    return await Identity.filter(customer_id__in=list(customer_ids), kind=source).exclude(value=external_id).exists()


async def _customer_for(ref: str | None, email: str | None, *, source: str) -> tuple[int | None, str | None]:
    """(customer id, None) or (None, why not) for a case's or order's customer reference: the CRM id
    (of this source only), or an email, in the reference column or its own."""
    found: list[int] = []
    if ref:
        found = await find_by_identities([(source, ref)])
        email = email or normalize_email(ref)
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

    async def store(r: Any) -> None:
        customer_id, why = await _customer_for(r.customer_ref, r.customer_email, source=source)
        existing = await Case.get_or_none(number=r.number)
        wanted = _fit(Case, {"title": r.title, "status": r.status, "priority": r.priority, "product": r.product,
                             "owner": r.owner}, r.line, result)
        if existing is not None:
            if existing.customer_id is not None and customer_id is not None and existing.customer_id != customer_id:
                result.skipped.append((r.line, f"case {r.number} belongs to customer {existing.customer_id}; left as it is"))
                return
            linking = existing.customer_id is None and customer_id is not None
            changes = _changes(existing, {**wanted, "customer_id": customer_id if linking else None})
            if changes:
                await Case.filter(id=existing.id).update(**changes, updated_at=now)
                result.updated += 1
            else:
                result.unchanged += 1
            if linking:
                await Activity.create(customer_id=customer_id, at=existing.created_at, category="case", kind="case",
                                      title=f"Case {existing.number} opened", detail=existing.title, case_id=existing.id)
            return
        opened = r.opened_at or now
        case = await Case.create(number=r.number, customer_id=customer_id, created_at=opened, updated_at=now,
                                 **{k: v for k, v in wanted.items() if v is not None})
        if customer_id is not None:
            await Activity.create(customer_id=customer_id, at=opened, category="case", kind="case",
                                  title=f"Case {case.number} opened", detail=r.title, case_id=case.id)
        else:
            result.notes.append((r.line, f"imported without a customer: {why}"))
        result.created += 1

    return await _each(records, result, store)


async def import_orders(records: Sequence[Any], *, source: str, now: datetime) -> BatchResult:
    result = BatchResult()
    touched: set[int] = set()

    async def store(r: Any) -> None:
        customer_id, why = await _customer_for(r.customer_ref, r.customer_email, source=source)
        if customer_id is None:
            result.skipped.append((r.line, why))
            return
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
            return
        await Order.create(customer_id=customer_id, number=r.number, **wanted)
        await Activity.create(customer_id=customer_id, at=r.placed_at, category="customer", kind="order",
                              title=f"Order {r.number} placed", detail=f"{r.total} {r.currency}")
        touched.add(customer_id)
        result.created += 1

    # The card's engagement figures follow the imported orders, in the same transaction.
    return await _each(records, result, store, then=lambda: recompute_engagement(touched))


IMPORTERS = {"customers": import_customers, "cases": import_cases, "orders": import_orders}


async def import_batch(kind: str, records: Iterable[Any], *, source: str, now: datetime) -> BatchResult:
    return await IMPORTERS[kind](list(records), source=source, now=now)

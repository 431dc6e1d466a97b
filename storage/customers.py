"""Customer identity resolution (SPEC 5): one match links, several make a multi-match, none is no-data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from tortoise.expressions import Q

from bot.domain import MatchCandidate
from bot.identity import NAME_KEY_LENGTH, fold_name
from storage.models import Customer, Identity


@dataclass(frozen=True)
class Match:
    customer_id: int | None
    candidate_ids: tuple[int, ...] = ()

    @property
    def state(self) -> str:
        if self.customer_id is not None:
            return "matched"
        return "multi_match" if self.candidate_ids else "no_data"


def candidate_of(customer: Customer) -> MatchCandidate:
    """A match shown for picking: the name, and company / city to tell two namesakes apart."""
    hint = ", ".join(x for x in (customer.company, customer.city) if x) or None
    return MatchCandidate(customer.id, customer.display_name, hint)


async def survivors(customer_ids: Iterable[int]) -> dict[int, int]:
    """Map each id to the customer it was merged into (merged ids keep resolving to the survivor)."""
    mapping = {cid: cid for cid in customer_ids}
    pending = set(mapping.values())
    for _ in range(8):  # merge chains are short; the bound only guards against a corrupt cycle
        if not pending:
            break
        rows = await Customer.filter(id__in=pending, merged_into_id__not_isnull=True).values_list("id", "merged_into_id")
        if not rows:
            break
        forward = dict(rows)
        mapping = {cid: forward.get(target, target) for cid, target in mapping.items()}
        pending = set(forward.values())
    return mapping


async def find_by_identities(identities: Sequence[tuple[str, str]]) -> list[int]:
    """Distinct surviving customer ids that own any of these (kind, normalized value) identities."""
    if not identities:
        return []
    condition = Q()
    for kind, value in identities:
        condition |= Q(kind=kind, value=value)
    owners = await Identity.filter(condition).distinct().values_list("customer_id", flat=True)
    resolved = await survivors(owners)
    return sorted(set(resolved.values()))


async def add_identities(customer_id: int, identities: Iterable[tuple[str, str]], *, now: datetime) -> int:
    """Attach identities the customer does not have yet; returns how many were new."""
    identities = list(dict.fromkeys(identities))
    if not identities:
        return 0
    have = set(await Identity.filter(customer_id=customer_id).values_list("kind", "value"))
    new = [Identity(customer_id=customer_id, kind=k, value=v, created_at=now) for k, v in identities if (k, v) not in have]
    if new:
        await Identity.bulk_create(new)
    return len(new)


def _next_key(key: str) -> str:
    """The smallest string after every string that starts with `key`: "dana" → "danb"."""
    following = ord(key[-1]) + 1
    return key[:-1] + chr(0xE000 if 0xD800 <= following <= 0xDFFF else following)


async def customers_named(text: str, limit: int, *, order: tuple[str, ...] = ("name_key", "id")) -> list[Customer]:
    """Surviving customers whose name, or surname first, starts with `text` (case and accents ignored).

    Two index range scans (`customer_by_name`, `customer_by_surname`), each stopping after `limit` rows:
    the cost does not grow with the number of customers."""
    key = fold_name(text)[:NAME_KEY_LENGTH]
    if not key:
        return []
    found: dict[int, Customer] = {}
    for column in ("name_key", "surname_key"):
        rows = await Customer.filter(
            **{f"{column}__gte": key, f"{column}__lt": _next_key(key)}, merged_into_id__isnull=True
        ).order_by(column, "id").limit(limit)
        for c in rows:
            found.setdefault(c.id, c)
    return sorted(found.values(), key=lambda c: tuple(getattr(c, name) for name in order))[:limit]


_NAME_LENGTH = Customer._meta.fields_map["first_name"].max_length


async def create_customer(
    *,
    display_name: str,
    identities: Sequence[tuple[str, str]],
    now: datetime,
    email: str | None = None,
    mobile_phone: str | None = None,
    **profile,
) -> int:
    first, _, last = display_name.partition(" ")
    customer = await Customer.create(
        display_name=display_name,
        # Names guessed from the display name are cut to their columns; given ones must fit already.
        first_name=profile.pop("first_name", None) or (first[:_NAME_LENGTH] or None),
        last_name=profile.pop("last_name", None) or (last[:_NAME_LENGTH] or None),
        email=email,
        mobile_phone=mobile_phone,
        created_at=now,
        updated_at=now,
        **profile,
    )
    await add_identities(customer.id, identities, now=now)
    return customer.id


async def find_by_identity_value(value: str) -> list[int]:
    """Customers owning an identity with exactly this value, whatever its kind (a CRM id, a channel id)."""
    owners = await Identity.filter(value=value).distinct().values_list("customer_id", flat=True)
    return sorted(set((await survivors(owners)).values()))


PAIRS_PER_QUERY = 200  # keeps the OR chain well under SQLite's expression-depth limit


async def resolve_many(identity_sets: Sequence[Sequence[tuple[str, str]]]) -> list[Match]:
    """Resolve each handoff's identities: one match links, several are a multi-match, none is no-data.

    All handoffs of a group commit share one query (per 200 identities); learning new identities is
    the caller's insert."""
    pairs = list(dict.fromkeys(pair for identities in identity_sets for pair in identities))
    rows: list[tuple[int, str, str, int | None]] = []
    for start in range(0, len(pairs), PAIRS_PER_QUERY):
        condition = Q()
        for kind, value in pairs[start : start + PAIRS_PER_QUERY]:
            condition |= Q(kind=kind, value=value)
        rows += await Identity.filter(condition).values_list("customer_id", "kind", "value", "customer__merged_into_id")
    merged = any(row[3] is not None for row in rows)
    mapping = await survivors({row[0] for row in rows}) if merged else {row[0]: row[0] for row in rows}
    owners_of: dict[tuple[str, str], set[int]] = {}
    for cid, kind, value, _ in rows:
        owners_of.setdefault((kind, value), set()).add(mapping[cid])
    matches = []
    for identities in identity_sets:
        owners = sorted(set().union(*(owners_of.get(pair, set()) for pair in identities))) if identities else []
        matches.append(Match(owners[0]) if len(owners) == 1 else Match(None, tuple(owners)))
    return matches

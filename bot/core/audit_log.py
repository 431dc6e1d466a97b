"""Reading the audit (SPEC 4.2 `audit`, SPEC 1 `baton audit`): who viewed, looked up, exported, merged,
edited, locked or anonymized a customer, newest first. Supervisors and admins only (`audit` permission)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, time, timedelta, timezone

from bot.core import roles
from bot.core.services import Services
from bot.domain import Actor, AuditEntry
from bot.errors import UserError
from storage import audit

SHOWN_IN_CHAT = 50  # lines in a chat answer; `baton audit` has no such limit
_RELATIVE = re.compile(r"^(\d{1,5})\s*([dhw])$", re.IGNORECASE)
# What each action reads as in a chat answer.
VERB_TEXT = {
    "view": "viewed", "lookup": "looked up", "identities": "listed the identities of", "export": "exported",
    "merge": "merged", "unmerge": "undid the merge of", "edit": "edited", "lock": "locked", "unlock": "unlocked",
    "anonymize": "anonymized", "link": "linked a conversation to", "create": "created", "audit": "read the audit of",
}
FIELDS = ("at", "actor", "actor_name", "action", "customer_id", "detail")


def parse_since(text: str, now: datetime) -> datetime:
    """`2026-11-01` (midnight UTC), an ISO date and time, or `7d` / `12h` / `2w` before now."""
    text = text.strip()
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        unit_name = {"d": "days", "h": "hours", "w": "weeks"}[unit]
        return now - timedelta(**{unit_name: amount})
    try:
        if len(text) == 10:
            return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(), timezone.utc)
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"“{text}” is not a date. Use 2026-11-01, 2026-11-01T09:30Z, or 7d / 12h / 2w.",
                        field="since") from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


async def read(services: Services, actor: Actor, customer_id: int | None, since: datetime | None) -> list[AuditEntry]:
    """The audit the caller may read; reading a customer's audit is itself recorded."""
    roles.require(services.settings, actor, "audit")
    found = await audit.entries(customer_id=customer_id, since=since)
    if customer_id is not None:
        await audit.record(actor, "audit", customer_id=customer_id, now=services.clock(),
                           **({"since": since.isoformat()} if since else {}))
    return found


async def read_for_operator(operator: Actor, customer_ref: str | None, since: datetime | None, now: datetime
                            ) -> list[AuditEntry]:
    """`baton audit`: whoever runs Baton's command line already holds the database, so no role applies; the
    reading of one customer's audit is still recorded, under the operator's login."""
    from bot.core.actions import one_customer  # the same customer references as every command

    customer_id = (await one_customer(customer_ref)).customer_id if customer_ref else None
    found = await audit.entries(customer_id=customer_id, since=since, limit=None)
    if customer_id is not None:
        await audit.record(operator, "audit", customer_id=customer_id, now=now)
    return found


def line(entry: AuditEntry) -> str:
    who = entry.actor_name or entry.actor
    what = VERB_TEXT.get(entry.action, entry.action)
    extra = _detail_text(entry)
    return f"{entry.at:%Y-%m-%d %H:%M} UTC — {who} {what} customer {entry.customer_id}{extra}"


def _detail_text(entry: AuditEntry) -> str:
    d = entry.detail
    if entry.action == "merge" and "survivor" in d:
        return f" into customer {d['survivor']}"
    if entry.action == "merge" and "merged" in d:
        return f" (customer {d['merged']} merged into it)"
    if entry.action == "edit" and d.get("fields"):
        return f" ({', '.join(d['fields'])})"
    if d.get("conversation"):
        return f" (#c{d['conversation']})"
    return ""


def chat_text(customer_id: int, entries: list[AuditEntry]) -> str:
    if not entries:
        return f"No audit records for customer {customer_id} in that time."
    lines = [line(e) for e in entries[:SHOWN_IN_CHAT]]
    more = f"\n…and {len(entries) - SHOWN_IN_CHAT} older (`baton audit --customer {customer_id}` lists all)." \
        if len(entries) > SHOWN_IN_CHAT else ""
    return f"Audit of customer {customer_id}, newest first:\n" + "\n".join(lines) + more


def _row(entry: AuditEntry) -> dict:
    return {"at": entry.at.isoformat(), "actor": entry.actor, "actor_name": entry.actor_name, "action": entry.action,
            "customer_id": entry.customer_id, "detail": dict(entry.detail)}


def render(entries: list[AuditEntry], fmt: str) -> str:
    """`baton audit` output: a JSON array, CSV with a header (detail as JSON), or readable lines."""
    if fmt == "json":
        return json.dumps([_row(e) for e in entries], indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for entry in entries:
            row = _row(entry)
            writer.writerow({**row, "detail": json.dumps(row["detail"], separators=(",", ":"), default=str)})
        return out.getvalue()
    return "".join(line(e) + "\n" for e in entries)

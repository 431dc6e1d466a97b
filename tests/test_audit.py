"""A readable audit (SPEC 4.2 `audit`, SPEC 5 Roles): every view, lookup, export, merge, edit, lock and
anonymize is recorded and listed, privately, to supervisors and admins; `baton audit` prints it as JSON or
CSV; and the records are append-only, in the code and in the database itself."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tortoise import connections

from bot import cli
from storage import db
from storage.customers import create_customer
from storage.models import AuditEvent
from tests.slack_signing import block_action, slack_baton, view_submission
from tests.slack_signing import card_button

ADMIN, AGENT = "W333", "W111"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parent.parent


async def _customers() -> tuple[int, int]:
    dana = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                                 email="dana.w@example.com", now=NOW)
    dan = await create_customer(display_name="Dan Duplicate", identities=[("email", "dan@example.com")], now=NOW)
    return dana, dan


async def _everything_an_admin_can_do(world, dana: int, dan: int) -> None:
    conversation_id, card_ts = await world.handoff(conversation_id="va-audit")
    await world.command("lookup dana.w@example.com", user=ADMIN)
    await world.response_containing("Dana Whitfield (")
    action_id, value = card_button(f"c{conversation_id}", "details", customer=dana)
    await world.interaction(block_action(action_id, value, user=ADMIN, channel="C0HANDOFF", message_ts=card_ts))
    await world.opened_view("baton_details")
    await world.command(f"export {dana}", user=ADMIN, name="export")
    await world.response_containing("Sent to your direct messages")
    await world.command(f"profile {dana}", user=ADMIN)
    view = await world.opened_view("baton_profile_modal")
    await world.interaction(view_submission(view, {"first_name": "Dana", "last_name": "Whitfield", "company": "Acme"},
                                            user=ADMIN))
    await world.ephemeral_containing(ADMIN, "Profile saved")
    await world.command(f"lock {dan}", user=ADMIN, name="lock")
    await world.response_containing("locked against edits")
    await world.command(f"lock {dan} off", user=ADMIN, name="unlock")
    await world.response_containing("unlocked")
    await world.command(f"merge {dana} {dan}", user=ADMIN)
    await world.interaction(view_submission(await world.opened_view("baton_merge_modal"), {}, user=ADMIN))
    await world.ephemeral_containing(ADMIN, "Merged Dan Duplicate")
    await world.command(f"anonymize {dana}", user=ADMIN)
    await world.interaction(view_submission(await world.opened_view("baton_anonymize_modal"), {}, user=ADMIN))
    await world.ephemeral_containing(ADMIN, "is anonymized")


async def test_audit_lists_every_view_lookup_export_merge_edit_lock_and_anonymize_newest_first(database_url):
    async with slack_baton(database_url) as world:
        dana, dan = await _customers()
        await _everything_an_admin_can_do(world, dana, dan)

        await world.command(f"audit {dana}", user=ADMIN, name="audit")

        answer = await world.response_containing("Audit of customer")
        assert answer["response_type"] == "ephemeral"
        text = json.dumps(answer)
        for said in ("anonymized customer", "merged customer", "unlocked customer", "locked customer",
                     "edited customer", "exported customer", "viewed customer", "looked up customer"):
            assert said in text, said
        # Newest first: the anonymization above the lookup that came first.
        assert text.index("anonymized customer") < text.index("looked up customer")
        # Who did it, by name, and what was merged (the merged customer's own records are listed too).
        assert "Ana Admin" in text or ADMIN in text
        assert f"merged customer {dan} into customer {dana}" in text


async def test_an_agent_may_not_read_the_audit(database_url):
    async with slack_baton(database_url) as world:
        dana, _ = await _customers()

        await world.command(f"audit {dana}", user=AGENT)

        answer = await world.response_containing("may not audit")
        assert answer["response_type"] == "ephemeral"
        assert not await AuditEvent.filter(action="audit").exists()


async def test_audit_since_a_date_leaves_older_records_out_and_a_bad_date_is_named(database_url):
    async with slack_baton(database_url) as world:
        dana, _ = await _customers()
        await world.command(f"lock {dana}", user=ADMIN, name="lock")
        await world.response_containing("locked against edits")

        await world.command(f"audit {dana} --since 2999-01-01", user=ADMIN, name="future")
        await world.command(f"audit {dana} --since 7d", user=ADMIN, name="week")
        await world.command(f"audit {dana} --since yesterdayish", user=ADMIN, name="bad")

        assert "No audit records" in json.dumps(await world.response_containing("No audit records"))
        assert "locked customer" in json.dumps(await world.response_containing("Audit of customer"))
        assert "is not a date" in json.dumps(await world.response_containing("yesterdayish"))


# --------------------------------------------------------------------------- append-only


async def test_the_database_refuses_to_change_or_delete_an_audit_record(database):
    await AuditEvent.create(at=NOW, actor="slack:W333", action="export", customer_id=1, detail={})
    conn = connections.get("default")

    with pytest.raises(Exception, match="append-only"):
        await conn.execute_query("UPDATE audit_event SET action = 'view'")
    with pytest.raises(Exception, match="append-only"):
        await conn.execute_query("DELETE FROM audit_event")
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.filter(customer_id=1).update(action="view")
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.filter(customer_id=1).delete()

    assert await AuditEvent.filter(action="export").count() == 1


# Any way Baton's code could change or remove an audit row: the ORM's update, delete, save on a loaded row,
# bulk_update, or raw SQL naming the table.
_WRITES = [
    re.compile(r"AuditEvent\b[^\n]*\.(update|delete|bulk_update|select_for_update)\("),
    re.compile(r"(UPDATE|DELETE\s+FROM)\s+\"?audit_event", re.IGNORECASE),
    re.compile(r"\bevent\.(save|delete)\("),
]


def _audit_writers(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() for pattern in _WRITES if pattern.search(line)]


def test_the_scan_finds_a_deliberate_update_or_delete():
    assert _audit_writers('await AuditEvent.filter(id=event.id).update(detail={})')
    assert _audit_writers('await conn.execute_query("DELETE FROM audit_event WHERE id = 1")')
    assert not _audit_writers('await AuditEvent.create(at=now, actor=key, action=action)')


def test_no_code_path_updates_or_deletes_audit_records():
    offenders = []
    for folder in ("bot", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.parent.name == "migrations":
                continue  # the migration that installs the guard names the statements it refuses
            offenders += [f"{path.relative_to(ROOT)}: {line}" for line in _audit_writers(path.read_text())]

    assert offenders == []


# --------------------------------------------------------------------------- baton audit


async def _recorded(url: str) -> tuple[int, int]:
    await db.connect(url, migrate=False)
    try:
        dana, dan = await _customers()
        for at, action, customer in ((NOW, "lookup", dana), (NOW.replace(day=23), "export", dana),
                                     (NOW.replace(day=24), "lock", dan)):
            await AuditEvent.create(at=at, actor="slack:W333", action=action, customer_id=customer, detail={})
        return dana, dan
    finally:
        await db.disconnect()


def test_baton_audit_prints_json_and_csv_newest_first_and_filters(database_url, monkeypatch, capsys):
    dana, dan = asyncio.run(_recorded(database_url))
    monkeypatch.setenv("BATON_DATABASE_URL", database_url)
    monkeypatch.delenv("BATON_CONFIG", raising=False)

    assert cli.main(["audit", "--customer", "dana.w@example.com", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [(e["action"], e["customer_id"]) for e in entries] == [("export", dana), ("lookup", dana)]
    assert entries[0]["actor"] == "slack:W333" and entries[0]["at"].startswith("2026-11-23")

    assert cli.main(["audit", "--since", "2026-11-23", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    # The first reading of Dana's audit (just now) is itself on record, above the rest.
    assert [(r["action"], int(r["customer_id"])) for r in rows] == [("audit", dana), ("lock", dan), ("export", dana)]
    assert set(rows[0]) == {"at", "actor", "actor_name", "action", "customer_id", "detail"}

    assert cli.main(["audit", "--customer", "nobody@example.com"]) == 2
    assert "No customer matches" in capsys.readouterr().err


def test_reading_a_customers_audit_from_the_command_line_is_recorded(database_url, monkeypatch, capsys):
    dana, _ = asyncio.run(_recorded(database_url))
    monkeypatch.setenv("BATON_DATABASE_URL", database_url)

    assert cli.main(["audit", "--customer", str(dana)]) == 0
    assert "exported customer" in capsys.readouterr().out

    async def readers() -> list[str]:
        await db.connect(database_url, migrate=False)
        try:
            return list(await AuditEvent.filter(action="audit", customer_id=dana).values_list("actor", flat=True))
        finally:
            await db.disconnect()

    assert [actor.split(":")[0] for actor in asyncio.run(readers())] == ["cli"]

"""SPEC 5 rules through the command registry: merge and its undo, locks, anonymize, comments, roles, audit."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from bot.commands.builtin import registry
from bot.core import actions
from bot.core.services import Services
from bot.domain import Actor, CommandRequest
from bot.errors import UserError
from bot.settings import Settings
from storage import cases
from storage.customers import create_customer
from storage.models import AuditEvent, Case, CaseComment, Customer, Identity, Note

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
AGENT = Actor("slack", "U_AGENT", "Ana Agent", role="agent")
ADMIN = Actor("slack", "U_ADMIN", "Sam Admin", role="admin")


def services(at: datetime = T0) -> Services:
    return Services(settings=Settings(), clock=lambda: at, targets=[])


async def run(text: str, actor: Actor = ADMIN, at: datetime = T0):
    return await registry.dispatch(services(at), CommandRequest(actor=actor, text=text, platform="slack", channel_id="C1"))


async def _two_customers() -> tuple[int, int]:
    a = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana@example.com")], now=T0)
    b = await create_customer(display_name="Dana W", identities=[("email", "dw@example.com"), ("phone", "+14155550123")], now=T0)
    await Note.create(customer_id=b, author="x", text="note on b", created_at=T0)
    return a, b


async def test_merge_asks_for_confirmation_before_changing_anything(database):
    a, b = await _two_customers()

    reply = await run(f"merge {a} {b}")

    assert reply.form.name == "merge_confirm"
    assert (await Customer.get(id=b)).merged_into_id is None


async def test_a_confirmed_merge_moves_everything_and_the_old_id_resolves_to_the_survivor(database):
    a, b = await _two_customers()

    await actions.merge_customers(services(), ADMIN, a, b)

    assert await Identity.filter(customer_id=a).count() == 3
    assert await Note.filter(customer_id=a).count() == 1
    found = await actions.find_customers(str(b))
    assert [c.customer_id for c in found] == [a]
    assert set(await AuditEvent.filter(action="merge").values_list("customer_id", flat=True)) == {a, b}


async def test_a_merge_can_be_undone_within_24_hours_but_not_after(database):
    a, b = await _two_customers()
    await actions.merge_customers(services(), ADMIN, a, b)

    with pytest.raises(UserError, match="24-hour"):
        await actions.undo_merge(services(T0 + timedelta(hours=25)), ADMIN, b)
    await actions.undo_merge(services(T0 + timedelta(hours=23)), ADMIN, b)

    assert (await Customer.get(id=b)).merged_into_id is None
    assert await Identity.filter(customer_id=b).count() == 2


async def test_a_locked_customer_refuses_merges_and_edits(database):
    a, b = await _two_customers()
    await run(f"lock {b}")

    with pytest.raises(UserError, match="locked"):
        await run(f"merge {a} {b}")
    with pytest.raises(UserError, match="locked"):
        await actions.save_profile(services(), ADMIN, b, {"company": "Evil Corp"})


async def test_concurrent_merges_of_the_same_customer_succeed_once(database):
    a, b = await _two_customers()
    c = await create_customer(display_name="Third", identities=[("email", "c@example.com")], now=T0)

    results = await asyncio.gather(
        actions.merge_customers(services(), ADMIN, a, b),
        actions.merge_customers(services(), ADMIN, c, b),
        return_exceptions=True,
    )

    assert sum(1 for r in results if isinstance(r, str)) == 1
    assert sum(1 for r in results if isinstance(r, UserError)) == 1
    survivor = (await Customer.get(id=b)).merged_into_id
    assert await Identity.filter(customer_id=survivor, value="+14155550123").exists()


async def test_an_agent_may_not_merge_export_or_anonymize(database):
    a, b = await _two_customers()
    for command in (f"merge {a} {b}", f"export {a}", f"anonymize {a}", f"lock {a}"):
        with pytest.raises(UserError, match="role"):
            await run(command, actor=AGENT)


async def test_anonymize_replaces_personal_data_and_keeps_counts(database):
    a, _ = await _two_customers()
    await Case.create(number="CAS-00001", customer_id=a, title="t", created_at=T0, updated_at=T0)

    await actions.anonymize(services(), ADMIN, a)

    customer = await Customer.get(id=a)
    assert "Dana" not in customer.display_name and customer.email is None
    assert not await Identity.filter(value="dana@example.com").exists()
    assert await Identity.filter(customer_id=a).count() == 1
    assert await Case.filter(number="CAS-00001", customer_id=a).exists()
    assert await AuditEvent.filter(action="anonymize", customer_id=a).exists()


async def test_export_is_json_of_the_customer_and_is_audited(database):
    a, _ = await _two_customers()

    reply = await run(f"export {a}")

    name, content = reply.attachment
    data = json.loads(content)
    assert data["customer"]["display_name"] == "Dana Whitfield"
    assert {"kind": "email", "value": "dana@example.com"} in data["identities"]
    assert await AuditEvent.filter(action="export", customer_id=a).exists()


async def test_case_comments_are_internal_and_disappear_when_the_case_is_canceled(database):
    a, _ = await _two_customers()
    await Case.create(number="CAS-00042", customer_id=a, title="Broken vase", created_at=T0, updated_at=T0)

    reply = await run("comment CAS-00042 carrier claim opened", actor=AGENT)
    assert "cannot be edited" in reply.text
    assert await CaseComment.filter(text="carrier claim opened").exists()

    await cases.cancel_case(await cases.find_case("CAS-00042"), now=T0)
    assert not await CaseComment.filter(text="carrier claim opened").exists()
    with pytest.raises(UserError, match="canceled"):
        await run("comment CAS-00042 more", actor=AGENT)


async def test_lookup_by_phone_in_any_format_finds_the_customer_and_is_audited(database):
    _, b = await _two_customers()

    reply = await run("lookup (415) 555-0123", actor=AGENT)

    assert reply.summary.profile.customer_id == b
    assert reply.private
    assert await AuditEvent.filter(action="lookup", customer_id=b, actor="slack:U_AGENT").exists()


async def test_lookup_by_a_shared_name_lists_the_matches(database):
    await _two_customers()

    reply = await run("lookup dana", actor=AGENT)

    assert reply.summary is None and len(reply.candidates) == 2


async def test_help_lists_every_registered_command(database):
    reply = await run("help", actor=AGENT)
    for command in registry:
        assert f"/baton {command.usage}" in reply.text


async def test_an_unknown_subcommand_gets_plain_words(database):
    with pytest.raises(UserError, match="Unknown command"):
        await run("frobnicate", actor=AGENT)

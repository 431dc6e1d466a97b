"""Every `@Baton <subcommand>` in a handoff thread, at a channel root and in a personal chat: the same
registry answers; private answers asked in a channel go to the caller's personal chat."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from bot.commands.builtin import registry
from storage.cases import open_case
from storage.customers import create_customer
from tests.cards_factory import assert_valid_card
from tests.handoff_factory import make_generic_payload
from tests.teams_activities import ADMIN, CHANNEL, channel_message, personal_message, post_activity, teams_baton
from tests.teams_activities import install_and_route, settle

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
ROLES = {"role_assignments": {ADMIN["id"]: "admin"}}

# (command, text expected in the answer). {ref} is "#c<n> " outside the thread; {customer} Dana's id.
COMMANDS = [
    ("help", "lookup"),
    ("lookup dana.w@example.com", "Dana Whitfield"),
    ("note {ref}Called her back", "Note added"),
    ("comment {case} Replacement approved", "Internal comment added"),
    ("merge {customer} {other}", "Merge"),
    ("wrapup {ref}", "Choose a disposition code"),
    ("link {ref}{customer}", "is now linked to Dana Whitfield"),
    ("new {ref}", "already linked"),
    ("case {ref}{case}", "is now about"),
    ("timeline {customer} case", "Timeline"),
    ("profile {customer}", "Profile"),
    ("identities {customer}", "Identities of Dana Whitfield"),
    ("export {customer}", "customer-"),
    ("lock {customer}", "locked against edits"),
    ("anonymize {other}", "Anonymize"),
    ("route here vip", "now receives"),
    ("audit {customer}", "Audit of customer"),
    ("transfer {ref}returns", "is not claimed"),
    ("unclaim {ref}", "is not claimed"),
    ("sessions", "open conversations"),
    ("page {customer}", "customer page is off"),
]


def test_the_table_covers_every_registered_command():
    assert {c.split()[0] for c, _ in COMMANDS} == {c.name for c in registry}


def _said(calls) -> str:
    out = []
    for call in calls:
        out.append(call.text)
        out.append(str(call.cards).replace("\u2060", ""))
    return "\n".join(out).replace("\u2060", "")


async def _arrange(baton, connector) -> dict[str, Any]:
    await install_and_route(baton, connector)
    dana = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                                 email="dana.w@example.com", now=NOW)
    other = await create_customer(display_name="Dana W. (duplicate)", identities=[("phone", "+14155550199")], now=NOW)
    case = await open_case(title="Parcel arrived damaged", customer_id=dana, owner="Ana", now=NOW)
    status, body = await baton.post_signed("/handoff", make_generic_payload(
        customer={"name": "Dana Whitfield", "email": "nobody-yet@example.com"}, case=None))
    created = await connector.wait_for(lambda c: c.ok("create_conversation"))
    return {"conv": body["conversation"], "thread": created[-1].response["id"], "customer": dana, "other": other,
            "case": case.number}


async def _run(baton, connector, activity) -> list:
    before = len(connector.calls)
    status, _ = await post_activity(baton, activity)
    assert status == 200
    await settle(baton)
    return [c for c in connector.calls[before:] if c.ok and c.route in ("reply", "send", "create_conversation")
            and not (c.route == "send" and c.conversation_id.startswith(CHANNEL) and c.text.startswith("**"))]


@pytest.mark.parametrize("where", ["thread", "channel", "personal"])
async def test_every_subcommand_answers_by_mention(database_url, where):
    async with teams_baton(database_url, **ROLES) as (baton, connector):
        facts = await _arrange(baton, connector)
        for template, expected in COMMANDS:
            text = template.format(ref="" if where == "thread" else f"#{facts['conv']} ", **facts)
            if where == "thread":
                activity = channel_message(connector.url, text, thread=facts["thread"], user=ADMIN)
            elif where == "channel":
                activity = channel_message(connector.url, text, user=ADMIN)
            else:
                activity = personal_message(connector.url, text, user=ADMIN)
            if where == "personal" and template.startswith("route"):
                expected = "Run `route here` in the channel"
            answer = await _run(baton, connector, activity)
            assert expected in _said(answer), f"{text!r} in {where}: {_said(answer)[:500]}"
            for call in answer:
                for card in call.cards:
                    assert_valid_card(card)


async def test_a_lookup_asked_in_a_channel_is_answered_privately(database_url):
    async with teams_baton(database_url, **ROLES) as (baton, connector):
        await _arrange(baton, connector)
        answer = await _run(baton, connector, channel_message(connector.url, "lookup dana.w@example.com", user=ADMIN))

        in_channel = [c for c in answer if c.route == "reply"]
        private = [c for c in answer if c.route == "send" and c.conversation_id == f"a:personal-{ADMIN['id']}"]
        opened = [c for c in answer if c.route == "create_conversation"]
        assert opened and opened[0].body["members"] == [{"id": ADMIN["id"]}]
        assert "Dana Whitfield" in _said(private)
        assert "Dana Whitfield" not in _said(in_channel)
        assert "personal chat" in _said(in_channel)


async def test_wrap_up_with_logs_in_the_thread_posts_the_interaction_log_there(database_url):
    async with teams_baton(database_url, **ROLES) as (baton, connector):
        facts = await _arrange(baton, connector)
        await _run(baton, connector, channel_message(connector.url, "wrapup resolved done --logs", thread=facts["thread"],
                                                     user=ADMIN))
        log = await connector.wait_for(lambda c: [x for x in c.ok("send", conversation_id=facts["thread"])
                                                  if "my parcel arrived damaged" in x.text and not x.text.startswith("**")])
        assert "customer" in log[0].text


async def test_an_unknown_command_gets_a_helpful_refusal(database_url):
    async with teams_baton(database_url) as (baton, connector):
        answer = await _run(baton, connector, personal_message(connector.url, "frobnicate now"))
        assert "Unknown command" in _said(answer)


async def test_a_mention_that_is_not_the_bots_is_not_a_command(database_url):
    async with teams_baton(database_url) as (baton, connector):
        activity = channel_message(connector.url, "help", mention=False)
        answer = await _run(baton, connector, activity)
        assert answer == []

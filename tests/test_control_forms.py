"""The claimed card's "Transfer…" and "Priority…": one core form each (bot/core/forms.py), a Slack modal
opened from the overflow menu and a Teams inline form from the secondary actions, submitted for real."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bot.domain import Actor, parse_public_id
from storage import cases
from storage.conversations import agent_for
from storage.customers import create_customer
from storage.models import Case, Conversation
from tests.handoff_factory import make_generic_payload
from tests.slack_signing import selected, view_submission
from tests.teams_activities import ANA, BEN, card_action, install_and_route, invoke, post_activity, teams_baton
from tests.test_conversation_control import AGENT, OTHER, _claimed, _menu, _statuses
from tests.slack_signing import slack_baton

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
CARD = "application/vnd.microsoft.card.adaptive"


# --------------------------------------------------------------------------- Slack


async def _submit(world, view: dict, values: dict, user: str = AGENT):
    status, answer = await world.interaction(view_submission(view, values, user=user))
    assert status == 200
    return answer


async def test_slack_transfer_from_the_menu_to_an_agent_in_the_modal(database_url):
    async with slack_baton(database_url) as world:
        await agent_for(Actor("slack", OTHER, "Ben Backup"))  # Ben has used Baton before: he is in the picker
        ctx = await _claimed(world)
        card = await world.slack.wait_for(lambda s: next((c for c in reversed(s.of("chat.update", ts=ctx["card_ts"]))
                                                          if "overflow" in json.dumps(c.args)), None))
        labels = json.dumps(card.args, ensure_ascii=False)
        assert "Transfer…" in labels and "Priority…" in labels

        await _menu(world, ctx, "transfer")

        view = await world.opened_view("baton_transfer_modal")
        agent = next(b for b in view["blocks"] if b.get("block_id") == "agent")
        options = [(o["value"], o["text"]["text"]) for o in agent["element"]["options"]]
        assert options == [(OTHER, "Ben Backup")]  # the one transferring is not offered to themself
        await _submit(world, view, {"agent": selected(OTHER)})

        await world.ephemeral_containing(AGENT, "is now claimed by Ben Backup")
        conversation = await Conversation.get(id=ctx["conv"]).select_related("claimed_by")
        assert conversation.claimed_by.platform_user_id == OTHER
        await world.slack.wait_for(lambda s: _statuses(world).count(("accepted", "Ben Backup")) == 1)


async def test_slack_transfer_modal_to_a_queue_and_its_refusals_beside_the_fields(database_url):
    async with slack_baton(database_url) as world:
        await agent_for(Actor("slack", OTHER, "Ben Backup"))
        ctx = await _claimed(world)
        await _menu(world, ctx, "transfer")
        view = await world.opened_view("baton_transfer_modal")

        empty = await _submit(world, view, {"queue": None})
        assert empty["response_action"] == "errors" and "agent" in empty["errors"]
        both = await _submit(world, view, {"agent": selected(OTHER), "queue": "returns"})
        assert set(both["errors"]) == {"queue"}
        assert (await Conversation.get(id=ctx["conv"])).status == "claimed"

        await _submit(world, view, {"queue": "returns"})

        await world.ephemeral_containing(AGENT, "in the returns queue")
        conversation = await Conversation.get(id=ctx["conv"])
        assert (conversation.status, conversation.queue, conversation.claimed_by_id) == ("queued", "returns", None)
        await world.slack.wait_for(lambda s: any(state == "queued" for state, _ in _statuses(world)))


async def test_slack_priority_from_the_menu_sets_the_cases_priority(database_url):
    async with slack_baton(database_url) as world:
        ctx = await _claimed(world)

        await _menu(world, ctx, "case_priority")

        view = await world.opened_view("baton_priority_modal")
        select = next(b for b in view["blocks"] if b.get("block_id") == "priority")["element"]
        assert [o["value"] for o in select["options"]] == ["Low", "Normal", "High", "Urgent"]
        assert select["initial_option"]["value"] == "Normal"
        await _submit(world, view, {"priority": selected("Urgent")})

        await world.ephemeral_containing(AGENT, "now has priority Urgent")
        assert (await Case.get(number=ctx["case"])).priority == "Urgent"


# --------------------------------------------------------------------------- Teams


async def _teams_claimed(baton, connector) -> tuple[str, str, str]:
    await install_and_route(baton, connector)
    dana = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")], now=NOW)
    case = await cases.open_case(title="Damaged parcel", customer_id=dana, owner="Ana", now=NOW)
    status, body = await baton.post_signed("/handoff", make_generic_payload(conversation_id="va-teams-control",
                                                                          case={"number": case.number}))
    assert status == 202
    created = await connector.wait_for(lambda c: c.ok("create_conversation"))
    conv, thread = body["conversation"], created[-1].response["id"]
    claimed = await _invoke(baton, card_action(connector.url, "claim", {"action": "claim", "conversation": conv},
                                               conversation=thread))
    titles = [a.get("title") for a in claimed["value"]["actions"] if a.get("mode") == "secondary"]
    assert titles == ["Transfer…", "Unclaim", "Case…"]
    assert len(claimed["value"]["actions"]) <= 6  # what Teams draws
    return conv, thread, case.number


async def _invoke(baton, activity) -> dict:
    status, body = await post_activity(baton, activity)
    assert status == 200, body
    return body


def _inputs(card: dict) -> dict[str, dict]:
    return {e["id"]: e for e in card["body"] if e.get("id")}


async def test_teams_transfer_inline_form_to_an_agent(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await agent_for(Actor("teams", BEN["id"], BEN["name"]))
        conv, thread, _ = await _teams_claimed(baton, connector)

        form = await _invoke(baton, card_action(connector.url, "transfer", {"action": "transfer", "conversation": conv},
                                                conversation=thread))

        assert form["type"] == CARD
        inputs = _inputs(form["value"])
        assert [c["value"] for c in inputs["agent"]["choices"]] == [BEN["id"]]  # not Ana, who is transferring it
        submit = form["value"]["actions"][0]
        done = await _invoke(baton, card_action(connector.url, submit["verb"], {**submit["data"], "agent": BEN["id"]},
                                                conversation=thread))
        assert done["type"] == CARD
        conversation = await Conversation.get(id=parse_public_id(conv)).select_related("claimed_by")
        assert (conversation.claimed_by.platform_user_id, conversation.claimed_by.display_name) == (BEN["id"], BEN["name"])


async def test_teams_priority_inline_form_and_a_transfer_to_a_queue(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, number = await _teams_claimed(baton, connector)

        form = await _invoke(baton, card_action(connector.url, "case_priority",
                                                {"action": "case_priority", "conversation": conv}, conversation=thread))
        choice = _inputs(form["value"])["priority"]
        assert (choice["value"], [c["value"] for c in choice["choices"]]) == ("Normal", ["Low", "Normal", "High", "Urgent"])
        submit = form["value"]["actions"][0]
        await _invoke(baton, card_action(connector.url, submit["verb"], {**submit["data"], "priority": "High"},
                                         conversation=thread))
        assert (await Case.get(number=number)).priority == "High"
        # The same form closes the case (Teams draws at most 6 actions on the card itself).
        close = next(a for a in form["value"]["actions"] if a.get("title") == "Close case")
        await _invoke(baton, card_action(connector.url, close["verb"], close["data"], conversation=thread))
        assert (await Case.get(number=number)).status == "closed"

        form = await _invoke(baton, card_action(connector.url, "transfer", {"action": "transfer", "conversation": conv},
                                                conversation=thread, user=ANA))
        submit = form["value"]["actions"][0]
        await _invoke(baton, card_action(connector.url, submit["verb"], {**submit["data"], "queue": "returns"},
                                         conversation=thread))
        conversation = await Conversation.get(id=parse_public_id(conv))
        assert (conversation.status, conversation.queue) == ("queued", "returns")


async def test_teams_transfer_as_a_dialog(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, _ = await _teams_claimed(baton, connector)

        fetched = await _invoke(baton, invoke(connector.url, "task/fetch", {"data": {"form": "transfer", "conversation": conv}},
                                              conversation=thread))

        task = fetched["task"]["value"]
        assert task["title"] == "Transfer"
        submit = task["card"]["content"]["actions"][0]
        assert submit["type"] == "Action.Submit"
        await _invoke(baton, invoke(connector.url, "task/submit", {"data": {**submit["data"], "queue": "returns"}},
                                    conversation=thread))
        assert (await Conversation.get(id=parse_public_id(conv))).queue == "returns"

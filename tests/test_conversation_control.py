"""SPEC 4.2 conversation and case control: transfer, unclaim, case close | cancel | priority — as commands
and as the claimed card's menu — with the card and the customer's side (reply_url status) following."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bot.cards.actions import ActionPayload
from storage import cases
from storage.customers import create_customer
from storage.models import Activity, Case, CaseComment, Conversation
from tests.slack_signing import HANDOFF_CHANNEL, block_action, mention, slack_baton

AGENT, OTHER, ADMIN = "W111", "W222", "W333"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


async def _claimed(world, user: str = AGENT) -> dict:
    dana = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")], now=NOW)
    case = await cases.open_case(title="Damaged parcel", customer_id=dana, owner="Ana", now=NOW)
    conversation_id, card_ts = await world.handoff(conversation_id="va-control", case={"number": case.number})
    value = ActionPayload(conversation=f"c{conversation_id}").to_value()
    await world.interaction(block_action("baton_claim", value, user=user, channel=HANDOFF_CHANNEL, message_ts=card_ts))
    await world.ephemeral_containing(user, "You claimed")
    await world.slack.wait_for(lambda s: any(b.get("status") == "accepted" for _, b, _ in s.statuses))
    return {"conv": conversation_id, "card_ts": card_ts, "case": case.number}


async def _in_thread(world, ctx: dict, text: str, user: str = AGENT) -> None:
    status, _ = await world.event(mention(text, user=user, channel=HANDOFF_CHANNEL, ts=world.next_ts(),
                                          thread_ts=ctx["card_ts"]))
    assert status == 200


def _statuses(world) -> list[tuple[str, str | None]]:
    return [(body.get("status"), (body.get("agent") or {}).get("name")) for _, body, _ in world.slack.statuses]


async def test_unclaim_puts_it_back_in_the_queue_and_the_source_hears_queued(database_url):
    async with slack_baton(database_url) as world:
        ctx = await _claimed(world)

        await _in_thread(world, ctx, "unclaim")

        await world.ephemeral_containing(AGENT, "back in the queue")
        await world.slack.wait_for(lambda s: any(b.get("status") == "queued" for _, b, _ in s.statuses))
        conversation = await Conversation.get(id=ctx["conv"])
        assert (conversation.status, conversation.claimed_by_id) == ("queued", None)
        card = await world.slack.wait_for(lambda s: next((c for c in reversed(s.of("chat.update", ts=ctx["card_ts"]))
                                                          if "baton_claim" in json.dumps(c.args)), None))
        assert "Waiting" in json.dumps(card.args) or "waiting" in json.dumps(card.args)


async def test_transfer_to_an_agent_makes_them_the_claimer_and_the_source_hears_it(database_url):
    async with slack_baton(database_url) as world:
        ctx = await _claimed(world)

        await _in_thread(world, ctx, f"transfer <@{OTHER}>")

        await world.ephemeral_containing(AGENT, "is now claimed by")
        await world.slack.wait_for(lambda s: len([b for _, b, _ in s.statuses if b.get("status") == "accepted"]) == 2)
        conversation = await Conversation.get(id=ctx["conv"]).select_related("claimed_by")
        assert conversation.claimed_by.platform_user_id == OTHER


async def test_transfer_to_a_queue_unclaims_it_into_that_queue(database_url):
    async with slack_baton(database_url) as world:
        ctx = await _claimed(world)

        await world.command(f"transfer #c{ctx['conv']} returns", user=AGENT)

        await world.response_containing("in the returns queue")
        conversation = await Conversation.get(id=ctx["conv"])
        assert (conversation.status, conversation.queue, conversation.claimed_by_id) == ("queued", "returns", None)
        await world.slack.wait_for(lambda s: any(b.get("status") == "queued" for _, b, _ in s.statuses))


async def test_only_the_claimer_or_transfer_any_may_move_a_conversation(database_url):
    async with slack_baton(database_url) as world:
        ctx = await _claimed(world)

        await world.command(f"unclaim #c{ctx['conv']}", user=OTHER)

        await world.response_containing("claimed by someone else")
        assert (await Conversation.get(id=ctx["conv"])).status == "claimed"
        await world.command(f"unclaim #c{ctx['conv']}", user=ADMIN, name="admin")  # admins have transfer_any
        await world.response_containing("back in the queue")


@pytest.mark.parametrize("how", ["command", "menu"])
async def test_canceling_the_case_deletes_its_internal_comments(database_url, how):
    async with slack_baton(database_url) as world:
        ctx = await _claimed(world)
        await world.command(f"comment {ctx['case']} carrier confirmed damage", user=AGENT, name="comment")
        await world.response_containing("Internal comment added")

        if how == "command":
            await _in_thread(world, ctx, "case cancel")
        else:
            await _menu(world, ctx, "case_cancel")

        await world.ephemeral_containing(AGENT, "canceled; its 1 internal comment was deleted")
        case = await Case.get(number=ctx["case"])
        assert case.status == "canceled"
        assert not await CaseComment.filter(case_id=case.id).exists()
        assert not await Activity.filter(case_id=case.id, kind="comment").exists()


@pytest.mark.parametrize("how", ["command", "menu"])
async def test_closing_the_case_and_changing_its_priority(database_url, how):
    async with slack_baton(database_url) as world:
        ctx = await _claimed(world)

        if how == "command":
            await _in_thread(world, ctx, "case close")
        else:
            await _menu(world, ctx, "case_close")
        await world.ephemeral_containing(AGENT, "is closed")
        await world.command(f"case #c{ctx['conv']} priority urgent", user=AGENT, name="priority")
        await world.response_containing("now has priority Urgent")
        await world.command(f"case #c{ctx['conv']} priority whenever", user=AGENT, name="bad")
        await world.response_containing("Priority is one of")

        case = await Case.get(number=ctx["case"])
        assert (case.status, case.priority) == ("closed", "Urgent")


@pytest.mark.parametrize("how", ["menu"])
async def test_unclaim_from_the_claimed_cards_menu(database_url, how):
    async with slack_baton(database_url) as world:
        ctx = await _claimed(world)
        card = await world.slack.wait_for(lambda s: next((c for c in reversed(s.of("chat.update", ts=ctx["card_ts"]))
                                                          if "overflow" in json.dumps(c.args)), None))
        labels = json.dumps(card.args)
        for label in ("Unclaim", "Close case", "Cancel case"):
            assert label in labels, label

        await _menu(world, ctx, "unclaim")

        await world.ephemeral_containing(AGENT, "back in the queue")
        assert (await Conversation.get(id=ctx["conv"])).status == "queued"


async def _menu(world, ctx: dict, verb: str, user: str = AGENT) -> None:
    """A choice in the claimed card's overflow menu, as Slack sends it (the option's value)."""
    card = await world.slack.wait_for(lambda s: next((c for c in reversed(s.of("chat.update", ts=ctx["card_ts"]))
                                                      if "overflow" in json.dumps(c.args)), None))
    menu = next(e for b in card.args["blocks"] if b["type"] == "actions" for e in b["elements"] if e["type"] == "overflow")
    option = next(o for o in menu["options"] if json.loads(o["value"]).get("verb") == verb)
    payload = block_action(menu["action_id"], option["value"], user=user, channel=HANDOFF_CHANNEL,
                           message_ts=ctx["card_ts"], kind="overflow")
    status, _ = await world.interaction(payload)
    assert status == 200

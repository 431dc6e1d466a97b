"""A customer who comes back is never dropped (SPEC 3.1), and a request with an Idempotency-Key is exactly
repeatable — for the generic webhook, Dialogflow CX and Bot Framework `handoff.initiate`, on both databases."""

from __future__ import annotations

import asyncio
import json

from bot.core import actions
from bot.domain import Actor, parse_public_id
from bot.web.app import services_of
from storage.models import Conversation, IdempotentAnswer, Message
from tests.handoff_factory import make_dialogflow_request, make_generic_payload
from tests.slack_signing import click, selected, slack_baton, view_submission
from tests.teams_activities import bf_handoff, install_and_route, post_activity, teams_baton

AGENT = Actor("slack", "W111", "Ana Agent", role="agent")


def _card_with(world, marker: str):
    return lambda s: next((c for c in s.of("chat.postMessage") if "thread_ts" not in c.args
                           and marker in json.dumps(c.args.get("blocks"))), None)


async def _wrap_up_from_the_card(world, conversation_id: int, card_ts: str) -> None:
    """What an agent does: the Wrap up button, then the modal."""
    await click(world, f"c{conversation_id}", "wrap_up", user="W111", card_ts=card_ts)
    view = await world.opened_view("baton_wrapup_modal")
    await world.interaction(view_submission(view, {"code": selected("resolved")}, user="W111"))
    await world.ephemeral_containing("W111", "wrapped up")


async def test_a_customer_back_after_wrap_up_gets_a_new_thread_whose_card_names_the_previous_one(database_url):
    async with slack_baton(database_url) as world:
        first_id, first_ts = await world.handoff(conversation_id="dl-forever")
        await _wrap_up_from_the_card(world, first_id, first_ts)

        payload = make_generic_payload(conversation_id="dl-forever", reply_url=world.slack.url + "/reply_url",
                                       transcript=[{"from": "customer", "text": "me again, the new one broke too"}])
        status, body = await world.baton.post_signed("/handoff", payload)

        assert status == 202 and body["status"] == "queued"
        assert body["conversation"] != f"c{first_id}"
        card = await world.slack.wait_for(_card_with(world, f"#{body['conversation']}"), timeout=20)
        assert card.response["ts"] != first_ts  # a new thread, not a reply in the old one
        shown = json.dumps(card.args["blocks"], ensure_ascii=False)
        assert f"Returning — previous conversation #c{first_id}, wrapped up" in shown
        assert "(resolved)" in shown
        # The new conversation carries only the new transcript; the old one is untouched.
        new_id = parse_public_id(body["conversation"])
        assert await Message.filter(conversation_id=new_id).values_list("text", flat=True) == ["me again, the new one broke too"]
        assert (await Conversation.get(id=first_id)).status == "wrapped"


async def test_while_the_conversation_is_open_a_repeat_still_joins_it(database_url):
    async with slack_baton(database_url) as world:
        first_id, _ = await world.handoff(conversation_id="dl-open")
        status, body = await world.baton.post_signed("/handoff", make_generic_payload(conversation_id="dl-open"))
        assert (status, body["conversation"]) == (200, f"c{first_id}")
        assert await Conversation.filter(external_id="dl-open").count() == 1


async def test_a_dialogflow_session_back_after_wrap_up_opens_a_new_conversation(database_url):
    async with slack_baton(database_url) as world:
        status, first = await world.baton.post_signed("/handoff/dialogflow", make_dialogflow_request())
        assert status == 202
        first_id = parse_public_id(first["conversation"])
        await world.slack.wait_for(_card_with(world, f"#{first['conversation']}"), timeout=20)
        await actions.wrap_up(services_of(world.baton.app), AGENT, first_id, "resolved", None)

        status, again = await world.baton.post_signed("/handoff/dialogflow", make_dialogflow_request())

        assert status == 202 and again["conversation"] != first["conversation"]
        card = await world.slack.wait_for(_card_with(world, f"#{again['conversation']}"), timeout=20)
        assert f"previous conversation #{first['conversation']}" in json.dumps(card.args["blocks"], ensure_ascii=False)


async def test_a_bot_framework_conversation_back_after_wrap_up_gets_a_new_teams_thread(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)
        status, first = await post_activity(baton, bf_handoff(connector.url, "dl-for-ever", id="dl-for-ever|0000005"))
        assert status == 200 and first["status"] == "queued"
        await connector.wait_for(lambda c: len(c.ok("create_conversation")) == 1)
        await actions.wrap_up(services_of(baton.app), AGENT, parse_public_id(first["conversation"]), "resolved", None)

        # Days later the same Direct Line conversation hands off again: a new activity id.
        status, again = await post_activity(baton, bf_handoff(connector.url, "dl-for-ever", id="dl-for-ever|0000042"))

        assert status == 200 and again["status"] == "queued" and again["conversation"] != first["conversation"]
        created = await connector.wait_for(lambda c: len(c.ok("create_conversation")) == 2 and c.ok("create_conversation"))
        assert f"Returning — previous conversation #{first['conversation']}" in json.dumps(created[-1].body, ensure_ascii=False)


async def test_the_same_handoff_initiate_activity_is_answered_once_even_after_wrap_up(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)
        activity = bf_handoff(connector.url, "dl-retry", id="dl-retry|0000007")
        _, first = await post_activity(baton, activity)
        await connector.wait_for(lambda c: len(c.ok("create_conversation")) == 1)
        await actions.wrap_up(services_of(baton.app), AGENT, parse_public_id(first["conversation"]), "resolved", None)

        status, again = await post_activity(baton, activity)  # the channel retried the very same activity

        assert (status, again) == (200, first)
        assert await Conversation.filter(external_id="dl-retry").count() == 1


async def test_an_idempotency_key_gets_the_first_answer_again_whatever_happened_in_between(database_url):
    async with slack_baton(database_url) as world:
        payload = make_generic_payload(conversation_id="va-keyed", prechat=[{"question": "q", "answer": "x" * 5000}])
        headers = {"Idempotency-Key": "order-812-handoff-1"}
        status, first = await world.baton.post_signed("/handoff", payload, headers=headers)
        assert status == 202 and first["warnings"]
        first_id = parse_public_id(first["conversation"])
        await world.slack.wait_for(_card_with(world, f"#{first['conversation']}"), timeout=20)
        await actions.wrap_up(services_of(world.baton.app), AGENT, first_id, "resolved", None)

        status, again = await world.baton.post_signed("/handoff", payload, headers=headers)

        assert (status, again) == (202, first)  # not a returning customer: the very same request
        assert await Conversation.filter(external_id="va-keyed").count() == 1
        # Without the key, the same body after wrap-up is the customer coming back.
        status, back = await world.baton.post_signed("/handoff", payload)
        assert status == 202 and back["conversation"] != first["conversation"]


async def test_the_same_key_from_another_source_is_another_request(database_url):
    async with slack_baton(database_url) as world:
        headers = {"Idempotency-Key": "k-1"}
        _, a = await world.baton.post_signed("/handoff", make_generic_payload(source="bot-a", conversation_id="x"), headers=headers)
        _, b = await world.baton.post_signed("/handoff", make_generic_payload(source="bot-b", conversation_id="x"), headers=headers)
        assert a["conversation"] != b["conversation"]


async def test_concurrent_requests_with_one_key_do_the_work_once_and_share_the_answer(database_url):
    async with slack_baton(database_url) as world:
        payload = make_generic_payload(conversation_id="va-keyed-race")
        answers = await asyncio.gather(*(world.baton.post_signed("/handoff", payload, headers={"Idempotency-Key": "race"})
                                         for _ in range(6)))
        assert {json.dumps(body, sort_keys=True) for _, body in answers} == {json.dumps(answers[0][1], sort_keys=True)}
        assert {status for status, _ in answers} == {202}
        assert await Conversation.filter(external_id="va-keyed-race").count() == 1
        assert await IdempotentAnswer.filter(key="race").count() == 1


async def test_an_idempotency_key_over_255_characters_is_refused_with_a_clear_error(database_url):
    async with slack_baton(database_url) as world:
        status, body = await world.baton.post_signed("/handoff", make_generic_payload(conversation_id="va-long-key"),
                                                     headers={"Idempotency-Key": "k" * 256})
        assert status == 400
        assert body["error"] == "invalid_idempotency_key" and "255" in body["detail"]
        assert not await Conversation.filter(external_id="va-long-key").exists()

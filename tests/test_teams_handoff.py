"""A handoff in Teams end to end over real HTTP: the channel thread, its card edits, and the
handoff.status events and relayed replies that go back to a Bot Framework / Copilot Studio origin."""

from __future__ import annotations

from storage.models import Conversation
from bot.domain import parse_public_id
from tests.handoff_factory import load_fixture, make_generic_payload
from tests.teams_activities import (
    BEN,
    CHANNEL,
    bf_customer_message,
    bf_handoff,
    card_action,
    channel_message,
    invoke,
    post_activity,
    teams_baton,
)
from tests.teams_activities import bf_thread, install_and_route, settle


async def test_a_handoff_opens_one_channel_thread_with_the_card_and_then_the_transcript(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)

        status, body = await baton.post_signed("/handoff", make_generic_payload())
        assert status == 202
        created = await connector.wait_for(lambda c: c.ok("create_conversation"))
        thread = created[0].response["id"]
        lines = await connector.wait_for(lambda c: len(c.ok("send", conversation_id=thread)) >= 2 and c.ok("send", conversation_id=thread))

        root = created[0].body
        assert root["isGroup"] is True
        assert root["channelData"]["channel"]["id"] == CHANNEL
        assert root["channelData"]["tenant"]["id"]
        card = root["activity"]["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["version"] == "1.5"
        assert f"#{body['conversation']}" in str(card["content"])
        assert "Order status" in str(card["content"])
        assert lines[0].text.startswith("**Dana Whitfield** (customer): my parcel arrived damaged")
        assert "(virtual agent)" in lines[1].text
        assert thread.startswith(CHANNEL + ";messageid=")
        assert len(connector.ok("create_conversation")) == 1


async def test_card_is_edited_in_place_on_claim_note_customer_message_and_wrap_up(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)
        conv, thread, root_id = await bf_thread(baton, connector)
        await connector.wait_for(lambda c: len(c.ok("send", conversation_id=thread)) >= 2)

        def updates(c):
            return [x for x in c.ok("update") if x.conversation_id == thread and x.activity_id == root_id]

        status, answer = await post_activity(baton, card_action(connector.url, "claim", {"action": "claim", "conversation": conv},
                                                                conversation=thread))
        assert status == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive"
        await connector.wait_for(lambda c: updates(c) and "Ana Agent" in str(updates(c)[-1].cards))
        after_claim = len(updates(connector))

        status, answer = await post_activity(baton, invoke(connector.url, "task/submit",
                                                           {"data": {"action": "submit_form", "form": "note",
                                                                     "conversation": conv, "text": "Offered a replacement"}},
                                                           conversation=thread))
        assert answer["task"]["type"] == "message"
        await connector.wait_for(lambda c: len(updates(c)) > after_claim)
        after_note = len(updates(connector))

        await post_activity(baton, bf_customer_message(connector.url, "is anyone there?"))
        await connector.wait_for(lambda c: [x for x in c.ok("send", conversation_id=thread) if "is anyone there?" in x.text])
        await connector.wait_for(lambda c: len(updates(c)) > after_note)
        after_message = len(updates(connector))

        status, answer = await post_activity(baton, card_action(connector.url, "submit_form",
                                                                {"action": "submit_form", "form": "wrapup", "conversation": conv,
                                                                 "code": "resolved", "notes": "replacement shipped"},
                                                                conversation=thread))
        assert answer["type"] == "application/vnd.microsoft.card.adaptive"
        await connector.wait_for(lambda c: len(updates(c)) > after_message and "Wrapped" in str(updates(c)[-1].cards))


async def test_claim_and_wrap_up_send_handoff_status_and_the_claimers_replies_go_to_the_origin(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)
        conv, thread, _ = await bf_thread(baton, connector, "dl-conv-status")

        def origin_calls(c):
            return c.ok("send", conversation_id="dl-conv-status")

        await post_activity(baton, card_action(connector.url, "claim", {"action": "claim", "conversation": conv},
                                               conversation=thread))
        accepted = await connector.wait_for(lambda c: [x for x in origin_calls(c) if x.body.get("name") == "handoff.status"])
        shape = load_fixture("botframework_handoff_status.json")
        assert {k: accepted[0].body[k] for k in ("type", "name")} == {"type": shape["type"], "name": shape["name"]}
        assert accepted[0].body["conversation"] == {"id": "dl-conv-status"}
        assert set(accepted[0].body["value"]) == set(shape["value"])
        assert accepted[0].body["value"]["state"] == "accepted"

        await post_activity(baton, channel_message(connector.url, "Hi Dana, I'm sorting out a replacement.", thread=thread,
                                                   mention=False))
        relayed = await connector.wait_for(lambda c: [x for x in origin_calls(c) if x.body.get("type") == "message"])
        assert relayed[0].body["from"]["name"] == "Ana Agent"
        assert relayed[0].body["text"] == "Hi Dana, I'm sorting out a replacement."

        await post_activity(baton, channel_message(connector.url, "!note customer is polite", thread=thread, mention=False))
        await post_activity(baton, channel_message(connector.url, "Ben here, just watching", thread=thread, mention=False,
                                                   user=BEN))
        await post_activity(baton, channel_message(connector.url, "wrapup resolved all good", thread=thread))
        done = await connector.wait_for(lambda c: [x for x in origin_calls(c) if (x.body.get("value") or {}).get("state") == "completed"])
        assert done[0].body["name"] == "handoff.status"
        assert [x.body.get("text") for x in origin_calls(connector) if x.body.get("type") == "message"] == [
            "Hi Dana, I'm sorting out a replacement."]


async def test_a_bot_framework_handoff_nobody_can_route_fails_back_to_the_virtual_agent(database_url):
    async with teams_baton(database_url) as (baton, connector):
        status, body = await post_activity(baton, bf_handoff(connector.url, "dl-conv-lost"))
        assert status == 200 and body["status"] == "queued"
        failed = await connector.wait_for(lambda c: [x for x in c.ok("send", conversation_id="dl-conv-lost")
                                                     if (x.body.get("value") or {}).get("state") == "failed"])
        assert failed[0].body["name"] == "handoff.status"
        conversation = await Conversation.get(id=parse_public_id(body["conversation"]))
        assert conversation.status == "failed"


async def test_an_internal_conversation_gets_a_plain_header_instead_of_a_card(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)
        await baton.post_signed("/handoff", make_generic_payload(kind="internal", conversation_id="int-1"))
        created = await connector.wait_for(lambda c: c.ok("create_conversation"))
        activity = created[0].body["activity"]
        assert "attachments" not in activity
        assert activity["text"].startswith("Internal conversation #c")


async def test_a_throttling_storm_delays_but_never_loses_or_duplicates_a_post(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)
        connector.fail_next(1, status=429, retry_after=0)
        connector.fail_next(1, status=412, retry_after=0)
        await baton.post_signed("/handoff", make_generic_payload(conversation_id="storm"))
        created = await connector.wait_for(lambda c: c.ok("create_conversation"), timeout=30)
        thread = created[0].response["id"]
        connector.fail_next(1, status=502, retry_after=0)
        lines = await connector.wait_for(lambda c: len(c.ok("send", conversation_id=thread)) >= 2
                                         and c.ok("send", conversation_id=thread), timeout=30)

        assert len(connector.ok("create_conversation")) == 1
        assert [x.text.split(":")[0] for x in lines] == ["**Dana Whitfield** (customer)", "**Acme Assistant** (virtual agent)"]
        assert sorted(c.status for c in connector.calls if not c.ok) == [412, 429, 502]


async def test_every_throttling_answer_becomes_retry_later_with_the_connectors_retry_after():
    from bot.delivery.poster import RetryLater
    from bot.teams.connector import BotConnector
    from tests.fakes.bot_connector import FakeBotConnector

    async with FakeBotConnector() as connector:
        client = BotConnector()
        try:
            for status in (429, 412, 502, 504):
                connector.fail_next(1, status=status, retry_after=7)
                try:
                    await client.send(connector.url, "19:x@thread.tacv2;messageid=1", {"type": "message", "text": "hi"})
                except RetryLater as wait:
                    assert wait.seconds == 7
                else:
                    raise AssertionError(f"{status} was not turned into RetryLater")
            sent = await client.send(connector.url, "19:x@thread.tacv2;messageid=1", {"type": "message", "text": "hi"})
        finally:
            await client.close()
        assert sent["id"]
        assert connector.calls[-1].authorization is None  # no credentials: no token, like botbuilder


async def test_customer_text_cannot_inject_links_or_mentions_into_the_thread(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)
        hostile = "[click me](https://evil.example/x) <at>General</at> **bold**"
        await baton.post_signed("/handoff", make_generic_payload(
            conversation_id="hostile", customer={"name": "<at>Everyone</at>"},
            transcript=[{"from": "customer", "text": hostile}]))
        created = await connector.wait_for(lambda c: c.ok("create_conversation"))
        line = (await connector.wait_for(lambda c: c.ok("send", conversation_id=created[0].response["id"])))[0].text

        assert "](" not in line
        assert "<at>" not in line
        assert "click me" in line and "evil.example" in line


async def test_a_handoff_waiting_for_a_route_is_posted_once_a_channel_says_route_here(database_url):
    async with teams_baton(database_url) as (baton, connector):
        status, _ = await baton.post_signed("/handoff", make_generic_payload(conversation_id="early"))
        assert status == 202
        await install_and_route(baton, connector)
        created = await connector.wait_for(lambda c: c.ok("create_conversation"))
        assert created[0].body["channelData"]["channel"]["id"] == CHANNEL


async def test_the_default_channel_setting_routes_without_route_here(database_url):
    from tests.teams_activities import bot_added_to_team

    async with teams_baton(database_url, teams_channel="19:default0channel@thread.tacv2") as (baton, connector):
        await post_activity(baton, bot_added_to_team(connector.url))
        await settle(baton)
        await baton.post_signed("/handoff", make_generic_payload(conversation_id="by-default"))
        created = await connector.wait_for(lambda c: c.ok("create_conversation"))
        assert created[0].body["channelData"]["channel"]["id"] == "19:default0channel@thread.tacv2"


async def test_sends_into_one_thread_are_paced_under_seven_per_second():
    import time

    from bot.teams.connector import BotConnector
    from tests.fakes.bot_connector import FakeBotConnector

    async with FakeBotConnector() as connector:
        client = BotConnector()
        started = time.monotonic()
        try:
            for i in range(8):
                await client.send(connector.url, "19:x@thread.tacv2;messageid=1", {"type": "message", "text": str(i)})
        finally:
            await client.close()
        assert time.monotonic() - started >= 0.9
        assert len(connector.ok("send")) == 8


async def test_a_replayed_handoff_initiate_answers_the_same_conversation_and_opens_no_second_thread(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)
        first = await post_activity(baton, bf_handoff(connector.url, "dl-conv-twice"))
        again = await post_activity(baton, bf_handoff(connector.url, "dl-conv-twice"))  # the very same activity
        later = await post_activity(baton, bf_handoff(connector.url, "dl-conv-twice", id="dl-conv-twice|0000009"))
        await connector.wait_for(lambda c: c.ok("create_conversation"))
        await baton.worker.drain()

        assert first[0] == again[0] == later[0] == 200
        assert again[1] == first[1]  # a repeat gets the first answer again (SPEC 3.1)
        assert later[1] == {"conversation": first[1]["conversation"], "status": "existing"}
        assert len(connector.ok("create_conversation")) == 1

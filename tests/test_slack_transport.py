"""/slack/events as Slack calls it: signatures, url_verification, retries, 429 storms, thread replies, shortcuts."""

from __future__ import annotations

import asyncio
import json
import time

from bot.signing import sign
from storage.models import CaseComment, Conversation, Message, Note
from tests.harness import WEBHOOK_SECRET
from tests.slack_signing import (
    HANDOFF_CHANNEL,
    SIGNING_SECRET,
    block_action,
    load,
    mention,
    message_shortcut,
    slack_baton,
    slack_signature,
    thread_message,
    view_submission,
)


def test_signing_matches_the_slack_sdk_vector():
    vector = load("slack_signature_vector.json")
    body = load(vector["body_file"]).encode()

    assert slack_signature(vector["signing_secret"], vector["x_slack_request_timestamp"], body) == vector["x_slack_signature"]


async def test_an_unsigned_request_is_refused_with_a_json_error(database_url):
    async with slack_baton(database_url) as world:
        body = json.dumps({"type": "url_verification", "challenge": "abc"}).encode()

        status, answer = await world.baton.post_raw("/slack/events", body, {"Content-Type": "application/json"})

        assert status == 401
        assert answer["error"] == "bad_signature"


async def test_a_request_signed_with_another_secret_is_refused_and_does_nothing(database_url):
    async with slack_baton(database_url) as world:
        status, answer = await world.post(b"token=x&command=%2Fbaton&text=help&user_id=W111&team_id=T111",
                                          "application/x-www-form-urlencoded", secret="not-the-secret")

        assert status == 401 and answer["error"] == "bad_signature"
        assert world.slack.calls == [] and world.slack.responses == []


async def test_a_stale_request_outside_five_minutes_is_refused(database_url):
    async with slack_baton(database_url) as world:
        body = json.dumps({"type": "url_verification", "challenge": "abc"}).encode()

        status, _ = await world.post(body, "application/json", timestamp=int(time.time()) - 301)

        assert status == 401


async def test_a_body_changed_after_signing_is_refused(database_url):
    async with slack_baton(database_url) as world:
        signed = json.dumps({"type": "url_verification", "challenge": "abc"}).encode()
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": slack_signature(SIGNING_SECRET, ts, signed)}

        status, _ = await world.baton.post_raw("/slack/events", signed.replace(b"abc", b"abd"), headers)

        assert status == 401


async def test_url_verification_echoes_the_challenge(database_url):
    async with slack_baton(database_url) as world:
        status, answer = await world.post(json.dumps({"token": "t", "type": "url_verification", "challenge": "c-123"}).encode(),
                                          "application/json")

        assert status == 200 and answer == {"challenge": "c-123"}


async def claimed_thread(world, user: str = "W111") -> tuple[int, str]:
    conversation_id, card_ts = await world.handoff(conversation_id=f"va-{time.time_ns()}")
    await world.interaction(block_action("baton_claim", json.dumps({"conversation": f"c{conversation_id}"}), user=user,
                                         channel=HANDOFF_CHANNEL, message_ts=card_ts))
    await world.ephemeral_containing(user, "You claimed")
    return conversation_id, card_ts


async def test_the_claiming_agents_thread_reply_is_relayed_to_the_customer_signed(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await claimed_thread(world)

        status, _ = await world.event(thread_message("We are sending a new one &amp; a label", user="W111",
                                                     channel=HANDOFF_CHANNEL, thread_ts=card_ts, ts=world.next_ts()))

        assert status == 200
        headers, body, raw = (await world.slack.wait_for(lambda s: s.relayed))[0]
        assert "We are sending a new one & a label" in json.dumps(body)
        assert "Ana Agent" in json.dumps(body)
        assert headers["X-Baton-Signature"] == sign(WEBHOOK_SECRET, headers["X-Baton-Timestamp"], raw)
        message = await Message.get(conversation_id=conversation_id, sender="agent")
        assert message.internal is False and message.posted_from == "slack"


async def test_a_note_prefixed_reply_stays_internal_as_a_note(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await claimed_thread(world)

        status, _ = await world.event(thread_message("!note customer sounds upset", user="W111", channel=HANDOFF_CHANNEL,
                                                     thread_ts=card_ts, ts=world.next_ts()))

        # Stored before Slack got its 200 (no waiting needed), and never relayed.
        assert status == 200
        assert await Note.filter(conversation_id=conversation_id, text="customer sounds upset").exists()
        await world.baton.worker.drain()
        assert world.slack.relayed == []
        assert not await Message.filter(conversation_id=conversation_id, sender="agent").exists()


async def test_someone_elses_thread_reply_stays_internal(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await claimed_thread(world)

        await world.event(thread_message("I think this is a repeat customer", user="W222", channel=HANDOFF_CHANNEL,
                                         thread_ts=card_ts, ts=world.next_ts()))

        message = await Message.get(conversation_id=conversation_id, sender="agent")  # stored before the ack
        assert message.internal is True and message.sender_name == "Ben Backup"
        assert world.slack.relayed == []


async def test_edits_bot_messages_and_at_baton_commands_are_not_replies(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await claimed_thread(world)
        edited = thread_message("edited", user="W111", channel=HANDOFF_CHANNEL, thread_ts=card_ts, ts=world.next_ts(),
                                subtype="message_changed")
        from_bot = thread_message("bot says", user="W111", channel=HANDOFF_CHANNEL, thread_ts=card_ts, ts=world.next_ts(),
                                  bot_id="B999", subtype="bot_message")
        command = thread_message("<@UBATON> note from the thread", user="W111", channel=HANDOFF_CHANNEL,
                                 thread_ts=card_ts, ts=world.next_ts())

        for event in (edited, from_bot, command):
            await world.event(event)
        await world.event(mention("note from the thread", user="W111", channel=HANDOFF_CHANNEL, ts=command["ts"],
                                  thread_ts=card_ts))

        await world.ephemeral_containing("W111", "Note added")
        assert not await Message.filter(conversation_id=conversation_id, sender="agent").exists()
        assert world.slack.relayed == []


async def test_a_retried_event_with_the_same_event_id_is_processed_once(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await claimed_thread(world)
        event = thread_message("once only", user="W222", channel=HANDOFF_CHANNEL, thread_ts=card_ts, ts=world.next_ts())

        first, _ = await world.event(event, event_id="EvRETRY1")
        retry, _ = await world.event(event, event_id="EvRETRY1", retry_num=1)

        assert first == retry == 200
        await world.baton.worker.drain()
        assert await Message.filter(conversation_id=conversation_id, text="once only").count() == 1


async def test_a_thread_reply_is_stored_before_slack_gets_its_answer(database_url):
    """Slack events exactly once: a crash after the 200 can lose nothing, because the reply (and the note)
    are in the database when the 200 leaves; until then Slack keeps the event and retries it."""
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await claimed_thread(world)

        status, _ = await world.event(thread_message("on its way", user="W111", channel=HANDOFF_CHANNEL,
                                                     thread_ts=card_ts, ts=world.next_ts()))

        assert status == 200
        message = await Message.get(conversation_id=conversation_id, text="on its way")  # no waiting: already stored
        assert message.internal is False and message.sender_name == "Ana Agent"
        await world.slack.wait_for(lambda s: s.relayed)


async def test_the_same_event_delivered_twice_at_once_is_stored_once(database_url):
    """Slack's retry can reach another Baton process while the first is still storing."""
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await claimed_thread(world)
        event = thread_message("only one of me", user="W111", channel=HANDOFF_CHANNEL, thread_ts=card_ts, ts=world.next_ts())
        note = thread_message("!note only one note", user="W111", channel=HANDOFF_CHANNEL, thread_ts=card_ts,
                              ts=world.next_ts())

        answers = await asyncio.gather(*(world.event(event, event_id="EvTWIN", retry_num=n or None) for n in range(4)),
                                       *(world.event(note, event_id="EvTWIN2", retry_num=n or None) for n in range(4)))

        assert {status for status, _ in answers} == {200}
        assert await Message.filter(conversation_id=conversation_id, text="only one of me").count() == 1
        assert await Note.filter(conversation_id=conversation_id, text="only one note").count() == 1
        await world.slack.wait_for(lambda s: s.relayed)
        await world.baton.worker.drain()
        assert len(world.slack.relayed) == 1


async def test_a_429_storm_delays_but_never_loses_or_duplicates_a_post(database_url):
    async with slack_baton(database_url) as world:
        world.slack.fail_next(3, status=429, retry_after=1, method="chat.postMessage")

        conversation_id, card_ts = await world.handoff(conversation_id="va-storm")
        replies = await world.slack.wait_for(lambda s: s.of("chat.postMessage", thread_ts=card_ts), timeout=30)

        limited = [c for c in world.slack.calls if c.status == 429]
        assert len(limited) == 3
        roots = [c for c in world.slack.of("chat.postMessage") if "thread_ts" not in c.args]
        assert len(roots) == 1
        assert len(replies) == 1  # the transcript, once
        assert [b["elements"][0]["text"] for b in replies[0].args["blocks"] if b["type"] == "context"] == [
            "Dana Whitfield", "Acme Assistant"]


async def test_a_slack_server_error_is_retried_by_the_outbox(database_url):
    async with slack_baton(database_url) as world:
        world.slack.fail_next(1, status=500, method="chat.postMessage")

        conversation_id, card_ts = await world.handoff(conversation_id="va-500")

        await world.slack.wait_for(lambda s: len(s.of("chat.postMessage", thread_ts=card_ts)) >= 1, timeout=30)
        assert len([c for c in world.slack.of("chat.postMessage") if "thread_ts" not in c.args]) == 1


async def test_the_add_note_shortcut_on_a_thread_message_opens_a_prefilled_note(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-shortcut")
        message = {"ts": world.next_ts(), "thread_ts": card_ts, "text": "customer mentioned a second parcel", "user": "W111"}

        status, _ = await world.interaction(message_shortcut("baton_add_note", user="W111", channel=HANDOFF_CHANNEL, message=message))

        assert status == 200
        view = await world.opened_view("baton_note_modal")
        assert "customer mentioned a second parcel" in json.dumps(view)
        await world.interaction(view_submission(view, {"text": "customer mentioned a second parcel"}, user="W111"))
        await world.ephemeral_containing("W111", "Note added")
        assert await Note.filter(conversation_id=conversation_id).exists()


async def test_the_comment_on_case_shortcut_defaults_to_the_conversations_case(database_url):
    async with slack_baton(database_url) as world:
        from datetime import datetime, timezone

        from storage import cases

        case = await cases.open_case(title="Damaged", customer_id=None, owner="Ana", now=datetime.now(timezone.utc))
        conversation_id, card_ts = await world.handoff(conversation_id="va-comment", case={"number": case.number})
        message = {"ts": card_ts, "text": "carrier confirmed the damage", "user": "W111"}

        await world.interaction(message_shortcut("baton_comment_on_case", user="W111", channel=HANDOFF_CHANNEL, message=message))

        view = await world.opened_view("baton_comment_modal")
        assert case.number in json.dumps(view)
        await world.interaction(view_submission(view, {"case": case.number, "text": "carrier confirmed the damage"}, user="W111"))
        await world.ephemeral_containing("W111", "Internal comment added")
        assert await CaseComment.filter(case_id=case.id).count() == 1


async def test_a_shortcut_outside_a_handoff_thread_says_where_it_works(database_url):
    async with slack_baton(database_url) as world:
        message = {"ts": world.next_ts(), "text": "random chatter", "user": "W111"}

        await world.interaction(message_shortcut("baton_add_note", user="W111", channel="C0ELSEWHERE", message=message))

        await world.ephemeral_containing("W111", "handoff thread")
        assert not world.slack.of("views.open")
        assert await Conversation.all().count() == 0


async def test_a_429_becomes_retry_later_with_slacks_retry_after(database):
    import pytest

    from bot.delivery.poster import RetryLater
    from bot.domain import ConversationFacts
    from bot.slack.poster import SlackPoster
    from tests.fakes.slack_api import BOT_TOKEN, FakeSlack

    async with FakeSlack() as slack:
        poster = SlackPoster(api_url=slack.api_url, bot_token=BOT_TOKEN, default_channel="C0HANDOFF")
        slack.fail_next(1, status=429, retry_after=7)
        facts = ConversationFacts(public_id="c1", source="va", channel="webchat", kind="internal", status="queued")
        try:
            with pytest.raises(RetryLater) as waited:
                await poster.open_thread(facts, None)
        finally:
            await poster.close()

    assert waited.value.seconds == 7


def test_an_agents_slack_markup_reaches_the_customer_as_readable_text():
    from bot.slack.handlers import slack_to_plain

    text = "Hi &lt;Dana&gt; &amp; team, see <https://help.example.com/r|the returns page> or <https://x.example>, ask <@U12|ana> in <#C1|billing> <!here>"

    assert slack_to_plain(text) == ("Hi <Dana> & team, see the returns page (https://help.example.com/r) or https://x.example, "
                                    "ask @ana in #billing @here")


async def test_reply_url_hears_the_claim_the_reply_and_the_wrap_up_in_order_signed(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await claimed_thread(world)
        await world.event(thread_message("A replacement is on its way", user="W111", channel=HANDOFF_CHANNEL,
                                         thread_ts=card_ts, ts=world.next_ts()))
        # No wait: the reply was stored before Slack's 200, so the wrap-up comes after it.
        await world.command(f"wrapup #c{conversation_id} resolved sent a new one")

        await world.slack.wait_for(lambda s: len(s.statuses) >= 2)
        assert world.slack.reply_url_order == ["status:accepted", "message", "status:completed"]
        accepted, completed = (body for _, body, _ in world.slack.statuses)
        assert accepted["type"] == "status" and accepted["agent"] == {"name": "Ana Agent"}
        assert completed["disposition"] == "resolved"
        assert accepted["conversation_id"] == completed["conversation_id"] == world.slack.relayed[0][1]["conversation_id"]
        for headers, _, raw in world.slack.statuses:
            assert headers["X-Baton-Signature"] == sign(WEBHOOK_SECRET, headers["X-Baton-Timestamp"], raw)


async def test_statuses_wait_out_a_failing_reply_url_and_arrive_once_in_order(database_url):
    async with slack_baton(database_url) as world:
        world.slack.fail_next(2, status=500, method="reply_url")
        conversation_id, card_ts = await claimed_thread(world)
        await world.event(thread_message("On it", user="W111", channel=HANDOFF_CHANNEL, thread_ts=card_ts,
                                         ts=world.next_ts()))

        await world.slack.wait_for(lambda s: s.relayed, timeout=30)
        assert world.slack.reply_url_failures == 2
        assert world.slack.reply_url_order == ["status:accepted", "message"]

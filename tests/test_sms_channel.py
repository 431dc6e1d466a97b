"""SMS end to end (SPEC 3.6): Twilio's signed webhook into the real app, the card and thread in a fake Slack,
the claiming agent's reply out through a fake Twilio Messages API — on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from storage.models import ChannelOptOut, Conversation, Message
from tests.channel_worlds import BATON_NUMBER, CUSTOMER, PUBLIC_URL, only_conversation, sms_world
from tests.twilio_webhooks import inbound_params, signed_post

SOURCE = "baton:sms"


async def _opened(sms, body: str) -> tuple[int, str]:
    status, answer = await sms.text(body)
    assert status == 200, answer
    conversation_id = await only_conversation(SOURCE)
    card = await sms.card_of(conversation_id)
    return conversation_id, card.response["ts"]


async def test_a_text_opens_a_card_and_the_claiming_agents_reply_goes_back_by_sms_from_the_number_written_to(database_url):
    async with sms_world(database_url) as sms:
        status, answer = await sms.text("my parcel arrived damaged")
        assert status == 200
        assert answer.replace(" ", "").endswith("<Response/>")

        conversation_id = await only_conversation(SOURCE)
        card = await sms.card_of(conversation_id)
        card_ts = card.response["ts"]
        await sms.thread_with(card_ts, "my parcel arrived damaged")
        conversation = await Conversation.get(id=conversation_id)
        assert conversation.channel == "sms"

        await sms.claim(conversation_id, card_ts)
        await sms.agent_says(card_ts, "Sorry about that, a new one is on its way")

        sent = await sms.twilio.wait_for(lambda t: t.sent)
        assert sent[0].one("To") == CUSTOMER and sent[0].one("From") == BATON_NUMBER
        assert sent[0].one("Body") == "Sorry about that, a new one is on its way"
        assert sent[0].auth is not None  # Basic AccountSid:AuthToken, checked by the fake


async def test_later_texts_join_the_open_conversation_and_after_wrap_up_a_text_opens_a_new_one(database_url):
    async with sms_world(database_url) as sms:
        conversation_id, card_ts = await _opened(sms, "hello?")
        status, _ = await sms.text("anyone there")
        assert status == 200
        await sms.thread_with(card_ts, "anyone there")
        assert await Conversation.filter(source=SOURCE).count() == 1

        await sms.world.command(f"wrapup #c{conversation_id} resolved")
        await sms.world.card_updates(card_ts, 1)
        await sms.slack.wait_for(lambda s: any("Wrapped up" in json.dumps(c.args) for c in s.of("chat.update", ts=card_ts)))

        await sms.text("it broke again")
        rows = await Conversation.filter(source=SOURCE).order_by("id")
        assert len(rows) == 2 and rows[1].external_id == rows[0].external_id
        card = await sms.card_of(rows[1].id)
        assert f"previous conversation #c{conversation_id}" in json.dumps(card.args["blocks"])


async def test_another_baton_number_is_another_conversation(database_url):
    async with sms_world(database_url) as sms:
        await sms.text("to the first number")
        await sms.text("to the second number", to="+14155550000")
        assert await Conversation.filter(source=SOURCE).count() == 2


async def test_a_bad_signature_gets_401_json_and_nothing_is_stored(database_url):
    async with sms_world(database_url) as sms:
        params = inbound_params("hello")
        raw, headers = signed_post("/inbound/sms", params, token="not-the-token")
        status, body = await sms.baton.post_raw("/inbound/sms", raw, headers)
        assert status == 401 and body["error"] == "bad_signature"

        # Signed for the URL Baton sees behind the proxy, not the public one Twilio calls: refused too.
        raw, headers = signed_post("/inbound/sms", params, public_url=sms.baton.base_url)
        status, body = await sms.baton.post_raw("/inbound/sms", raw, headers)
        assert status == 401

        # A parameter changed after signing.
        raw, headers = signed_post("/inbound/sms", params)
        status, _ = await sms.baton.post_raw("/inbound/sms", raw.replace(b"hello", b"hellp"), headers)
        assert status == 401
        assert await Conversation.all().count() == 0 and await Message.all().count() == 0


async def test_the_signature_is_checked_against_the_public_url_with_its_path_prefix_and_query(database_url):
    async with sms_world(database_url, public_url=PUBLIC_URL + "/baton") as sms:
        params = inbound_params("via the proxy")
        raw, headers = signed_post("/inbound/sms?queue=billing", params, public_url=PUBLIC_URL + "/baton")
        status, _ = await sms.baton.post_raw("/inbound/sms?queue=billing", raw, headers)
        assert status == 200
        conversation = await Conversation.get(source=SOURCE)
        assert conversation.queue == "billing"


async def test_a_form_without_a_from_number_is_422_naming_the_field(database_url):
    async with sms_world(database_url) as sms:
        params = [(k, v) for k, v in inbound_params("x") if k != "From"]
        raw, headers = signed_post("/inbound/sms", params)
        status, body = await sms.baton.post_raw("/inbound/sms", raw, headers)
        assert status == 422 and body["field"] == "From"


async def test_stop_is_honoured_the_card_says_opted_out_and_start_lets_replies_go_again(database_url):
    async with sms_world(database_url) as sms:
        conversation_id, card_ts = await _opened(sms, "where is my refund")
        await sms.claim(conversation_id, card_ts)

        await sms.text("Stop.")
        await sms.thread_with(card_ts, "Stop.")  # agents see the keyword
        await sms.slack.wait_for(lambda s: any("Opted out (STOP)" in json.dumps(c.args) for c in s.of("chat.update", ts=card_ts)))
        await sms.agent_says(card_ts, "Your refund was sent today")

        note = await sms.thread_with(card_ts, "Not sent to the customer: the customer opted out (STOP).")
        assert note.args["thread_ts"] == card_ts
        assert sms.twilio.calls == []  # Twilio was never asked to text an opted-out number

        await sms.text("START")
        await sms.agent_says(card_ts, "Your refund was sent today, again")
        sent = await sms.twilio.wait_for(lambda t: t.sent)
        assert [c.one("Body") for c in sent] == ["Your refund was sent today, again"]
        assert not await ChannelOptOut.exists()


async def test_a_lone_stop_opens_no_conversation(database_url):
    async with sms_world(database_url) as sms:
        status, _ = await sms.text("STOP")
        assert status == 200
        assert await Conversation.all().count() == 0
        assert await ChannelOptOut.filter(source=SOURCE).count() == 1


async def test_twilio_21610_gives_up_once_and_the_thread_says_why_and_the_next_reply_still_goes(database_url):
    async with sms_world(database_url) as sms:
        conversation_id, card_ts = await _opened(sms, "hi")
        await sms.claim(conversation_id, card_ts)
        sms.twilio.fail_next(code=21610)

        await sms.agent_says(card_ts, "first answer")
        await sms.thread_with(card_ts, "Not sent to the customer: the customer opted out (STOP).")
        await sms.agent_says(card_ts, "second answer")

        sent = await sms.twilio.wait_for(lambda t: t.sent)
        assert [c.one("Body") for c in sent] == ["second answer"]
        assert len(sms.twilio.calls) == 2  # the refused one was not retried
        notes = await Message.filter(conversation_id=conversation_id, sender="system", text__contains="Not sent").count()
        assert notes == 1


async def test_an_invalid_number_21211_is_given_up_with_the_reason_in_the_thread(database_url):
    async with sms_world(database_url) as sms:
        conversation_id, card_ts = await _opened(sms, "hi")
        await sms.claim(conversation_id, card_ts)
        sms.twilio.fail_next(code=21211)
        await sms.agent_says(card_ts, "hello there")
        note = await sms.thread_with(card_ts, "Not sent to the customer: not a valid mobile number.")
        assert CUSTOMER not in json.dumps(note.args)


async def test_throttling_and_server_errors_are_retried_and_a_long_reply_goes_in_parts_each_once(database_url):
    async with sms_world(database_url) as sms:
        conversation_id, card_ts = await _opened(sms, "tell me everything")
        await sms.claim(conversation_id, card_ts)
        long_reply = " ".join(f"word{i}" for i in range(500))  # about 3,400 characters: three parts
        sms.twilio.fail_next(code=20429, retry_after=0)
        await sms.agent_says(card_ts, long_reply)
        await sms.twilio.wait_for(lambda t: len(t.sent) >= 1)
        sms.twilio.fail_next(code=20500, status=500)  # the second part fails once

        sent = await sms.twilio.wait_for(lambda t: len(t.sent) >= 3 and t.sent, timeout=30)
        bodies = [c.one("Body") for c in sent]
        assert [b[:6] for b in bodies] == ["(1/3) ", "(2/3) ", "(3/3) "]
        assert len(bodies) == 3
        assert all(len(b) <= 1600 for b in bodies)
        assert "word0" in bodies[0] and "word499" in bodies[2]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_mms_media_become_real_files_in_the_thread_fetched_with_twilios_credentials(database_url):
    async with sms_world(database_url) as sms:
        url = sms.twilio.add_media(PNG, "image/png", redirect=True)
        status, _ = await sms.text("the box", NumMedia="1", MediaUrl0=url, MediaContentType0="image/png")
        assert status == 200
        conversation_id = await only_conversation(SOURCE)
        card_ts = (await sms.card_of(conversation_id)).response["ts"]

        [shared] = await sms.slack.wait_for(lambda s: s.shared_files, timeout=20)
        assert shared["content"] == PNG and shared["thread_ts"] == card_ts and shared["name"].endswith(".png")
        await sms.thread_with(card_ts, "the box")
        assert sms.twilio.media_requests[0][1] is not None  # Basic auth to Twilio's API origin
        assert sms.twilio.cdn_requests[0][1] is None  # and never to the media store it redirects to

        # A later MMS joins the same thread with its file.
        url = sms.twilio.add_media(PNG + b"2", "image/jpeg")
        await sms.text("", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
        await sms.slack.wait_for(lambda s: len(s.shared_files) >= 2, timeout=20)
        assert await Conversation.filter(source=SOURCE).count() == 1


async def test_a_media_file_twilio_will_not_serve_is_named_in_the_thread_instead(database_url):
    async with sms_world(database_url) as sms:
        missing = sms.twilio.add_media(PNG, "image/png").rsplit("/", 1)[0] + "/ME" + "0" * 32
        await sms.text("see photo", NumMedia="1", MediaUrl0=missing, MediaContentType0="image/png")
        card_ts = (await sms.card_of(await only_conversation(SOURCE))).response["ts"]
        await sms.thread_with(card_ts, "a file could not be fetched")

"""Replies through Twilio's Messages API, against the fake Twilio over real HTTP: the wire format, the
sender chosen, and every failure mapped to RetryLater or GiveUp."""

from __future__ import annotations

import base64

import aiohttp
import pytest

from bot.delivery.poster import GiveUp, RetryLater
from bot.settings import load_settings
from bot.sms.sender import TwilioSender, retry_after_seconds
from bot.sms.split import split_reply
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

CUSTOMER = "+14155550123"
BATON_NUMBER = "+14155559876"
DEFAULT_NUMBER = "+14155550000"
SERVICE = "MG" + "c" * 32


@pytest.fixture
async def twilio():
    async with FakeTwilio() as fake:
        yield fake


def _sender(fake: FakeTwilio, **overrides) -> TwilioSender:
    options = dict(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, api_url=fake.url, default_from=DEFAULT_NUMBER,
                   messaging_service_sid=SERVICE)
    options.update(overrides)
    return TwilioSender(**options)


@pytest.fixture
async def sender(twilio):
    sender = _sender(twilio)
    yield sender
    await sender.close()


async def test_a_reply_is_a_form_post_with_basic_auth_from_the_number_the_customer_wrote_to(twilio, sender):
    sent = await sender.send(CUSTOMER, "Your refund is on its way.", from_number=BATON_NUMBER,
                             status_callback="https://baton.example.com/inbound/sms/status")
    call = twilio.calls[0]

    assert call.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert call.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert call.form == {"To": [CUSTOMER], "From": [BATON_NUMBER], "Body": ["Your refund is on its way."],
                         "StatusCallback": ["https://baton.example.com/inbound/sms/status"]}
    assert sent.sid == call.response["sid"] and sent.sid.startswith("SM")
    assert sent.status == "queued"
    assert sent.num_segments == 1


async def test_without_the_customers_number_the_reply_comes_from_twilio_from(twilio, sender):
    await sender.send(CUSTOMER, "hi")
    assert twilio.sent[0].form["From"] == [DEFAULT_NUMBER]
    assert "MessagingServiceSid" not in twilio.sent[0].form


async def test_without_any_number_the_messaging_service_sends(twilio):
    sender = _sender(twilio, default_from=None)
    try:
        sent = await sender.send(CUSTOMER, "hi")
    finally:
        await sender.close()
    assert twilio.sent[0].form["MessagingServiceSid"] == [SERVICE]
    assert "From" not in twilio.sent[0].form
    assert sent.status == "accepted"


async def test_with_no_sender_configured_at_all_the_reply_is_given_up_and_nothing_is_sent(twilio):
    sender = _sender(twilio, default_from=None, messaging_service_sid=None)
    try:
        with pytest.raises(GiveUp) as given_up:
            await sender.send(CUSTOMER, "hi")
    finally:
        await sender.close()
    assert "TWILIO_FROM" in given_up.value.reason
    assert twilio.calls == []


async def test_media_go_as_repeated_media_url_fields(twilio, sender):
    urls = ["https://baton.example.com/files/a", "https://baton.example.com/files/b"]
    await sender.send(CUSTOMER, "Here is your label", from_number=BATON_NUMBER, media_urls=urls)
    assert twilio.sent[0].form["MediaUrl"] == urls
    assert twilio.sent[0].response["num_media"] == "2"


async def test_unicode_and_emoji_arrive_unchanged_and_count_as_ucs2_segments(twilio, sender):
    text = "Merci 🙏🏽 — votre colis arrive demain 📦 ¿vale? 你好"
    sent = await sender.send(CUSTOMER, text)
    assert twilio.sent[0].form["Body"] == [text]
    assert sent.num_segments == 1
    long = await sender.send(CUSTOMER, "😀" * 100)
    assert long.num_segments == 3  # 200 UTF-16 units, 67 per part


async def test_the_settings_build_a_sender_and_none_without_credentials(twilio):
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_URL": twilio.url,
           "TWILIO_FROM": DEFAULT_NUMBER, "TWILIO_MESSAGING_SERVICE_SID": SERVICE}
    sender = TwilioSender.from_settings(load_settings(env))
    try:
        await sender.send(CUSTOMER, "hi")
    finally:
        await sender.close()
    assert twilio.sent[0].form["From"] == [DEFAULT_NUMBER]
    assert TwilioSender.from_settings(load_settings({})) is None


# --- long replies ----------------------------------------------------------------------------------


async def test_a_10000_character_reply_goes_in_numbered_parts_twilio_accepts(twilio, sender):
    text = ("Thank you for your patience while we look into this. " * 200)[:10_000]
    sent = await sender.send_reply(CUSTOMER, text, from_number=BATON_NUMBER)

    bodies = [call.form["Body"][0] for call in twilio.sent]
    assert len(sent) == len(bodies) == 7
    assert [c.status for c in twilio.calls] == [201] * 7  # the fake refuses bodies over 1,600 (21617)
    assert bodies[0].startswith("(1/7) ") and bodies[-1].startswith("(7/7) ")


async def test_one_body_over_1600_is_refused_before_anything_is_sent(twilio, sender):
    with pytest.raises(ValueError):
        await sender.send(CUSTOMER, "x" * 1601)
    assert twilio.calls == []


async def test_a_reply_cut_short_resumes_without_sending_a_part_twice(twilio, sender):
    text = " ".join(["resume"] * 700)
    done: list[int] = []

    async def record(index, sms):
        done.append(index)
        if index == 0:
            twilio.fail_next(1, code=20500)  # Twilio falls over before the second part

    with pytest.raises(RetryLater):
        await sender.send_reply(CUSTOMER, text, on_sent=record)
    await sender.send_reply(CUSTOMER, text, start_at=len(done), on_sent=record)

    bodies = [call.form["Body"][0] for call in twilio.sent]
    assert len(bodies) > 2
    assert bodies == split_reply(text)
    assert done == list(range(len(bodies)))


async def test_media_ride_on_the_last_part_and_more_than_ten_spill_over(twilio, sender):
    urls = [f"https://baton.example.com/files/{i}" for i in range(12)]
    await sender.send_reply(CUSTOMER, "See the photos", media_urls=urls)

    assert [c.one("Body") for c in twilio.sent] == ["See the photos", None]
    assert twilio.sent[0].form["MediaUrl"] == urls[:10]
    assert twilio.sent[1].form["MediaUrl"] == urls[10:]


# --- failures --------------------------------------------------------------------------------------


async def test_a_number_that_texted_stop_is_given_up_as_opted_out(twilio, sender):
    twilio.opted_out.add(CUSTOMER)
    with pytest.raises(GiveUp) as given_up:
        await sender.send(CUSTOMER, "Are you still there?")
    assert given_up.value.reason == "the customer opted out (STOP)"
    assert given_up.value.code == "21610"


async def test_a_scripted_21610_is_given_up_as_opted_out(twilio, sender):
    twilio.fail_next(1, code=21610)
    with pytest.raises(GiveUp) as given_up:
        await sender.send(CUSTOMER, "hi")
    assert given_up.value.reason == "the customer opted out (STOP)"


async def test_an_invalid_number_is_given_up_without_repeating_it(twilio, sender):
    with pytest.raises(GiveUp) as given_up:
        await sender.send("+1555", "hi")
    assert given_up.value.reason == "not a valid mobile number"
    assert given_up.value.code == "21211"
    assert twilio.calls[0].response["code"] == 21211


async def test_another_4xx_is_given_up_with_twilios_message_and_no_phone_number(twilio, sender):
    twilio.fail_next(1, code=21408)
    with pytest.raises(GiveUp) as given_up:
        await sender.send(CUSTOMER, "hi")
    assert twilio.calls[0].response["message"].endswith(CUSTOMER + ".")
    assert given_up.value.reason.startswith("Permission to send an SMS has not been enabled")
    assert "21408" in given_up.value.reason
    assert "4155550123" not in given_up.value.reason


async def test_twilios_error_code_decides_whatever_the_http_status(twilio, sender):
    twilio.fail_next(1, code=21211, status=422)  # an unusual status: the code decides
    with pytest.raises(GiveUp) as given_up:
        await sender.send(CUSTOMER, "hi")
    assert given_up.value.reason == "not a valid mobile number"


async def test_wrong_credentials_are_given_up_and_say_which_settings(twilio):
    sender = _sender(twilio, auth_token="wrong")
    try:
        with pytest.raises(GiveUp) as given_up:
            await sender.send(CUSTOMER, "hi")
    finally:
        await sender.close()
    assert twilio.calls[0].status == 401
    assert "TWILIO_AUTH_TOKEN" in given_up.value.reason


async def test_throttling_honours_retry_after(twilio, sender):
    twilio.fail_next(1, code=20429, retry_after=17)
    with pytest.raises(RetryLater) as wait:
        await sender.send(CUSTOMER, "hi")
    assert wait.value.seconds == 17
    assert twilio.calls[0].status == 429


async def test_a_20429_code_is_throttling_whatever_the_status(twilio, sender):
    twilio.fail_next(1, code=20429, status=400)
    with pytest.raises(RetryLater):
        await sender.send(CUSTOMER, "hi")


async def test_a_500_is_retried_later_and_the_next_attempt_goes_through(twilio, sender):
    twilio.fail_next(1, code=20500)
    with pytest.raises(RetryLater) as wait:
        await sender.send(CUSTOMER, "hi")
    assert "500" in wait.value.reason
    sent = await sender.send(CUSTOMER, "hi")
    assert sent.sid


async def test_a_proxy_error_page_is_retried_later(twilio, sender):
    twilio.fail_next(1, code=None, status=502, body="<html><h1>502 Bad Gateway</h1></html>")
    with pytest.raises(RetryLater):
        await sender.send(CUSTOMER, "hi")


async def test_connection_refused_is_retried_later_and_works_once_twilio_is_back(twilio, sender):
    await twilio.refuse_connections()
    with pytest.raises(RetryLater) as wait:
        await sender.send(CUSTOMER, "hi")
    assert "unreachable" in wait.value.reason
    await twilio.accept_connections()
    await sender.send(CUSTOMER, "hi")
    assert len(twilio.sent) == 1


async def test_a_timeout_is_retried_later(twilio):
    sender = _sender(twilio, timeout=0.3)
    twilio.delay_next(2)
    try:
        with pytest.raises(RetryLater):
            await sender.send(CUSTOMER, "hi")
    finally:
        await sender.close()


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("30") == 30
    assert retry_after_seconds(None) == 5
    assert retry_after_seconds("soon") == 5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past: now


async def test_the_fake_refuses_requests_without_basic_auth(twilio):
    async with aiohttp.ClientSession() as http:
        url = f"{twilio.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        async with http.post(url, data={"To": CUSTOMER, "From": DEFAULT_NUMBER, "Body": "x"}) as response:
            assert response.status == 401
            assert (await response.json())["code"] == 20003
        auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        other = url.replace(ACCOUNT_SID, "AC" + "0" * 32)
        async with http.post(other, data={"To": CUSTOMER}, headers={"Authorization": auth}) as response:
            assert response.status == 401

"""Twilio's inbound webhook: the signature against the public URL, the form as an InboundSms, keywords."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import aiohttp
import pytest
from multidict import MultiDict

from bot.errors import ApiError
from bot.sms.keywords import Keyword, keyword_of
from bot.sms.webhook import Media, parse_inbound, signed_url, verify_signature
from tests.twilio_webhooks import (
    BATON_NUMBER, CUSTOMER, FIXTURES, PUBLIC_URL, fixture_params, inbound_params, signed_post, sms_receiver,
    twilio_signature,
)

VECTOR = json.loads((FIXTURES / "twilio_signature_vector.json").read_text("utf-8"))


async def _post(server, body: bytes, headers: dict[str, str], path: str = "/inbound/sms"):
    async with aiohttp.ClientSession() as http:
        async with http.post(server.make_url(path), data=body, headers=headers) as response:
            return response.status, await response.text()


# --- the signature ---------------------------------------------------------------------------------


def test_the_official_twilio_vector_verifies():
    headers = {"X-Twilio-Signature": VECTOR["expected_x_twilio_signature"]}
    verify_signature(headers, VECTOR["url"], VECTOR["params"], auth_token=VECTOR["auth_token"])


def test_the_official_vector_with_one_digit_changed_is_refused():
    params = dict(VECTOR["params"], Digits="1235")
    headers = {"X-Twilio-Signature": VECTOR["expected_x_twilio_signature"]}
    with pytest.raises(ApiError) as refused:
        verify_signature(headers, VECTOR["url"], params, auth_token=VECTOR["auth_token"])
    assert refused.value.status == 401
    assert refused.value.code == "bad_signature"


def test_the_official_vector_signed_with_another_token_is_refused():
    headers = {"X-Twilio-Signature": VECTOR["expected_x_twilio_signature"]}
    with pytest.raises(ApiError) as refused:
        verify_signature(headers, VECTOR["url"], VECTOR["params"], auth_token="54321")
    assert refused.value.status == 401


def test_without_an_auth_token_nothing_is_accepted():
    headers = {"X-Twilio-Signature": VECTOR["expected_x_twilio_signature"]}
    with pytest.raises(ApiError) as refused:
        verify_signature(headers, VECTOR["url"], VECTOR["params"], auth_token=None)
    assert refused.value.status == 503


def test_the_signed_url_is_the_public_url_with_the_path_and_query_received():
    assert signed_url("https://baton.example.com", "/inbound/sms") == "https://baton.example.com/inbound/sms"
    assert signed_url("https://example.com/baton/", "/inbound/sms?x=1") == "https://example.com/baton/inbound/sms?x=1"


async def test_a_fixture_body_signed_for_the_public_url_is_received_over_http():
    params = fixture_params("twilio_sms_inbound.txt")
    body, headers = signed_post("/inbound/sms", params)
    async with sms_receiver() as (server, received):
        status, text = await _post(server, body, headers)

    assert status == 200
    assert text == "<Response/>"
    assert received[0].message_sid == "3333"
    assert received[0].body == "Hello"


async def test_behind_a_proxy_the_request_url_would_fail_and_the_public_url_passes():
    # Twilio called https://baton.example.com/inbound/sms; the proxy forwarded to http://127.0.0.1:<port>.
    body, headers = signed_post("/inbound/sms", inbound_params("Where is my order?"))
    async with sms_receiver(public_url=None) as (server, _):
        as_seen, _ = await _post(server, body, headers)
    async with sms_receiver(public_url=PUBLIC_URL) as (server, received):
        as_public, _ = await _post(server, body, headers)

    assert as_seen == 401
    assert as_public == 200
    assert received[0].body == "Where is my order?"


async def test_a_tampered_parameter_is_refused_with_401_and_nothing_is_received():
    params = inbound_params("Refund my order")
    body, headers = signed_post("/inbound/sms", params)
    tampered = body.replace(b"Refund+my+order", b"Refund+my+orders")
    async with sms_receiver() as (server, received):
        status, text = await _post(server, tampered, headers)

    assert status == 401
    assert json.loads(text)["error"] == "bad_signature"
    assert received == []


async def test_an_added_parameter_breaks_the_signature():
    params = inbound_params("hi")
    body, headers = signed_post("/inbound/sms", params)
    async with sms_receiver() as (server, received):
        status, _ = await _post(server, body + b"&From=%2B19995550000", headers)
    assert status == 401
    assert received == []


async def test_a_missing_signature_header_is_refused():
    body, headers = signed_post("/inbound/sms", inbound_params("hi"))
    del headers["X-Twilio-Signature"]
    async with sms_receiver() as (server, received):
        status, text = await _post(server, body, headers)
    assert status == 401
    assert "X-Twilio-Signature" in json.loads(text)["detail"]


async def test_a_query_string_on_the_webhook_url_is_part_of_what_is_signed():
    params = inbound_params("hi")
    body = urlencode(params).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": twilio_signature(PUBLIC_URL + "/inbound/sms?queue=billing", params)}
    async with sms_receiver() as (server, received):
        with_query, _ = await _post(server, body, headers, "/inbound/sms?queue=billing")
        other_query, _ = await _post(server, body, headers, "/inbound/sms?queue=sales")
    assert (with_query, other_query) == (200, 401)


async def test_unicode_and_emoji_bodies_verify_and_arrive_unchanged():
    text = "Bonjour 👋🏽 — mon colis est abîmé 📦🇫🇷 ¿qué? 你好 👨‍👩‍👧"
    body, headers = signed_post("/inbound/sms", inbound_params(text))
    async with sms_receiver() as (server, received):
        status, _ = await _post(server, body, headers)
    assert status == 200
    assert received[0].body == text


async def test_a_ten_thousand_character_body_verifies_and_is_kept_whole():
    text = ("Lorem ipsum dolor sit amet 🙂 " * 400)[:10_000]
    body, headers = signed_post("/inbound/sms", inbound_params(text))
    async with sms_receiver() as (server, received):
        status, _ = await _post(server, body, headers)
    assert status == 200
    assert received[0].body == text


async def test_repeated_parameters_are_signed_as_twilio_signs_them():
    params = inbound_params("hi") + [("Tag", "b"), ("Tag", "a")]
    body, headers = signed_post("/inbound/sms", params)
    async with sms_receiver() as (server, received):
        status, _ = await _post(server, body, headers)
    assert status == 200


# --- the form --------------------------------------------------------------------------------------


def test_the_sms_fixture_becomes_an_inbound_sms():
    sms = parse_inbound(MultiDict(fixture_params("twilio_sms_inbound.txt")))

    assert sms.message_sid == "3333"
    assert sms.account_sid == "4444"
    assert sms.from_number == "+2222"
    assert sms.phone is None  # "+2222" is no real number: it stays a channel id, never a phone identity
    assert sms.to == "+1111"
    assert sms.body == "Hello"
    assert sms.media == ()
    assert sms.keyword is None


def test_the_mms_fixture_carries_its_media():
    sms = parse_inbound(MultiDict(fixture_params("twilio_mms_inbound.txt")))
    assert sms.media == (Media(url="www.contoso.com", content_type="json"),)


def test_a_real_number_becomes_its_e164_identity():
    sms = parse_inbound(MultiDict(inbound_params("hi", From="+1 (415) 555-0123")))
    assert sms.phone == CUSTOMER
    assert sms.from_number == "+1 (415) 555-0123"
    assert sms.to == BATON_NUMBER


def test_mms_media_urls_and_types_are_read_in_order_up_to_num_media():
    media = [("https://api.twilio.com/a/Media/ME1", "image/jpeg"), ("https://api.twilio.com/a/Media/ME2", "video/mp4")]
    sms = parse_inbound(MultiDict(inbound_params("", media=media, MessagingServiceSid="MG" + "b" * 32)))

    assert sms.media == (Media(*media[0]), Media(*media[1]))
    assert sms.body == ""
    assert sms.messaging_service_sid == "MG" + "b" * 32


def test_a_num_media_that_is_not_a_number_still_reads_the_urls_present():
    sms = parse_inbound(MultiDict(inbound_params("", media=[("https://api.twilio.com/x", "image/png")], NumMedia="lots")))
    assert [m.url for m in sms.media] == ["https://api.twilio.com/x"]


def test_old_sid_names_stand_in_for_message_sid():
    params = [(k, v) for k, v in inbound_params("hi") if k != "MessageSid"]
    assert parse_inbound(MultiDict(params)).message_sid == "SM" + "a" * 32


@pytest.mark.parametrize("missing, dropped", [("From", {"From"}), ("MessageSid", {"MessageSid", "SmsMessageSid", "SmsSid"})])
def test_a_form_without_sender_or_sid_is_a_422_naming_the_field(missing, dropped):
    params = [(k, v) for k, v in inbound_params("hi") if k not in dropped]
    with pytest.raises(ApiError) as refused:
        parse_inbound(MultiDict(params))
    assert refused.value.status == 422
    assert refused.value.field == missing


def test_the_inbound_sms_is_frozen():
    sms = parse_inbound(MultiDict(inbound_params("hi")))
    with pytest.raises(AttributeError):
        sms.body = "changed"


# --- keywords --------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", "stop", "StopAll", "UNSUBSCRIBE", "cancel", "End", "quit", "REVOKE", "optout",
                                  "  Stop  ", "Stop.", "STOP!"])
def test_opt_out_words_are_stop(word):
    assert keyword_of(word) is Keyword.STOP


@pytest.mark.parametrize("word", ["START", "yes", "Unstop"])
def test_opt_in_words_are_start(word):
    assert keyword_of(word) is Keyword.START


@pytest.mark.parametrize("word", ["HELP", "info", "Help?"])
def test_help_words_are_help(word):
    assert keyword_of(word) is Keyword.HELP


@pytest.mark.parametrize("text", ["Please stop calling me", "stop it", "STOP 🛑", "", "stopp", "Starting now", "ST OP"])
def test_a_sentence_is_not_a_keyword(text):
    assert keyword_of(text) is None


def test_twilio_advanced_opt_out_type_wins_over_the_body():
    # An operator's own keyword ("ARRET") that Twilio reports with OptOutType.
    sms = parse_inbound(MultiDict(inbound_params("ARRET", OptOutType="STOP")))
    assert sms.keyword is Keyword.STOP


def test_the_parsed_message_says_which_keyword_it_is():
    assert parse_inbound(MultiDict(inbound_params("Stop"))).keyword is Keyword.STOP

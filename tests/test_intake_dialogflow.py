"""Dialogflow CX liveAgentHandoff in its three body shapes (SPEC 3.3)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.domain import TranscriptLine
from bot.errors import ApiError
from bot.intake import parse_dialogflow_handoff
from tests.handoff_factory import BOT_SAYS, CUSTOMER_SAYS, OMIT, load_fixture, make_dialogflow_request

WEBHOOK_REQUEST = "dialogflow_cx_webhook_request.json"
DETECT_INTENT_RESPONSE = "dialogflow_cx_detect_intent_response_live_agent_handoff.json"
WEBHOOK_RESPONSE = "dialogflow_cx_webhook_response_live_agent_handoff.json"


def refused(body: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse_dialogflow_handoff(body)
    return caught.value


# --------------------------------------------------------------------------- the fixtures


def test_a_webhook_request_is_identified_by_its_session_and_agent():
    handoff = parse_dialogflow_handoff(load_fixture(WEBHOOK_REQUEST))

    assert handoff.conversation_id == "<SESSION>"
    assert handoff.source == "dialogflow-cx:<A>"
    assert (handoff.channel, handoff.kind) == ("webchat", "customer")


def test_a_webhook_request_carries_its_metadata_page_parameters_and_last_query():
    bot = parse_dialogflow_handoff(load_fixture(WEBHOOK_REQUEST)).bot

    assert bot.reason == "page entry fulfillment"
    assert bot.last_topic == "Live agent"
    assert bot.last_phrases == "I want to talk to a human"
    assert bot.language == "en"
    assert bot.variables == {"customer_id": "12345"}


def test_a_detect_intent_response_gives_queue_reason_and_the_last_turn():
    handoff = parse_dialogflow_handoff(load_fixture(DETECT_INTENT_RESPONSE))

    assert (handoff.queue, handoff.bot.reason) == ("tier2", "billing dispute")
    assert handoff.transcript == (
        TranscriptLine("customer", "I want to talk to a human"),
        TranscriptLine("bot", "Let me connect you with an agent."),
    )
    assert handoff.source == "dialogflow-cx:<A>"  # from the current page's resource name


def test_a_detect_intent_response_without_a_session_stands_in_its_response_id():
    assert parse_dialogflow_handoff(load_fixture(DETECT_INTENT_RESPONSE)).conversation_id == "<uuid>"


def test_a_forwarded_session_names_the_conversation_of_a_detect_intent_response():
    body = load_fixture(DETECT_INTENT_RESPONSE) | {"session": "projects/p/locations/l/agents/a/sessions/s-42"}

    assert parse_dialogflow_handoff(body).conversation_id == "s-42"


def test_a_bare_webhook_response_names_no_conversation_and_is_refused():
    error = refused(load_fixture(WEBHOOK_RESPONSE))

    assert (error.status, error.field) == (422, "sessionInfo.session")


def test_a_webhook_response_with_its_session_forwarded_is_a_handoff():
    body = load_fixture(WEBHOOK_RESPONSE)
    body["sessionInfo"]["session"] = "projects/p/locations/l/agents/agent-9/sessions/s-7"

    handoff = parse_dialogflow_handoff(body)

    assert (handoff.source, handoff.conversation_id) == ("dialogflow-cx:agent-9", "s-7")
    assert (handoff.queue, handoff.bot.reason) == ("tier2", "billing dispute")
    assert handoff.bot.variables == {}  # handoff_reason became bot.reason


# --------------------------------------------------------------------------- mapping rules


def test_session_parameters_with_obvious_names_fill_the_customer_and_the_rest_are_kept():
    handoff = parse_dialogflow_handoff(make_dialogflow_request())

    assert (handoff.customer.name, handoff.customer.email, handoff.customer.phone) == (
        "Dana Whitfield", "Dana.W@Example.com", "+1 415 555 0123",
    )
    assert handoff.case_number == "CAS-01234"
    assert handoff.bot.variables == {"order_number": "SO-99812"}


def test_given_and_last_name_parameters_make_the_customer_name():
    body = make_dialogflow_request()
    body["sessionInfo"]["parameters"] = {"given-name": "Dana", "last-name": "Whitfield"}

    assert parse_dialogflow_handoff(body).customer.name == "Dana Whitfield"


def test_a_parameter_set_to_null_is_deleted_as_dialogflow_means_it():
    body = make_dialogflow_request()
    body["sessionInfo"]["parameters"] = {"email": None, "coupon": None, "plan": "gold"}

    handoff = parse_dialogflow_handoff(body)

    assert handoff.customer.email is None
    assert handoff.bot.variables == {"plan": "gold"}


def test_handoff_metadata_wins_over_session_parameters():
    body = make_dialogflow_request()
    body["sessionInfo"]["parameters"]["queue"] = "general"
    body["messages"][1]["liveAgentHandoff"]["metadata"] = {"Skill": "returns"}

    assert parse_dialogflow_handoff(body).queue == "returns"


def test_unknown_metadata_keys_are_kept_as_bot_variables():
    body = make_dialogflow_request()
    body["messages"][1]["liveAgentHandoff"]["metadata"].update({"priority": 2, "vip": True})

    variables = parse_dialogflow_handoff(body).bot.variables

    assert (variables["priority"], variables["vip"]) == (2, True)


def test_the_integrators_forwarded_fields_are_honoured():
    body = make_dialogflow_request(
        queue="escalations",
        reply_url="https://va.example.com/agent-replies",
        visitor={"locale": "he-IL"},
        customer={"email": "dana@example.org", "external_ids": {"crm": "C-1042"}},
    )

    handoff = parse_dialogflow_handoff(body)

    assert handoff.queue == "escalations"
    assert handoff.reply_url == "https://va.example.com/agent-replies"
    assert handoff.visitor.locale == "he-IL"
    assert handoff.customer.email == "dana@example.org"  # the forwarded customer beats a parameter
    assert handoff.customer.name == "Dana Whitfield"  # and parameters fill its gaps
    assert handoff.customer.external_ids == {"crm": "C-1042"}


def test_a_forwarded_transcript_is_used_as_sent():
    transcript = parse_dialogflow_handoff(make_dialogflow_request()).transcript

    assert transcript == (
        TranscriptLine("customer", CUSTOMER_SAYS, datetime(2026, 11, 22, 10, 1, tzinfo=timezone.utc)),
        TranscriptLine("bot", BOT_SAYS, datetime(2026, 11, 22, 10, 1, 2, tzinfo=timezone.utc)),
    )


def test_a_string_transcript_is_dialogflows_voice_query_not_a_forwarded_transcript():
    body = make_dialogflow_request(text=OMIT, transcript="I need a person")

    handoff = parse_dialogflow_handoff(body)

    assert handoff.bot.last_phrases == "I need a person"
    assert handoff.transcript == (TranscriptLine("customer", "I need a person"), TranscriptLine("bot", BOT_SAYS))


def test_unicode_emoji_and_right_to_left_text_pass_through_intact():
    body = make_dialogflow_request(transcript=OMIT, text="أريد التحدث إلى شخص 🙏")
    body["messages"][1]["liveAgentHandoff"]["metadata"]["reason"] = "לקוח כועס 😠"

    handoff = parse_dialogflow_handoff(body)

    assert handoff.transcript[0].text == "أريد التحدث إلى شخص 🙏"
    assert handoff.bot.reason == "לקוח כועס 😠"


# --------------------------------------------------------------------------- refusing


def test_a_body_without_a_live_agent_handoff_is_not_a_handoff():
    error = refused(make_dialogflow_request(messages=[{"text": {"text": ["Hi!"]}}]))

    assert (error.status, error.code, error.field) == (422, "invalid_field", "messages")
    assert "liveAgentHandoff" in error.detail


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (["not", "an", "object"], 400, None),
        (make_dialogflow_request(messages={"liveAgentHandoff": {}}), 422, "messages"),
        (make_dialogflow_request(messages=[{"liveAgentHandoff": {"metadata": "tier2"}}]), 422, "messages[0].liveAgentHandoff.metadata"),
        (make_dialogflow_request(sessionInfo={"session": 7}), 422, "sessionInfo.session"),
        (make_dialogflow_request(sessionInfo={"session": "s", "parameters": ["email"]}), 422, "sessionInfo.parameters"),
        (make_dialogflow_request(reply_url="mailto:dana@example.com"), 422, "reply_url"),
        (make_dialogflow_request(transcript=[{"from": "customer", "text": "hi", "at": "soon"}]), 422, "transcript[0].at"),
    ],
)
def test_a_broken_body_is_refused_naming_the_field(body, status, field):
    error = refused(body)

    assert (error.status, error.field) == (status, field)


def test_forwarded_text_over_its_cap_is_cut_and_a_mistyped_email_left_out():
    handoff = parse_dialogflow_handoff(make_dialogflow_request(queue="q" * 101, customer={"email": "dana"}))

    assert handoff.queue == "q" * 99 + "…"
    assert handoff.customer.email != "dana"  # left out; the session's own email parameter fills it
    assert {cut.field for cut in handoff.cuts} == {"queue", "customer.email"}

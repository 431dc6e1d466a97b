"""The generic handoff JSON (SPEC 3.1) and the agreement of all three intake formats."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from jsonschema import Draft202012Validator

from bot.domain import Attachment, CustomerInput, PrechatAnswer, TranscriptLine, VisitorInput
from bot.errors import ApiError
from bot.identity import identities_of
from bot.intake import parse_dialogflow_handoff, parse_generic_handoff, parse_handoff_initiate
from bot.intake.generic import CAPS, schema
from tests.handoff_factory import (
    BOT_SAYS,
    CUSTOMER_SAYS,
    OMIT,
    make_botframework_activity,
    make_dialogflow_request,
    make_generic_payload,
)


def refused(body: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse_generic_handoff(body)
    return caught.value


def test_the_spec_example_becomes_a_handoff_with_every_field():
    handoff = parse_generic_handoff(make_generic_payload())

    assert (handoff.source, handoff.conversation_id) == ("acme-virtual-agent", "va-7f3a")
    assert (handoff.channel, handoff.kind, handoff.queue) == ("webchat", "customer", "billing")
    assert handoff.customer == CustomerInput(
        name="Dana Whitfield", email="Dana.W@Example.com", phone="+1 415 555 0123", external_ids={"crm": "C-1042"}
    )
    assert handoff.prechat == (PrechatAnswer("What is your order number?", "SO-99812"),)
    assert handoff.visitor.ip == "203.0.113.7"
    assert handoff.visitor.referrer is None
    assert handoff.bot.topics == ("Greeting", "Order status")
    assert handoff.bot.agent_message == "Customer says the parcel arrived damaged."
    assert handoff.transcript == (
        TranscriptLine("customer", CUSTOMER_SAYS, datetime(2026, 11, 22, 10, 1, tzinfo=timezone.utc)),
        TranscriptLine("bot", BOT_SAYS, datetime(2026, 11, 22, 10, 1, 2, tzinfo=timezone.utc)),
    )
    assert handoff.case_number == "CAS-01234"
    assert handoff.reply_url == "https://va.example.com/agent-replies"
    assert handoff.origin is None


def test_only_source_and_conversation_id_are_required_and_the_rest_has_defaults():
    handoff = parse_generic_handoff({"source": "crm", "conversation_id": "42"})

    assert (handoff.channel, handoff.kind, handoff.queue) == ("webchat", "customer", None)
    assert handoff.customer == CustomerInput()
    assert (handoff.visitor, handoff.bot, handoff.transcript, handoff.reply_url) == (None, None, (), None)


@pytest.mark.parametrize("kind", ["customer", "internal", "agent_to_agent", "unrouted"])
def test_every_conversation_kind_is_accepted(kind):
    assert parse_generic_handoff(make_generic_payload(kind=kind)).kind == kind


def test_unknown_top_level_keys_are_ignored_so_senders_can_add_fields_first():
    handoff = parse_generic_handoff(make_generic_payload(priority="high", sentiment={"score": -0.4}))

    assert handoff.conversation_id == "va-7f3a"


def test_blank_and_null_optional_strings_count_as_absent():
    body = make_generic_payload(queue="  ", channel=None, reply_url="", customer={"name": "", "email": " "})

    handoff = parse_generic_handoff(body)

    assert (handoff.queue, handoff.channel, handoff.reply_url) == (None, "webchat", None)
    assert (handoff.customer.name, handoff.customer.email) == (None, None)


def test_channel_ids_and_line_attachments_are_carried():
    body = make_generic_payload(
        customer={"channel_ids": [{"kind": "sms", "id": "+14155550123"}]},
        transcript=[{"from": "customer", "text": "", "sender_name": "Dana",
                     "attachments": [{"name": "box.jpg", "url": "https://cdn.example.com/box.jpg", "content_type": "image/jpeg"}]}],
    )

    handoff = parse_generic_handoff(body)

    assert handoff.customer.channel_ids == (("sms", "+14155550123"),)
    assert handoff.transcript[0].sender_name == "Dana"
    assert handoff.transcript[0].attachments == (Attachment("box.jpg", "https://cdn.example.com/box.jpg", "image/jpeg"),)


def test_a_date_without_an_offset_is_taken_as_utc():
    body = make_generic_payload(transcript=[{"from": "customer", "text": "hi", "at": "2026-11-22T10:01:00"}])

    assert parse_generic_handoff(body).transcript[0].at == datetime(2026, 11, 22, 10, 1, tzinfo=timezone.utc)


def test_a_date_with_an_offset_is_converted_to_utc():
    body = make_generic_payload(transcript=[{"from": "customer", "text": "hi", "at": "2026-11-22T12:01:00+02:00"}])

    at = parse_generic_handoff(body).transcript[0].at

    assert at.utcoffset() == timedelta(0)
    assert at == datetime(2026, 11, 22, 10, 1, tzinfo=timezone.utc)


def test_unicode_emoji_and_right_to_left_text_pass_through_intact():
    text = "שלום, الطرد وصل تالفًا 📦💥 — Zoë"
    body = make_generic_payload(
        customer={"name": "Zoë Ångström 山田"}, transcript=[{"from": "customer", "text": text}], queue="فواتير"
    )

    handoff = parse_generic_handoff(body)

    assert handoff.transcript[0].text == text
    assert handoff.customer.name == "Zoë Ångström 山田"
    assert handoff.queue == "فواتير"


@pytest.mark.parametrize("body", [[], "a string", None, 42, b"{}"])
def test_a_body_that_is_not_a_json_object_is_malformed(body):
    error = refused(body)

    assert (error.status, error.code, error.field) == (400, "malformed", None)


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"source": OMIT}, "source", "is required"),
        ({"conversation_id": OMIT}, "conversation_id", "is required"),
        ({"conversation_id": ""}, "conversation_id", "must not be empty"),
        ({"conversation_id": "   "}, "conversation_id", "must not be blank"),
        ({"source": 42}, "source", "must be a string"),
        ({"source": "s" * 201}, "source", "longer than 200"),
        ({"kind": "vip"}, "kind", "must be one of customer, internal, agent_to_agent, unrouted"),
        ({"reply_url": "ftp://va.example.com/replies"}, "reply_url", "http:// or https://"),
        ({"reply_url": "javascript:alert(1)"}, "reply_url", "http:// or https://"),
        ({"reply_url": "https://"}, "reply_url", "http:// or https://"),
        ({"customer": "Dana"}, "customer", "must be an object"),
        ({"customer": {"external_ids": {"crm": 1042}}}, "customer.external_ids.crm", "must be a string"),
        ({"transcript": {"from": "customer", "text": "hi"}}, "transcript", "must be a list"),
        ({"transcript": [{"from": "customer", "text": "hi"}, {"from": "robot", "text": "x"}]}, "transcript[1].from", "one of"),
        ({"transcript": [{"from": "customer"}]}, "transcript[0].text", "is required"),
        ({"prechat": [{"question": "Order?", "answer": 99812}]}, "prechat[0].answer", "must be a string"),
        ({"bot": {"topics": "Greeting"}}, "bot.topics", "must be a list"),
        ({"case": {}}, "case.number", "is required"),
    ],
)
def test_a_schema_violation_is_refused_naming_the_field(overrides, field, says):
    error = refused(make_generic_payload(**overrides))

    assert (error.status, error.code, error.field) == (422, "invalid_field", field)
    assert says in error.detail
    assert error.detail.startswith(field) and error.detail.endswith(".")


@pytest.mark.parametrize("at", ["yesterday", "22/11/2026 10:01", "2026-13-01T00:00:00Z"])
def test_a_transcript_date_that_is_not_iso_8601_is_refused_naming_the_line(at):
    transcript = [{"from": "customer", "text": "hi"}, {"from": "bot", "text": "hello", "at": at}]

    error = refused(make_generic_payload(transcript=transcript))

    assert (error.status, error.field) == (422, "transcript[1].at")
    assert "ISO 8601" in error.detail


def test_an_error_detail_is_a_sentence_not_a_schema_dump():
    error = refused(make_generic_payload(visitor={"locale": ["en-US"]}))

    assert error.detail == "visitor.locale must be a string."


def test_the_schema_file_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(schema())

    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_caps_other_edges_cut_to_are_the_schemas_own():
    defs, top = schema()["$defs"], schema()["properties"]
    line, bot, customer = defs["line"]["properties"], defs["bot"]["properties"], defs["customer"]["properties"]

    assert CAPS["line_text"] == line["text"]["maxLength"]
    assert CAPS["lines"] == defs["transcript"]["maxItems"]
    assert CAPS["queue"] == top["queue"]["maxLength"]
    assert CAPS["channel"] == top["channel"]["maxLength"]
    assert CAPS["case_number"] == defs["case"]["properties"]["number"]["maxLength"]
    assert (CAPS["name"], CAPS["email"], CAPS["phone"]) == tuple(customer[k]["maxLength"] for k in ("name", "email", "phone"))
    for key in ("reason", "agent_message", "last_phrases", "language"):
        assert CAPS[key] == bot[key]["maxLength"]
    assert (CAPS["bot_name"], CAPS["topic"], CAPS["topics"]) == (
        bot["name"]["maxLength"], bot["topics"]["items"]["maxLength"], bot["topics"]["maxItems"],
    )


# --------------------------------------------------------------------------- all three formats agree


def test_the_three_formats_describing_one_customer_agree_on_the_core_fields():
    handoffs = [
        parse_generic_handoff(make_generic_payload()),
        parse_handoff_initiate(make_botframework_activity()),
        parse_dialogflow_handoff(make_dialogflow_request()),
    ]

    def core(h):
        identities = [pair for pair in identities_of(h.customer) if pair[0] in ("email", "phone")]
        return (
            h.kind,
            h.queue,
            h.case_number,
            h.customer.name,
            identities,
            h.bot.reason,
            [(line.sender, line.text) for line in h.transcript],
        )

    generic, botframework, dialogflow = (core(h) for h in handoffs)
    assert generic == botframework == dialogflow
    assert generic[4] == [("email", "dana.w@example.com"), ("phone", "+14155550123")]


def test_visitor_input_is_typed_the_same_from_every_source():
    assert parse_generic_handoff(make_generic_payload(visitor={"locale": "en-US"})).visitor == VisitorInput(locale="en-US")
    assert parse_handoff_initiate(make_botframework_activity()).visitor == VisitorInput(locale="en-US")
    assert parse_dialogflow_handoff(make_dialogflow_request(visitor={"locale": "en-US"})).visitor == VisitorInput(locale="en-US")


def test_nothing_the_customer_typed_is_a_reason_to_refuse_it_is_cut_with_a_warning():
    """SPEC 3.4: strings over their cap are cut with "…", lists keep their first items, a mistyped email is left out."""
    body = make_generic_payload(
        customer={"name": "D" * 10_000, "email": "dana-at-example.com"},
        prechat=[{"question": f"Q{i}", "answer": "a"} for i in range(60)],
        transcript=[{"from": "customer", "text": "x" * 10_001}],
    )

    handoff = parse_generic_handoff(body)

    assert handoff.customer.name == "D" * 199 + "…"
    assert handoff.customer.email is None
    assert len(handoff.prechat) == 50 and handoff.omitted("prechat") == 10
    assert handoff.transcript[0].text.endswith("…") and len(handoff.transcript[0].text) == 10_000
    warnings = {cut.field: cut.detail for cut in handoff.cuts}
    assert set(warnings) == {"customer.name", "customer.email", "prechat", "transcript[0].text"}
    assert "the first 50 were kept" in warnings["prechat"]


def test_the_senders_own_ids_are_still_refused_when_too_long():
    error = refused(make_generic_payload(conversation_id="c" * 301))

    assert (error.status, error.field) == (422, "conversation_id")

"""Bot Framework handoff.initiate events, Copilot Studio's included (SPEC 3.2)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.domain import Attachment, BotFrameworkOrigin
from bot.errors import ApiError
from bot.intake import is_handoff_initiate, parse_handoff_initiate
from tests.handoff_factory import BOT_SAYS, CUSTOMER_SAYS, load_fixture, make_botframework_activity

COPILOT = "copilot_studio_handoff_initiate_activities.json"
EVENT_FACTORY = "botframework_handoff_initiate.json"


def refused(activity: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse_handoff_initiate(activity)
    return caught.value


# --------------------------------------------------------------------------- the Copilot Studio sample


def test_the_copilot_studio_sample_is_found_in_its_activity_set_and_identified():
    handoff = parse_handoff_initiate(load_fixture(COPILOT))

    assert handoff.source == "botframework:directline"
    assert handoff.conversation_id == "91hcXEd0ZYCBPoRwBDPHZ6-o"
    assert (handoff.channel, handoff.kind) == ("webchat", "customer")


def test_the_copilot_studio_context_variables_become_bot_fields():
    bot = parse_handoff_initiate(load_fixture(COPILOT)).bot

    assert bot.name == "Test501"
    assert bot.last_topic == "Lesson 1 - A simple topic"
    assert bot.topics == ("Lesson 1 - A simple topic",)
    assert bot.last_phrases == "store hours"  # sent as va_LastPhrase, singular
    assert bot.agent_message == "Transferred"
    assert bot.language == "en-US"  # sent as "En-US"


def test_copilot_studio_variables_without_a_field_are_kept_as_bot_variables():
    variables = parse_handoff_initiate(load_fixture(COPILOT)).bot.variables

    assert variables == {
        "va_Scope": "bot",
        "va_Phrases": ["store hours"],
        "va_ConversationId": "91hcXEd0ZYCBPoRwBDPHZ6-o",
        "va_BotId": "<REDACTED>",
    }


def test_the_copilot_studio_transcript_becomes_attributed_lines():
    transcript = parse_handoff_initiate(load_fixture(COPILOT)).transcript

    assert [(line.sender, line.sender_name, line.text) for line in transcript] == [
        ("customer", "C2 User", "store hours"),
        ("bot", "Contoso Bot", "I'm happy to help with store hours."),
    ]
    # Bot Framework timestamps carry 7 fractional digits.
    assert transcript[0].at == datetime(2020, 2, 10, 21, 51, 21, 491453, tzinfo=timezone.utc)


def test_the_copilot_studio_customer_is_the_conversation_user():
    handoff = parse_handoff_initiate(load_fixture(COPILOT))

    assert handoff.customer.name == "C2 User"
    assert handoff.customer.channel_ids == (("directline", "pva_H1YHD_be80720b-bdb0-4561-aae2-5f891f2f02e0"),)
    assert handoff.visitor.locale == "en-US"  # from the user's first message


def test_the_copilot_studio_origin_says_where_to_send_handoff_status():
    origin = parse_handoff_initiate(load_fixture(COPILOT)).origin

    assert origin == BotFrameworkOrigin(
        service_url="https://directline.botframework.com/",
        conversation_id="91hcXEd0ZYCBPoRwBDPHZ6-o",
        channel_id="directline",
        bot_id="<REDACTED>",
        bot_name="Contoso Bot",
        user_id="pva_H1YHD_be80720b-bdb0-4561-aae2-5f891f2f02e0",
        user_name="C2 User",
        activity_id="91hcXEd0ZYCBPoRwBDPHZ6-o|0000005",
    )


def test_the_event_alone_parses_like_its_activity_set():
    activity_set = load_fixture(COPILOT)

    assert parse_handoff_initiate(activity_set["activities"][0]) == parse_handoff_initiate(activity_set)


# --------------------------------------------------------------------------- the EventFactory shape


def test_the_event_factory_shape_routes_on_its_skill_and_keeps_its_transcript():
    handoff = parse_handoff_initiate(load_fixture(EVENT_FACTORY))

    assert handoff.conversation_id == "<conversation id>"
    assert handoff.source == "botframework:<channel of the triggering activity>"
    assert handoff.queue == "credit cards"
    assert [(line.sender, line.text) for line in handoff.transcript] == [("customer", "hello")]


def test_an_event_whose_service_url_is_not_a_url_has_no_origin_to_answer():
    assert parse_handoff_initiate(load_fixture(EVENT_FACTORY)).origin is None


# --------------------------------------------------------------------------- mapping rules


def test_the_documented_plural_va_last_phrases_is_read_too():
    handoff = parse_handoff_initiate(make_botframework_activity())

    assert handoff.bot.last_phrases == CUSTOMER_SAYS


def test_topics_sent_as_one_comma_separated_string_are_split():
    activity = make_botframework_activity()
    activity["value"]["va_Topics"] = "Greeting, Order status ,"

    assert parse_handoff_initiate(activity).bot.topics == ("Greeting", "Order status")


def test_user_defined_topic_variables_are_kept_and_obvious_ones_fill_the_customer():
    activity = make_botframework_activity()
    activity["value"] = {"OrderNumber": "SO-99812", "UserEmail": "dana@example.com", "Phone Number": "+1 415 555 0123"}

    handoff = parse_handoff_initiate(activity)

    assert handoff.bot.variables == {"OrderNumber": "SO-99812"}
    assert (handoff.customer.email, handoff.customer.phone) == ("dana@example.com", "+1 415 555 0123")


def test_generic_hub_context_in_value_is_honoured():
    handoff = parse_handoff_initiate(make_botframework_activity())

    assert handoff.customer.email == "Dana.W@Example.com"
    assert handoff.customer.external_ids == {"crm": "C-1042"}
    assert (handoff.queue, handoff.case_number, handoff.bot.reason) == ("billing", "CAS-01234", "customer asked for a human")


def test_the_transcript_attachment_is_matched_without_case_and_others_are_ignored():
    activity = make_botframework_activity()
    transcript = activity["attachments"][0]
    transcript["name"] = "TRANSCRIPT"
    activity["attachments"] = [
        {"name": "Survey", "contentType": "application/json", "content": {"activities": [{"type": "message", "text": "no"}]}},
        transcript,
    ]

    lines = parse_handoff_initiate(activity).transcript

    assert [(line.sender, line.text) for line in lines] == [("customer", CUSTOMER_SAYS), ("bot", BOT_SAYS)]


def test_only_message_activities_become_lines_and_files_are_kept():
    activity = make_botframework_activity()
    activity["attachments"][0]["content"]["activities"] = [
        {"type": "conversationUpdate", "membersAdded": [{"id": "dl_dana-1"}]},
        {"type": "typing", "from": {"id": "bot-acme", "role": "bot"}},
        {"type": "message", "from": {"id": "dl_dana-1", "role": "user"},
         "attachments": [{"name": "box.jpg", "contentType": "image/jpeg", "contentUrl": "https://cdn.example.com/box.jpg"}]},
    ]

    lines = parse_handoff_initiate(activity).transcript

    assert len(lines) == 1
    assert lines[0].text == ""
    assert lines[0].attachments == (Attachment("box.jpg", "https://cdn.example.com/box.jpg", "image/jpeg"),)


def test_a_line_without_a_role_is_the_bots_only_when_it_carries_the_bots_id():
    activity = make_botframework_activity()
    activity["attachments"][0]["content"]["activities"] = [
        {"type": "message", "from": {"id": "bot-acme"}, "text": "How can I help?"},
        {"type": "message", "from": {"id": "someone"}, "text": "a person"},
    ]

    lines = parse_handoff_initiate(activity).transcript

    assert [line.sender for line in lines] == ["bot", "customer"]


def test_an_over_long_platform_message_is_cut_with_an_ellipsis_not_refused():
    activity = make_botframework_activity()
    activity["attachments"][0]["content"]["activities"][0]["text"] = "x" * 12_000

    text = parse_handoff_initiate(activity).transcript[0].text

    assert len(text) == 10_000 and text.endswith("…")


def test_unicode_emoji_and_right_to_left_text_pass_through_intact():
    activity = make_botframework_activity()
    activity["attachments"][0]["content"]["activities"][0]["text"] = "الطرد وصل تالفًا 📦 שלום"
    activity["value"]["va_AgentMessage"] = "Zoë 🙂"

    handoff = parse_handoff_initiate(activity)

    assert handoff.transcript[0].text == "الطرد وصل تالفًا 📦 שלום"
    assert handoff.bot.agent_message == "Zoë 🙂"


# --------------------------------------------------------------------------- recognising and refusing


def test_only_an_event_named_handoff_initiate_is_a_handoff():
    assert is_handoff_initiate(make_botframework_activity())
    assert not is_handoff_initiate(make_botframework_activity(type="message"))
    assert not is_handoff_initiate(make_botframework_activity(name="handoff.status"))
    assert not is_handoff_initiate(["not", "an", "activity"])


@pytest.mark.parametrize(
    ("activity", "status", "field"),
    [
        (["an activity"], 400, None),
        (make_botframework_activity(type="message"), 422, "type"),
        (make_botframework_activity(name="handoff.status"), 422, "name"),
        ({"activities": [{"type": "message", "text": "hi"}]}, 422, "activities"),
        (make_botframework_activity(conversation={}, value={}), 422, "conversation.id"),
        (make_botframework_activity(attachments={"name": "Transcript"}), 422, "attachments"),
        (make_botframework_activity(attachments=[{"name": "Transcript", "content": {"activities": "hello"}}]),
         422, "attachments[0].content.activities"),
        (make_botframework_activity(value={"kind": "vip"}), 422, "value.kind"),
    ],
)
def test_a_broken_or_foreign_activity_is_refused_naming_the_field(activity, status, field):
    error = refused(activity)

    assert (error.status, error.field) == (status, field)


def test_a_mistyped_email_and_too_long_prechat_never_refuse_the_handoff():
    """SPEC 3.4: what the customer typed is cut or left out, with a warning; the handoff goes on."""
    prechat = [{"question": f"Question {i}", "answer": "x" * 3000} for i in range(60)]
    activity = make_botframework_activity(value={"customer": {"email": "not-an-address"}, "prechat": prechat})

    handoff = parse_handoff_initiate(activity)

    assert handoff.customer.email is None
    assert len(handoff.prechat) == 50 and all(len(a.answer) == 2000 and a.answer.endswith("…") for a in handoff.prechat)
    assert handoff.omitted("value.prechat") == 10
    fields = {cut.field for cut in handoff.cuts}
    assert {"value.customer.email", "value.prechat", "value.prechat[0].answer"} <= fields

"""The Slack summary card at a glance, its details modal, lookup, match list and transcript blocks (bot/cards/slack.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from bot.cards import actions as act
from bot.cards.actions import ActionPayload
from bot.cards.slack import (
    render_details_view,
    render_lookup_blocks,
    render_match_list_blocks,
    render_summary_blocks,
    render_transcript_line,
    summary_fallback_text,
)
from decimal import Decimal

from cards_factory import (
    make_engagement,
    CUSTOMER_ID,
    PUBLIC_ID,
    T0,
    assert_valid_blocks,
    assert_valid_view,
    claimed,
    make_candidates,
    make_demo_summary,
    make_multi_match_summary,
    make_no_data_summary,
    make_summary,
    make_timeline,
    walk,
    wrapped,
)


def headings(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and b.get("text", {}).get("type") == "mrkdwn"]


def buttons(blocks: list[dict]) -> dict[str, dict]:
    return {e["action_id"]: e for e in walk(blocks) if e.get("type") in ("button", "static_select")}


def card_actions(blocks: list[dict]) -> list[str]:
    block = next((b for b in blocks if b.get("block_id") == "baton_card_actions"), None)
    return [e["action_id"] for e in block["elements"]] if block else []


def texts(blocks: list[dict]) -> str:
    return "\n".join(node["text"] for node in walk(blocks) if node.get("type") in ("plain_text", "mrkdwn"))


# --- the card in the thread: the first view ------------------------------------------------------


def details(summary) -> list[dict]:
    view = render_details_view(summary)
    assert_valid_view(view)
    return view["blocks"]


def before_details(blocks: list[dict]) -> list[dict]:
    """The blocks up to and with the one holding the *Details* button: what the channel sees first."""
    index = next(i for i, b in enumerate(blocks) if any(e.get("action_id") == "baton_details" for e in b.get("elements", [])))
    return blocks[: index + 1]


def test_matched_card_is_valid_block_kit():
    assert_valid_blocks(render_summary_blocks(make_summary()))


def test_matched_card_starts_with_the_customer_name_as_header():
    blocks = render_summary_blocks(make_summary())

    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Dana Whitfield", "emoji": True}}


def test_the_demo_card_shows_its_first_view_in_at_most_twelve_blocks_before_details():
    blocks = render_summary_blocks(make_demo_summary())

    assert_valid_blocks(blocks)
    assert len(before_details(blocks)) <= 12


def test_every_card_state_fits_its_first_view_in_twelve_blocks():
    for summary in (make_summary(), make_multi_match_summary(150), make_no_data_summary(), claimed(make_summary()),
                    wrapped(make_summary())):
        blocks = render_summary_blocks(summary)
        assert_valid_blocks(blocks)
        assert len(before_details(blocks)) <= 12, summary.state


def test_first_view_says_who_why_the_state_the_issue_and_a_pulse():
    shown = texts(render_summary_blocks(make_demo_summary()))

    assert "Returning customer" in shown and "Whitfield Design Co." in shown and "Tags: trade-account, vip" in shown
    assert "Reason\ncustomer asked for a human" in shown and "Last topic\nOrder status" in shown
    assert "Note from the bot\nCustomer says the parcel arrived damaged." in shown
    assert "What is your order number?\nSO-99812" in shown
    assert "Latest from the customer: “my parcel arrived damaged”" in shown
    assert "Waiting for an agent" in shown and "Queue: billing" in shown
    assert "Issue: CAS-01234 — Parcel arrived damaged (active · High · 2026-11-17 10:00 UTC)" in shown
    assert "Sentiment: Negative (-0.26), damaged 50 %, refund 17 %, late 17 %" in shown
    assert "Engagement: USD 725.75 lifetime, 5 orders, CSAT 3.7 / 5" in shown


def test_first_view_leaves_the_sections_to_details():
    shown = texts(render_summary_blocks(make_demo_summary()))

    for detail in ("Job title", "Safari 17", "CAS-00990", "Note by Marcus Bell", "Orders per month"):
        assert detail not in shown
    assert not headings(render_summary_blocks(make_demo_summary()))


def test_waiting_time_is_a_date_element_slack_draws_in_the_readers_time_zone():
    blocks = render_summary_blocks(make_summary())

    dates = [e for e in walk(blocks) if e.get("type") == "date"]
    assert dates == [{"type": "date", "timestamp": int(T0.timestamp()), "format": "{date_short_pretty} at {time}",
                      "fallback": "2026-11-22 10:00 UTC"}]
    assert "Waiting since " in json.dumps(blocks)


def test_a_claimed_card_says_who_claimed_and_since_when():
    summary = replace(claimed(make_summary(), by="Ana Ortiz"), status_since=T0 + timedelta(minutes=7))

    blocks = render_summary_blocks(summary)

    assert "Claimed by Ana Ortiz" in texts(blocks)
    assert next(e for e in walk(blocks) if e.get("type") == "date")["timestamp"] == int(T0.timestamp()) + 420


def test_the_newest_customer_line_follows_the_summary():
    first = texts(render_summary_blocks(make_summary(newest_customer_line="hello?")))
    later = texts(render_summary_blocks(make_summary(newest_customer_line="still waiting, parcel is broken")))

    assert "“hello?”" in first and "“still waiting, parcel is broken”" in later and "hello?" not in later


def test_glance_setting_chooses_and_orders_the_first_view():
    summary = make_demo_summary(glance=("issue", "who"))

    shown = texts(render_summary_blocks(summary))

    assert shown.index("Issue: CAS-01234") < shown.index("Returning customer")
    assert "Reason" not in shown and "Sentiment" not in shown and "Waiting for an agent" not in shown


def test_sentiment_and_engagement_share_one_line_only_when_they_follow_each_other():
    together = render_summary_blocks(make_summary(glance=("sentiment", "engagement")))
    apart = render_summary_blocks(make_summary(glance=("sentiment", "issue", "engagement")))

    assert any("Sentiment" in t and "Engagement" in t for t in texts(together).split("\n"))
    assert not any("Sentiment" in t and "Engagement" in t for t in texts(apart).split("\n"))


def test_topics_at_zero_percent_are_left_off_the_card_and_the_details():
    summary = make_demo_summary()

    assert "broken" not in texts(render_summary_blocks(summary))
    assert "broken" not in texts(details(summary))
    assert "damaged — 3 of last 6 (50 %)" in texts(details(summary))


def test_first_view_hides_what_the_role_may_not_see():
    blocks = render_summary_blocks(make_summary(visible_sections=frozenset({"profile"})))

    shown = texts(blocks)
    for hidden in ("USD 1,234.50", "Negative", "CAS-01234", "customer asked for a human"):
        assert hidden not in shown


def test_a_card_asked_for_with_a_timeline_filter_also_shows_that_timeline():
    blocks = render_summary_blocks(make_summary(timeline=make_timeline(6), timeline_filter="case"))

    shown = texts(blocks)
    assert "*Timeline, newest first · showing case activities*" in headings(blocks)
    assert "Activity 4" in shown and "Activity 5" not in shown


# --- the details modal ---------------------------------------------------------------------------


def test_details_modal_is_a_valid_view_titled_customer_details():
    view = render_details_view(make_summary())

    assert_valid_view(view)
    assert view["title"]["text"] == "Customer details" and view["callback_id"] == "baton_details"
    assert "submit" not in view


def test_details_shows_the_seven_sections_in_spec_order():
    found = [h.strip("*") for h in headings(details(make_summary()))]

    expected = [
        "Customer profile", "Conversation", "Issue snapshot", "Recent cases", "Timeline", "Sentiment and topics",
        "Engagement",
    ]
    order = [next(i for i, h in enumerate(found) if h.startswith(title)) for title in expected]
    assert order == sorted(order)


def test_sections_setting_orders_the_details():
    found = [h.strip("*") for h in headings(details(make_summary(section_order=("engagement", "profile"))))]

    assert found[0] == "Engagement" and found[1] == "Customer profile"
    assert any(h.startswith("Timeline") for h in found)  # left out of the order, still one click away


def test_profile_fields_and_matched_identities_are_in_details():
    shown = texts(details(make_summary()))

    assert "Job title\nPurchasing lead" in shown
    assert "Preferred channel\nemail" in shown
    assert "email: dana.w@example.com · phone: +14155550123" in shown


def test_conversation_details_show_bot_context_prechat_and_visitor_info():
    shown = texts(details(make_summary()))

    assert "Last topic\nOrder status" in shown
    assert "Note from the bot:\nCustomer says the parcel arrived damaged." in shown
    assert "What is your order number?\nSO-99812" in shown
    assert "Operating system\nWindows 11" in shown
    assert "Page\nhttps://shop.example.com/orders" in shown


def test_topics_read_as_mentions_out_of_recent_interactions():
    shown = texts(details(make_summary()))

    assert "damaged — 3 of last 6 (50 %)" in shown
    assert "Negative (-0.42) across 6 interactions" in shown


def test_engagement_shows_lifetime_value_with_currency_and_csat():
    shown = texts(details(make_summary()))

    assert "Lifetime value\nUSD 1,234.50" in shown
    assert "Satisfaction (CSAT)\n4.2 / 5 (9 responses)" in shown


def test_recent_cases_show_at_most_ten_and_count_the_rest():
    summary = make_summary(recent_cases=tuple(replace(make_summary().issue, number=f"CAS-{i}") for i in range(13)))

    shown = texts(details(summary))

    assert "CAS-9 —" in shown and "CAS-10 —" not in shown
    assert "3 more cases not shown." in shown


def test_sentiment_section_is_absent_without_sentiment():
    assert not any("Sentiment" in h for h in headings(details(make_summary(sentiment=None))))


def test_details_hide_the_sections_the_role_may_not_see():
    blocks = details(make_summary(visible_sections=frozenset({"profile", "conversation"})))

    shown = "\n".join(headings(blocks))
    assert "Customer profile" in shown and "Conversation" in shown
    for hidden in ("Issue snapshot", "Recent cases", "Timeline", "Sentiment", "Engagement"):
        assert hidden not in shown
    assert "USD 1,234.50" not in texts(blocks)
    assert "baton_details_page.all" not in buttons(blocks)


def test_details_for_a_role_that_sees_no_section_say_so():
    blocks = details(make_summary(visible_sections=frozenset()))

    assert "Nothing more to show for your role." in texts(blocks)


def test_details_metadata_says_what_the_modal_shows():
    view = render_details_view(make_summary(), timeline_filter="case")

    assert ActionPayload.from_value(view["private_metadata"]) == ActionPayload(PUBLIC_ID, CUSTOMER_ID, "case", 0)


# --- timeline, in the modal ----------------------------------------------------------------------


def test_timeline_lists_entries_newest_first():
    shown = texts(details(make_summary(timeline=make_timeline(6))))

    assert shown.index("Activity 5") < shown.index("Activity 4") < shown.index("Activity 0")


def test_timeline_filter_in_force_is_named_and_applied():
    blocks = details(make_summary(timeline=make_timeline(6), timeline_filter="case"))

    shown = texts(blocks)
    assert "*Timeline, newest first · showing case activities*" in headings(blocks)
    assert "Activity 4" in shown and "Activity 1" in shown
    assert "Activity 5" not in shown and "Activity 3" not in shown


def test_the_filter_argument_overrides_the_summarys_filter():
    blocks = render_details_view(make_summary(timeline=make_timeline(6)), timeline_filter="conversation")["blocks"]

    assert "*Timeline, newest first · showing conversation activities*" in headings(blocks)


def test_timeline_filter_buttons_in_the_modal_update_the_modal_and_mark_the_active_filter():
    blocks = details(make_summary(timeline_filter="case"))

    filters = next(b for b in blocks if b.get("block_id") == "baton_timeline_filters")["elements"]
    assert [f["action_id"] for f in filters] == [
        "baton_details_page.all", "baton_details_page.customer",
        "baton_details_page.case", "baton_details_page.conversation",
    ]
    assert [f.get("style") for f in filters] == [None, None, "primary", None]
    assert ActionPayload.from_value(filters[3]["value"]) == ActionPayload(PUBLIC_ID, CUSTOMER_ID, "conversation", 0)
    assert act.verb_of_slack_action_id(filters[0]["action_id"]) == act.DETAILS_PAGE


def test_empty_filtered_timeline_still_offers_the_way_back():
    summary = make_summary(timeline=make_timeline(3), timeline_filter="case")
    only_notes = replace(summary, timeline=tuple(e for e in summary.timeline if e.category != "case"))

    blocks = details(only_notes)

    assert "No activities under this filter." in texts(blocks)
    assert "baton_details_page.all" in buttons(blocks)


def test_a_long_timeline_is_paged_within_a_hundred_blocks_a_page():
    summary = make_summary(timeline=make_timeline(250))

    first = render_details_view(summary)
    pages = [render_details_view(summary, page=n) for n in range(3)]

    for view in pages:
        assert_valid_view(view)
    assert "Page 1 of 3" in texts(first["blocks"])
    shown = [texts(v["blocks"]) for v in pages]
    for i in range(50, 250):  # the 200 newest, each on exactly one page
        assert sum(f"Activity {i} —" in page for page in shown) == 1, i
    assert "Activity 49 —" not in "".join(shown) and "50 older entries not shown." in shown[-1]


def test_page_buttons_carry_the_page_and_the_filter():
    view = render_details_view(make_summary(timeline=make_timeline(250)), timeline_filter="all", page=1)

    nav = buttons(view["blocks"])
    previous, following = nav["baton_details_page.previous"], nav["baton_details_page.next"]
    assert ActionPayload.from_value(previous["value"]) == ActionPayload(PUBLIC_ID, CUSTOMER_ID, None, 0)
    assert ActionPayload.from_value(following["value"]) == ActionPayload(PUBLIC_ID, CUSTOMER_ID, None, 2)
    assert "Page 2 of 3" in texts(view["blocks"])


def test_a_page_past_the_end_shows_the_last_page():
    summary = make_summary(timeline=make_timeline(250))

    assert render_details_view(summary, page=99) == render_details_view(summary, page=2)


def test_a_short_modal_has_no_page_buttons():
    blocks = details(make_summary())

    assert "baton_details_page.next" not in buttons(blocks) and "Page 1" not in texts(blocks)


# --- actions and states --------------------------------------------------------------------------


def test_waiting_conversation_offers_claim_note_wrapup_profile_and_details():
    assert card_actions(render_summary_blocks(make_summary())) == [
        "baton_claim", "baton_add_note", "baton_wrap_up", "baton_open_profile", "baton_details",
    ]


def test_every_card_button_carries_the_conversation_public_id():
    for action_id, element in buttons(render_summary_blocks(make_summary())).items():
        assert ActionPayload.from_value(element["value"]).conversation == PUBLIC_ID, action_id


def test_details_button_carries_the_conversation_and_the_customer():
    details_button = buttons(render_summary_blocks(make_summary()))["baton_details"]

    assert act.verb_of_slack_action_id(details_button["action_id"]) == act.DETAILS
    assert ActionPayload.from_value(details_button["value"]) == ActionPayload(PUBLIC_ID, CUSTOMER_ID)


def test_claimed_card_says_who_claimed_it_and_offers_no_claim():
    blocks = render_summary_blocks(claimed(make_summary(), by="Ana Ortiz"))

    assert "Claimed by Ana Ortiz" in texts(blocks)
    assert "baton_claim" not in card_actions(blocks)
    assert "baton_wrap_up" in card_actions(blocks)


def test_wrapped_card_shows_the_wrapup_code_and_neither_claim_nor_wrapup():
    blocks = render_summary_blocks(wrapped(make_summary(), code="resolved"))

    assert "Wrapped up (resolved)" in texts(blocks)
    assert card_actions(blocks) == ["baton_add_note", "baton_open_profile", "baton_details"]


def test_open_profile_is_a_url_button_when_the_summary_has_a_profile_url():
    profile = buttons(render_summary_blocks(make_summary()))["baton_open_profile"]

    assert profile["url"] == "https://baton.example.com/customers/1042?sig=abc"


def test_open_profile_is_an_action_button_without_a_profile_url():
    profile = buttons(render_summary_blocks(make_summary(profile_url=None)))["baton_open_profile"]

    assert "url" not in profile
    assert ActionPayload.from_value(profile["value"]).customer == CUSTOMER_ID


def test_summary_without_conversation_has_no_conversation_actions():
    blocks = render_summary_blocks(make_summary(conversation=None))

    assert_valid_blocks(blocks)
    assert card_actions(blocks) == ["baton_open_profile", "baton_details"]


def test_multi_match_card_offers_a_select_of_the_candidates():
    blocks = render_summary_blocks(make_multi_match_summary(3))

    assert_valid_blocks(blocks)
    select = buttons(blocks)["baton_link_customer"]
    values = [ActionPayload.from_value(o["value"]) for o in select["options"]]
    assert values == [ActionPayload(conversation=PUBLIC_ID, customer=2000 + i) for i in range(3)]
    assert select["options"][1]["text"]["text"] == "Dana Whitfield — Company 1, Austin"


def test_multi_match_card_says_several_customers_share_the_identifier_and_offers_search_and_create():
    blocks = render_summary_blocks(make_multi_match_summary(3))

    assert any("3 customers share this identifier" in h for h in headings(blocks))
    assert {"baton_search_customer", "baton_create_customer"} <= set(buttons(blocks))
    assert "@Baton link #c-7f3a" in texts(blocks)
    assert "baton_open_profile" not in buttons(blocks)


def test_multi_match_select_holds_at_most_100_candidates():
    blocks = render_summary_blocks(make_multi_match_summary(150))

    assert_valid_blocks(blocks)
    assert len(buttons(blocks)["baton_link_customer"]["options"]) == 100


def test_no_data_card_offers_search_and_link_and_create_customer():
    blocks = render_summary_blocks(make_no_data_summary())

    assert_valid_blocks(blocks)
    assert blocks[0]["text"]["text"] == "New customer"
    assert {"baton_search_customer", "baton_create_customer", "baton_claim", "baton_details"} <= set(buttons(blocks))
    assert "baton_link_customer" not in buttons(blocks)
    assert "New — not in the CRM yet" in texts(blocks)
    assert "Identifiers in this handoff" in texts(details(make_no_data_summary()))


def test_fullest_card_and_modal_stay_within_their_limits():
    summary = make_multi_match_summary(
        150, profile=make_summary().profile, issue=make_summary().issue, timeline=make_timeline(300),
        recent_cases=make_summary().recent_cases * 5, sentiment=make_summary().sentiment,
        engagement=make_summary().engagement, prechat=make_summary().prechat * 40,
    )

    blocks = render_summary_blocks(summary)

    assert_valid_blocks(blocks)
    assert len(blocks) <= 12
    assert_valid_view(render_details_view(summary))


# --- fallback, lookup, match list, transcript ----------------------------------------------------


def test_fallback_text_names_the_conversation_and_the_customer():
    assert summary_fallback_text(make_summary()) == (
        "Handoff #c-7f3a from acme-virtual-agent (webchat): Dana Whitfield · Waiting for an agent"
    )


def test_fallback_text_of_a_lookup_names_the_customer():
    assert summary_fallback_text(make_summary(conversation=None)) == "Customer summary: Dana Whitfield"


def test_lookup_blocks_are_compact_and_have_no_conversation_controls():
    blocks = render_lookup_blocks(make_summary())

    assert_valid_blocks(blocks)
    assert card_actions(blocks) == ["baton_open_profile"]
    assert "Pre-chat" not in "\n".join(headings(blocks))
    assert "baton_timeline_filter.all" not in buttons(blocks)
    assert "Activity 0" not in texts(blocks)  # five newest of six


def test_lookup_of_several_customers_answers_with_the_match_list():
    blocks = render_lookup_blocks(make_multi_match_summary(3))

    assert_valid_blocks(blocks)
    assert "baton_show_customer.2001" in buttons(blocks)


def test_match_list_has_one_show_button_per_candidate():
    blocks = render_match_list_blocks(make_candidates(3), "dana")

    assert_valid_blocks(blocks)
    assert blocks[0]["text"]["text"] == "3 customers match “dana”. Pick one:"
    shows = [b["accessory"] for b in blocks[1:]]
    assert [ActionPayload.from_value(s["value"]).customer for s in shows] == [2000, 2001, 2002]
    assert act.verb_of_slack_action_id(shows[0]["action_id"]) == act.SHOW_CUSTOMER


def test_long_match_list_is_cut_and_says_how_many_more_match():
    blocks = render_match_list_blocks(make_candidates(120), "dana")

    assert_valid_blocks(blocks)
    assert blocks[-1]["elements"][0]["text"] == "80 more not shown — narrow the search."


def test_empty_match_list_says_nothing_matches():
    assert render_match_list_blocks((), "zed") == [
        {"type": "section", "text": {"type": "plain_text", "text": "No customer matches “zed”.", "emoji": True}}
    ]


def test_transcript_line_is_attributed_to_the_sender_by_name():
    fallback, blocks = render_transcript_line("Dana Whitfield (customer)", "my parcel arrived damaged")

    assert_valid_blocks(blocks)
    assert fallback == "Dana Whitfield (customer): my parcel arrived damaged"
    assert blocks[0]["elements"][0]["text"] == "Dana Whitfield (customer)"
    assert blocks[1]["text"] == {"type": "plain_text", "text": "my parcel arrived damaged", "emoji": True}


def test_long_transcript_line_is_split_over_sections_without_losing_text():
    words = " ".join(f"w{i}" for i in range(3000))  # about 17,000 characters

    _, blocks = render_transcript_line("Dana", words)

    assert_valid_blocks(blocks)
    assert len(blocks) > 6
    assert " ".join(b["text"]["text"] for b in blocks[1:]).split() == words.split()


def test_empty_transcript_line_still_has_a_text():
    fallback, blocks = render_transcript_line("", "  ")

    assert_valid_blocks(blocks)
    assert fallback == "Unknown sender: (no text)"
    assert blocks[1]["text"]["text"] == "(no text)"


def test_rendering_is_pure_the_same_summary_gives_the_same_blocks():
    summary = make_summary()

    assert json.dumps(render_summary_blocks(summary)) == json.dumps(render_summary_blocks(summary))


def test_lifetime_value_is_shown_per_currency_never_summed():
    two = (("EUR", Decimal("300.00")), ("USD", Decimal("1175.00")))
    summary = make_summary(engagement=make_engagement(lifetime_values=two))

    assert "Lifetime value\nEUR 300.00 · USD 1,175.00" in texts(details(summary))
    assert "EUR 300.00 · USD 1,175.00 lifetime" in texts(render_summary_blocks(summary))
    assert "1,475" not in texts(details(summary)) + texts(render_summary_blocks(summary))

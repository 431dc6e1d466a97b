"""The Teams Adaptive Cards: summary card, lookup, match list and attachment (bot/cards/teams.py)."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.cards import actions as act
from bot.cards.actions import ActionPayload
from bot.cards.teams import (
    card_attachment,
    render_lookup_card,
    render_match_list_card,
    render_summary_card,
)
from decimal import Decimal

from cards_factory import (
    make_engagement,
    CUSTOMER_ID,
    PUBLIC_ID,
    assert_valid_card,
    card_errors,
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


def card_verbs(card: dict) -> list[str]:
    return [a.get("verb") or a["type"] for a in card.get("actions", [])]


def executes(card: dict) -> list[dict]:
    return [node for node in walk(card) if node.get("type") == "Action.Execute"]


def shown(card: dict) -> str:
    """Every text a reader can see once the sections are open: runs, blocks and facts (word joiners dropped)."""
    out = []
    for node in walk(card):
        if node.get("type") in ("TextRun", "TextBlock"):
            out.append(node["text"])
        elif node.get("type") == "FactSet":
            out += [f"{fact['title']}: {fact['value']}" for fact in node["facts"]]
    return "\n".join(out).replace("\u2060", "")


def glance(card: dict) -> str:
    """What shows before any section is opened: everything outside the hidden containers."""
    def visible(node):
        if isinstance(node, dict):
            if node.get("isVisible") is False:
                return None
            return {k: visible(v) for k, v in node.items()}
        if isinstance(node, list):
            return [visible(v) for v in node]
        return node
    return shown(visible(card))


def section_bodies(card: dict) -> dict[str, dict]:
    return {n["id"].removeprefix("baton-section-"): n for n in walk(card) if str(n.get("id", "")).startswith("baton-section-")}


def headings(card: dict) -> list[str]:
    return [node["text"] for node in walk(card) if node.get("type") == "TextBlock"]


# --- validity ------------------------------------------------------------------------------------


def test_matched_card_is_a_valid_adaptive_card_1_5():
    assert_valid_card(render_summary_card(make_summary()))


def test_the_schema_check_rejects_a_broken_card():
    card = render_summary_card(make_summary())
    card["body"].append({"type": "TextBlock"})  # text is required

    assert card_errors(card) != []


def test_every_execute_action_has_a_submit_fallback_with_the_same_data():
    for action in executes(render_summary_card(make_multi_match_summary())):
        assert action["fallback"]["type"] == "Action.Submit"
        assert action["fallback"]["data"] == action["data"]
        assert action["data"][act.TEAMS_VERB_KEY] == action["verb"]


def test_every_action_carries_the_conversation_public_id():
    for action in executes(render_summary_card(make_summary())):
        assert ActionPayload.from_data(action["data"]).conversation == PUBLIC_ID, action["verb"]


def test_card_attachment_wraps_the_card_with_the_adaptive_content_type():
    card = render_summary_card(make_summary())

    assert card_attachment(card) == {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}


# --- content -------------------------------------------------------------------------------------


def test_sections_follow_the_spec_order():
    found = headings(render_summary_card(make_summary()))

    expected = [
        "Customer profile", "Conversation", "Issue snapshot", "Recent cases", "Timeline", "Sentiment and topics",
        "Engagement",
    ]
    order = [next(i for i, h in enumerate(found) if h.startswith(title)) for title in expected]
    assert order == sorted(order)


def test_label_value_pairs_are_fact_sets():
    card = render_summary_card(make_summary())

    facts = [f for n in walk(card) if n.get("type") == "FactSet" for f in n["facts"]]
    assert {"title": "Job title", "value": "Purchasing lead"} in facts
    assert {"title": "What is your order number?", "value": "SO-99812"} in facts


def test_sections_start_collapsed_under_a_header_that_toggles_them():
    card = render_summary_card(make_summary())

    bodies = section_bodies(card)
    assert list(bodies) == ["profile", "conversation", "issue", "recent_cases", "timeline", "sentiment", "engagement"]
    assert all(body["isVisible"] is False for body in bodies.values())
    toggles = [n["selectAction"] for n in walk(card) if n.get("selectAction", {}).get("type") == "Action.ToggleVisibility"]
    assert [t["targetElements"][0] for t in toggles] == [f"baton-section-{name}" for name in bodies]


def test_element_ids_are_unique_and_every_toggle_targets_one():
    card = render_summary_card(make_summary())

    ids = [n["id"] for n in walk(card) if "id" in n and n.get("type") not in ("Input.Text", "Input.ChoiceSet")]
    assert len(ids) == len(set(ids))
    for node in walk(card):
        if node.get("type") == "Action.ToggleVisibility":
            assert set(node["targetElements"]) <= set(ids)


def test_the_first_view_shows_who_why_the_state_the_issue_and_a_pulse_and_no_section():
    text = glance(render_summary_card(make_demo_summary()))

    for fact in ("Dana Whitfield", "Returning customer", "Whitfield Design Co.", "Tags: trade-account, vip",
                 "Reason: customer asked for a human", "Last topic: Order status", "What is your order number?: SO-99812",
                 "“my parcel arrived damaged”", "Waiting for an agent", "Queue: billing",
                 "Issue: CAS-01234 — Parcel arrived damaged", "Sentiment: Negative (-0.26)", "USD 725.75 lifetime"):
        assert fact in text, fact
    for detail in ("Job title", "Safari 17", "CAS-00990", "Note by Marcus Bell", "Orders per month"):
        assert detail not in text, detail


def test_waiting_time_uses_teams_date_and_time_functions():
    card = render_summary_card(make_summary())

    assert "Waiting since {{DATE(2026-11-22T10:00:00Z, SHORT)}} {{TIME(2026-11-22T10:00:00Z)}}" in headings(card)


def test_a_card_with_a_timeline_filter_opens_the_timeline():
    card = render_summary_card(make_summary(timeline_filter="case"))

    assert section_bodies(card)["timeline"]["isVisible"] is True
    assert section_bodies(card)["profile"]["isVisible"] is False


def test_expanded_opens_the_named_sections():
    card = render_summary_card(make_summary(), expanded={"profile", "engagement"})

    assert {name for name, body in section_bodies(card).items() if body["isVisible"]} == {"profile", "engagement"}


def test_sections_setting_orders_the_sections():
    card = render_summary_card(make_summary(section_order=("engagement", "timeline")))

    assert list(section_bodies(card))[:3] == ["engagement", "timeline", "profile"]


def test_topics_at_zero_percent_are_left_off():
    text = shown(render_summary_card(make_demo_summary()))

    assert "broken" not in text and "damaged — 3 of last 6 (50 %)" in text


def test_hostile_markdown_in_a_fact_is_inert():
    summary = make_summary(profile=replace(make_summary().profile, job_title="**boss** _x_ [a](https://e.example)\n# h"))

    fact = next(f for n in walk(render_summary_card(summary)) if n.get("type") == "FactSet" for f in n["facts"]
                if f["title"] == "Job title")
    assert "**" not in fact["value"] and "](" not in fact["value"] and "\n#" not in fact["value"]
    assert fact["value"].replace("\u2060", "") == "∗∗boss∗∗ _x_ [a](https://e.example)\n# h"


def test_topics_and_engagement_are_shown():
    text = shown(render_summary_card(make_summary()))

    assert "damaged — 3 of last 6 (50 %)" in text
    assert "USD 1,234.50" in text


def test_timeline_is_newest_first_under_the_filter_in_force():
    card = render_summary_card(make_summary(timeline=make_timeline(6), timeline_filter="conversation"))

    text = shown(card)
    assert "Timeline, newest first · showing conversation activities" in headings(card)
    assert text.index("Activity 5") < text.index("Activity 2")
    assert "Activity 4" not in text


def test_active_timeline_filter_is_disabled_and_the_others_carry_their_filter():
    card = render_summary_card(make_summary(timeline_filter="case"))

    filters = [a for a in executes(card) if a["verb"] == act.TIMELINE_FILTER]
    assert [a["data"]["filter"] for a in filters] == ["all", "customer", "case", "conversation"]
    assert [a.get("isEnabled", True) for a in filters] == [True, True, False, True]


def test_sentiment_is_absent_without_sentiment():
    assert not any("Sentiment" in h for h in headings(render_summary_card(make_summary(sentiment=None))))


def test_sections_hidden_from_the_role_are_not_rendered():
    card = render_summary_card(make_summary(visible_sections=frozenset({"conversation"})))

    assert_valid_card(card)
    assert "Customer profile" not in headings(card)
    assert "Purchasing lead" not in shown(card)
    assert "What is your order number?: SO-99812" in shown(card)
    assert "USD 1,234.50" not in shown(card) and "Issue:" not in shown(card)


# --- actions and states --------------------------------------------------------------------------


def test_waiting_conversation_offers_claim_note_wrapup_and_a_profile_link():
    card = render_summary_card(make_summary())

    assert card_verbs(card) == ["claim", "add_note", "wrap_up", "Action.OpenUrl"]
    assert card["actions"][-1]["url"] == "https://baton.example.com/customers/1042?sig=abc"


def test_open_profile_is_an_execute_action_without_a_profile_url():
    card = render_summary_card(make_summary(profile_url=None))

    profile = card["actions"][-1]
    assert profile["verb"] == act.OPEN_PROFILE
    assert ActionPayload.from_data(profile["data"]).customer == CUSTOMER_ID


def test_claimed_card_says_who_claimed_it_and_offers_no_claim():
    card = render_summary_card(claimed(make_summary(), by="Ana Ortiz"))

    assert "Claimed by Ana Ortiz" in shown(card)
    # At most 6 actions (Teams' limit): the case's close and cancel are in the "Case…" form.
    assert card_verbs(card) == ["add_note", "wrap_up", "Action.OpenUrl", "transfer", "unclaim", "case_priority"]
    # The claimed card's menu: secondary actions, which Teams shows under "…".
    assert [a.get("mode") for a in card["actions"]][-3:] == ["secondary"] * 3


def test_wrapped_card_shows_the_wrapup_code_and_neither_claim_nor_wrapup():
    card = render_summary_card(wrapped(make_summary(), code="no_response"))

    assert "Wrapped up (no_response)" in shown(card)
    assert card_verbs(card) == ["add_note", "Action.OpenUrl"]


def test_summary_without_conversation_has_no_conversation_actions():
    card = render_summary_card(make_summary(conversation=None, profile_url=None))

    assert_valid_card(card)
    assert card_verbs(card) == ["open_profile"]


def test_multi_match_card_offers_a_choice_of_the_candidates_to_link():
    card = render_summary_card(make_multi_match_summary(3))

    assert_valid_card(card)
    choice = next(n for n in walk(card) if n.get("type") == "Input.ChoiceSet")
    assert choice["id"] == act.TEAMS_INPUT_CUSTOMER
    assert [c["value"] for c in choice["choices"]] == ["2000", "2001", "2002"]
    link = next(a for a in executes(card) if a["verb"] == act.LINK_CUSTOMER)
    submitted = {**link["data"], choice["id"]: choice["choices"][1]["value"]}  # Teams merges inputs into data
    assert ActionPayload.from_data(submitted) == ActionPayload(conversation=PUBLIC_ID, customer=2001)


def test_multi_match_card_offers_search_and_create_new():
    card = render_summary_card(make_multi_match_summary(3))

    assert "3 customers share this identifier" in shown(card)
    assert {a["verb"] for a in executes(card)} >= {act.SEARCH_CUSTOMER, act.CREATE_CUSTOMER}
    assert any(n.get("id") == act.TEAMS_INPUT_QUERY for n in walk(card))


def test_no_data_card_offers_search_and_link_and_create_customer():
    card = render_summary_card(make_no_data_summary())

    assert_valid_card(card)
    verbs = {a["verb"] for a in executes(card)}
    assert {act.SEARCH_CUSTOMER, act.CREATE_CUSTOMER, act.CLAIM} <= verbs
    assert act.LINK_CUSTOMER not in verbs and act.OPEN_PROFILE not in verbs


# --- size ----------------------------------------------------------------------------------------


def test_a_card_over_40_kb_drops_timeline_entries_first():
    hebrew = "ש" * 1500  # six bytes each as JSON (\u05e9)
    timeline = tuple(replace(e, detail=hebrew) for e in make_timeline(40))
    conversation = make_summary().conversation
    note = replace(conversation, bot=replace(conversation.bot, agent_message=hebrew))
    summary = make_summary(timeline=timeline, conversation=note)

    card = render_summary_card(summary)

    assert_valid_card(card)
    assert "Shortened to fit the Teams card size; open the profile for everything." in shown(card)
    assert "Purchasing lead" in shown(card)  # the profile survives
    assert "Activity 32 " in shown(card) and "Activity 31 " not in shown(card)


def test_a_card_that_fits_is_not_shortened():
    assert "Shortened" not in shown(render_summary_card(make_summary()))


def test_a_huge_multi_match_still_fits_in_40_kb():
    many = tuple(replace(c, display_name="🦊" * 200, hint="ה" * 500) for c in make_candidates(500))

    card = render_summary_card(make_multi_match_summary(candidates=many))

    assert_valid_card(card)


# --- lookup and match list -----------------------------------------------------------------------


def test_lookup_card_has_no_conversation_controls():
    card = render_lookup_card(make_summary())

    assert_valid_card(card)
    assert card_verbs(card) == ["Action.OpenUrl"]
    assert not any(a["verb"] == act.TIMELINE_FILTER for a in executes(card))
    assert "Pre-chat" not in headings(card)


def test_lookup_of_nobody_says_so():
    card = render_lookup_card(make_no_data_summary())

    assert_valid_card(card)
    assert "No customer matches." in shown(card)


def test_match_list_card_lets_the_caller_pick_one_customer():
    card = render_match_list_card(make_candidates(3), "dana")

    assert_valid_card(card)
    assert "3 customers match “dana”. Pick one:" in shown(card)
    assert [c["value"] for c in next(n for n in walk(card) if n.get("type") == "Input.ChoiceSet")["choices"]] == [
        "2000", "2001", "2002",
    ]
    assert card_verbs(card) == [act.SHOW_CUSTOMER]


def test_lookup_of_several_customers_answers_with_the_match_list():
    card = render_lookup_card(make_multi_match_summary(2))

    assert card_verbs(card) == [act.SHOW_CUSTOMER]


def test_empty_match_list_card_is_valid_and_says_nothing_matches():
    card = render_match_list_card((), "zed")

    assert_valid_card(card)
    assert "No customer matches “zed”." in shown(card)


def test_rendering_is_pure_the_same_summary_gives_the_same_card():
    summary = make_summary()

    assert json.dumps(render_summary_card(summary)) == json.dumps(render_summary_card(summary))


def test_lifetime_value_is_shown_per_currency_never_summed():
    two = (("EUR", Decimal("300.00")), ("USD", Decimal("1175.00")))
    text = shown(render_summary_card(make_summary(engagement=make_engagement(lifetime_values=two))))

    assert "EUR 300.00 · USD 1,175.00" in text and "1,475" not in text

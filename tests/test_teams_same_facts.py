"""The same handoff gives the same facts in Slack and in Teams: one CustomerSummary, both renderers.

Compared over the expanded views: the Slack card with its details modal, the Teams card with every
section (collapsed sections are in the card, only hidden)."""

from __future__ import annotations

import json

import pytest

from bot import cards
from bot.cards import slack as slack_cards
from bot.cards import teams as teams_cards
from bot.cards.text import SLACK_BUDGET
from tests.cards_factory import make_demo_summary, make_multi_match_summary, make_no_data_summary, make_summary

FACTS = [
    "Dana Whitfield",  # customer name
    "Whitfield Outdoor",  # company
    "CAS-01234",  # the linked case
    "Parcel arrived damaged",  # its title
    "CAS-01100",  # a recent case
    "Negative (-0.42)",  # sentiment
    "damaged — 3 of last 6 (50 %)",  # a topic phrase and its share
    "Firefox 133",  # visitor browser
    "Windows 11",  # visitor operating system
    "Austin, US",  # visitor location
    "SO-99812",  # pre-chat answer / last order
    "What is your order number?",
    "Order status",  # the bot's last topic
    "dana.w@example.com",  # a matched identity
    "Activity 5",  # newest timeline entry
]


def _texts(node) -> str:
    """Every string in a rendered payload, joined (so escaping differences do not matter to `in`)."""
    out = []

    def walk(value):
        if isinstance(value, str):
            out.append(value.replace("\u2060", ""))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(node)
    return "\n".join(out)


def slack_expanded(summary) -> str:
    return _texts(slack_cards.render_summary_blocks(summary)) + "\n" + _texts(slack_cards.render_details_view(summary))


def full_card_facts(summary) -> list[str]:
    """Every value the full card showed before the first view existed (the Slack budget of that card)."""
    c, b = summary.conversation, SLACK_BUDGET
    rows = cards.profile_rows(summary.profile) + cards.identity_rows(summary) + cards.conversation_rows(c)
    rows += cards.bot_rows(c.bot) + cards.visitor_rows(summary.visitor) + cards.case_rows(summary.issue)
    rows += [(a.question, a.answer) for a in summary.prechat[: b.prechat]]
    rows += cards.sentiment_rows(summary.sentiment, b.topics) + cards.engagement_rows(summary.engagement)
    values = [value for _, value in rows] + [c.bot.agent_message]
    values += [cards.case_line(case) for case in summary.recent_cases[: b.cases]]
    values += [cards.timeline_line(e, with_time=False) for e in cards.timeline_entries(summary)[: b.timeline]]
    return values


@pytest.mark.parametrize("fact", FACTS)
def test_a_fact_of_the_summary_shows_on_both_platforms(fact):
    summary = make_summary()
    slack = slack_expanded(summary)
    teams = _texts(teams_cards.render_summary_card(summary))

    assert fact in slack, f"{fact!r} missing in Slack"
    assert fact in teams, f"{fact!r} missing in Teams"


def test_every_fact_of_the_full_card_is_in_the_details_and_the_collapsed_sections():
    summary = make_demo_summary()
    slack = slack_expanded(summary)
    teams = _texts(teams_cards.render_summary_card(summary))

    for fact in full_card_facts(summary):
        assert fact in slack, f"{fact!r} missing in the Slack details"
        assert fact in teams, f"{fact!r} missing in the Teams sections"


def test_both_platforms_offer_the_same_card_actions():
    summary = make_summary()
    slack = json.dumps(slack_cards.render_summary_blocks(summary))
    teams = json.dumps(teams_cards.render_summary_card(summary))
    for verb in ("claim", "add_note", "wrap_up"):
        assert verb in slack and verb in teams
    # The timeline filters: in the Slack modal (which updates the modal), in the Teams card's timeline.
    assert "details" in slack and "details_page" in json.dumps(slack_cards.render_details_view(summary))
    assert "timeline_filter" in teams


def test_a_multi_match_lists_the_same_candidates_on_both_platforms():
    summary = make_multi_match_summary(3)
    slack = slack_expanded(summary)
    teams = _texts(teams_cards.render_summary_card(summary))
    for candidate in summary.candidates:
        assert candidate.hint in slack and candidate.hint in teams
    assert "3 customers" in slack and "3 customers" in teams


def test_a_no_data_card_offers_search_and_create_on_both_platforms():
    summary = make_no_data_summary()
    slack = json.dumps(slack_cards.render_summary_blocks(summary))
    teams = json.dumps(teams_cards.render_summary_card(summary))
    for verb in ("search_customer", "create_customer"):
        assert verb in slack and verb in teams

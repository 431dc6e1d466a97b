"""The same handoff gives the same facts in Slack and in Teams: one CustomerSummary, both renderers."""

from __future__ import annotations

import json

import pytest

from bot.cards import slack as slack_cards
from bot.cards import teams as teams_cards
from tests.cards_factory import make_multi_match_summary, make_no_data_summary, make_summary

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


@pytest.mark.parametrize("fact", FACTS)
def test_a_fact_of_the_summary_shows_on_both_platforms(fact):
    summary = make_summary()
    slack = _texts(slack_cards.render_summary_blocks(summary))
    teams = _texts(teams_cards.render_summary_card(summary))

    assert fact in slack, f"{fact!r} missing in Slack"
    assert fact in teams, f"{fact!r} missing in Teams"


def test_both_platforms_offer_the_same_card_actions():
    summary = make_summary()
    slack = json.dumps(slack_cards.render_summary_blocks(summary))
    teams = json.dumps(teams_cards.render_summary_card(summary))
    for verb in ("claim", "add_note", "wrap_up", "timeline_filter"):
        assert verb in slack and verb in teams


def test_a_multi_match_lists_the_same_candidates_on_both_platforms():
    summary = make_multi_match_summary(3)
    slack = _texts(slack_cards.render_summary_blocks(summary))
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

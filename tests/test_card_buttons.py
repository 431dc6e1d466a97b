"""One list of card buttons (bot/cards/buttons.py) drawn by both renderers: Slack and Teams offer the same
verbs in the same order, within each platform's limits."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.cards import actions as act
from bot.cards.buttons import card_buttons
from bot.cards.slack import render_summary_blocks
from bot.cards.teams import TEAMS_MAX_CARD_ACTIONS, render_summary_card

from cards_factory import assert_valid_card, claimed, make_summary, walk, wrapped


def slack_verbs(blocks: list[dict]) -> list[str]:
    """The card's buttons, then the verbs its overflow menu's options name, as Slack sends them back."""
    block = next(b for b in blocks if b.get("block_id") == "baton_card_actions")
    verbs = []
    for element in block["elements"]:
        if element["type"] == "overflow":
            verbs += [act.verb_of_slack_action(element["action_id"], o["value"]) for o in element["options"]]
        else:
            verbs.append(act.verb_of_slack_action_id(element["action_id"]))
    return verbs


def teams_verbs(card: dict) -> list[str]:
    return [a.get("verb") or ("open_profile" if a["type"] == "Action.OpenUrl" else a["type"]) for a in card["actions"]]


STATES = {
    "queued": lambda s: s,
    "claimed": lambda s: claimed(s, by="Ana Ortiz"),
    "wrapped": lambda s: wrapped(s, code="resolved"),
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("full_page", [False, True])
@pytest.mark.parametrize("profile_url", [None, "https://crm.example.com/c/1"])
def test_slack_draws_every_button_of_the_list_in_its_order(state, full_page, profile_url):
    summary = STATES[state](replace(make_summary(profile_url=profile_url), full_page=full_page))

    expected = [b.verb for b in card_buttons(summary, details=True)]
    assert slack_verbs(render_summary_blocks(summary)) == expected
    assert act.OPEN_PAGE in expected if full_page else act.OPEN_PAGE not in expected


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("full_page", [False, True])
@pytest.mark.parametrize("profile_url", [None, "https://crm.example.com/c/1"])
def test_teams_draws_the_same_list_within_six_actions(state, full_page, profile_url):
    summary = STATES[state](replace(make_summary(profile_url=profile_url), full_page=full_page))

    card = render_summary_card(summary)
    assert_valid_card(card)
    assert len(card["actions"]) <= TEAMS_MAX_CARD_ACTIONS
    assert teams_verbs(card) == [b.verb for b in card_buttons(summary, max_actions=6, collapse_groups=True)]


def test_a_claimed_card_with_a_case_and_the_full_page_keeps_every_verb_on_slack_and_fits_teams():
    summary = claimed(replace(make_summary(profile_url=None), full_page=True), by="Ana Ortiz")

    slack = slack_verbs(render_summary_blocks(summary))
    assert {act.CASE_PRIORITY, act.CASE_CLOSE, act.CASE_CANCEL, act.TRANSFER, act.UNCLAIM, act.OPEN_PAGE} <= set(slack)
    teams = render_summary_card(summary)
    # Six actions: the case's three verbs collapse into "Case…", and the full page (optional) gives way.
    assert teams_verbs(teams) == ["add_note", "wrap_up", "open_profile", "transfer", "unclaim", "case_priority"]
    assert [a["title"] for a in teams["actions"]][-1] == "Case…"


def test_the_menu_is_slacks_overflow_and_teams_secondary_actions():
    summary = claimed(make_summary(), by="Ana Ortiz")

    menu = [b.verb for b in card_buttons(summary) if b.menu]
    blocks = render_summary_blocks(summary)
    overflow = next(e for e in walk(blocks) if e.get("type") == "overflow")
    assert [json.loads(o["value"])["verb"] for o in overflow["options"]] == menu
    secondary = [a["verb"] for a in render_summary_card(summary)["actions"] if a.get("mode") == "secondary"]
    assert secondary == [v for v in menu if v not in (act.CASE_CLOSE, act.CASE_CANCEL)]


def test_a_forged_menu_value_naming_no_verb_is_ignored():
    assert act.verb_of_slack_action("baton_menu", json.dumps({"verb": "drop_tables"})) is None
    assert act.verb_of_slack_action("baton_menu", json.dumps({"verb": "menu"})) is None
    assert act.verb_of_slack_action("baton_menu", "not json") is None

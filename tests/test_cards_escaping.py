"""Untrusted text is escaped and cut in one place (bot/cards/text.py), and every card stays safe and valid."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from bot.cards.slack import (
    render_details_view,
    render_lookup_blocks,
    render_match_list_blocks,
    render_summary_blocks,
    render_transcript_line,
    summary_fallback_text,
)
from bot.cards.teams import render_lookup_card, render_match_list_card, render_summary_card
from bot.cards.terminal import render_terminal
from bot.cards.text import (
    ELLIPSIS,
    WORD_JOINER,
    chunks,
    clean,
    fit,
    teams_fact,
    measure,
    slack_escape,
    slack_literal,
    slack_plain,
    teams_text,
)
from cards_factory import (
    assert_valid_blocks,
    assert_valid_card,
    assert_valid_view,
    claimed,
    make_hostile_summary,
    walk,
)

MARK = "ZQX"  # in every hostile value, to find where untrusted text landed
HOSTILE = {
    "slack_broadcasts": f"{MARK} <!channel> <!here> <!everyone> @here @channel @everyone hi",
    "slack_mentions": f"{MARK} <@U123> <@U123|boss> <!subteam^S1> <#C123> <!date^1392734382^{{date}}|x>",
    "links": f"{MARK} <https://evil.example|click> [click](https://evil.example) <https://evil.example> [x][1]",
    "formatting": f"{MARK} *bold* _italic_ ~strike~ `code` ```block``` **strong** # title",
    "quote_and_lists": f"{MARK}\n> quoted\n- item\n+ item\n1. item\n\\*escaped\\*",
    "teams_mention": f"{MARK} <at>Everyone</at> <b>bold</b>",
    "long": f"{MARK} " + "a" * 10_000,
    "long_escapes": f"{MARK} " + "<&>" * 4_000,
    "emoji": f"{MARK} " + "👩‍👩‍👧‍👦🇫🇷😀👍🏽" * 2_000,
    "rtl": f"{MARK} " + "مرحبا بالعالم שלום עולם " * 500,
    "controls": f"{MARK} \u202eevil\u202c \x00\x07\x1b[31m \ud83d end",
}
SLACK_FORBIDDEN = ("<!", "<@", "<#", "<https://evil", "@here", "@channel", "@everyone", "\u202e", "\x00", "\ud83d")
TEAMS_FORBIDDEN = (
    "[click](", "](https", "[x][1]", "<at>", "<https://evil", "<!channel>", "<@U", "<b>", "\u202e", "\x00",
)
STATES = ("matched", "multi_match", "no_data")


def as_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- the helpers ---------------------------------------------------------------------------------


def test_slack_escape_replaces_the_three_control_characters():
    assert slack_escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"


def test_slack_escape_defuses_at_words_but_leaves_email_addresses_alone():
    assert slack_escape("@here hi @dana, mail dana@example.com") == (
        f"@{WORD_JOINER}here hi @{WORD_JOINER}dana, mail dana@example.com"
    )


def test_slack_literal_breaks_every_formatting_pair_and_leading_quote():
    out = slack_literal("*bold* _it_ ~s~ `c`\n> quote", 3000)

    for pair in ("*bold*", "_it_", "~s~", "`c`"):
        assert pair not in out
    assert out.replace(WORD_JOINER, "") == "*bold* _it_ ~s~ `c`\n&gt; quote"
    assert "\n&gt;" not in out


def test_teams_text_breaks_links_and_mentions_invisibly():
    out = teams_text("[click](https://evil.example) <at>x</at>", 500)

    assert "](" not in out and "<at>" not in out
    assert out.replace(WORD_JOINER, "") == "[click](https://evil.example) <at>x</at>"


def test_clean_drops_controls_and_bidi_overrides_and_replaces_lone_surrogates():
    assert clean(" a\u202eb\u2066c\x00d\x1be\ud83df\r\ng ") == "abcde\ufffdf\ng"


def test_clean_keeps_right_to_left_text_and_emoji():
    assert clean("שלום مرحبا 👩‍👩‍👧") == "שלום مرحبا 👩‍👩‍👧"


def test_fit_leaves_short_text_alone():
    assert fit("short", 10) == "short"


def test_fit_cuts_long_text_with_an_ellipsis_within_the_limit():
    out = fit("a" * 10_000, 3000)

    assert measure(out) == 3000
    assert out.endswith(ELLIPSIS)


def test_fit_never_splits_an_escaped_entity():
    out = slack_plain("<" * 100, 10)

    assert out == "&lt;&lt;" + ELLIPSIS


def test_fit_counts_emoji_as_two_utf16_units():
    out = fit("😀" * 100, 11)

    assert out == "😀" * 5 + ELLIPSIS


@pytest.mark.parametrize(
    "grapheme",
    ["👩‍👩‍👧‍👦", "🇫🇷", "👍🏽", "é", "❤️"],  # ZWJ family, flag, skin tone, e + combining acute, heart + VS16
)
def test_fit_never_splits_a_grapheme(grapheme):
    text = "ab" + grapheme * 20
    for limit in range(3, 40):
        kept = fit(text, limit)[: -len(ELLIPSIS)]
        assert kept[2:] == grapheme * ((len(kept) - 2) // len(grapheme)), (limit, kept)


def test_fit_cuts_zalgo_text_instead_of_dropping_it():
    out = fit("a" + "\u0301" * 5_000, 100)

    assert measure(out) <= 100 and out.startswith("a\u0301")


def test_chunks_split_at_spaces_and_keep_every_word():
    text = " ".join(["word"] * 2_000)

    pieces = chunks(text, 100, 200)

    assert all(measure(p) <= 100 for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_chunks_stop_at_the_maximum_and_end_with_an_ellipsis():
    pieces = chunks("x" * 1_000, 100, 3)

    assert len(pieces) == 3 and pieces[-1].endswith(ELLIPSIS)


# --- hostile text in every untrusted field -------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_text_in_every_field_keeps_slack_blocks_valid_and_inert(kind, state):
    summary = claimed(make_hostile_summary(HOSTILE[kind], state=state), by=HOSTILE[kind])

    for blocks in (render_summary_blocks(summary), render_lookup_blocks(summary)):
        assert_valid_blocks(blocks)
        rendered = as_json(blocks)
        assert MARK in rendered
        for forbidden in SLACK_FORBIDDEN:
            assert forbidden not in rendered
        for node in walk(blocks):
            if node.get("type") == "mrkdwn":
                assert MARK not in node["text"], "untrusted text must only go into plain_text"


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_text_in_every_field_keeps_the_details_modal_valid_and_inert(kind, state):
    summary = claimed(make_hostile_summary(HOSTILE[kind], state=state, timeline=250), by=HOSTILE[kind])

    for page in range(3):
        view = render_details_view(summary, timeline_filter=HOSTILE[kind][:40], page=page)
        assert_valid_view(view)
        rendered = as_json(view)
        assert MARK in rendered
        for forbidden in SLACK_FORBIDDEN:
            assert forbidden not in rendered
        for node in walk(view):
            if node.get("type") in ("mrkdwn", "text", "date"):  # Baton's own words: mrkdwn and rich_text
                assert MARK not in node.get("text", ""), "untrusted text must only go into plain_text"


def test_teams_fact_breaks_links_mentions_and_formatting_but_keeps_the_text():
    out = teams_fact("*b* _i_ ~~s~~ `c` [x](https://e.example) <at>y</at>\n# h\n- l\n1. n", 500)

    for markup in ("*", "`", "](", "<at>", " _i", "~~", "\n#", "\n-", "\n1."):
        assert markup not in out
    assert out.replace(WORD_JOINER, "") == "∗b∗ _i_ ~~s~~ ˋcˋ [x](https://e.example) <at>y</at>\n# h\n- l\n1. n"


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_text_in_the_fallback_text_is_literal_and_short(kind):
    summary = make_hostile_summary(HOSTILE[kind])

    text = summary_fallback_text(summary)

    assert 0 < len(text) <= 3000
    for forbidden in (*SLACK_FORBIDDEN, "*bold*", "_italic_", "`code`", "\n&gt;"):
        assert forbidden not in text


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_transcript_line_is_valid_and_inert(kind):
    fallback, blocks = render_transcript_line(HOSTILE[kind], HOSTILE[kind])

    assert_valid_blocks(blocks)
    for forbidden in SLACK_FORBIDDEN:
        assert forbidden not in as_json(blocks) and forbidden not in fallback


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_match_list_and_query_stay_valid_and_inert(kind):
    candidates = make_hostile_summary(HOSTILE[kind], state="multi_match").candidates

    blocks = render_match_list_blocks(candidates, HOSTILE[kind])
    card = render_match_list_card(candidates, HOSTILE[kind])

    assert_valid_blocks(blocks)
    assert_valid_card(card)
    assert not any(f in as_json(blocks) for f in SLACK_FORBIDDEN)
    assert not any(f in as_json(card) for f in TEAMS_FORBIDDEN)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_text_in_every_field_keeps_the_teams_card_valid_small_and_inert(kind, state):
    summary = claimed(make_hostile_summary(HOSTILE[kind], state=state), by=HOSTILE[kind])

    for card in (render_summary_card(summary), render_lookup_card(summary)):
        assert_valid_card(card)
        rendered = as_json(card)
        assert MARK in rendered
        for forbidden in TEAMS_FORBIDDEN:
            assert forbidden not in rendered
        for node in walk(card):
            if node.get("type") == "TextBlock":  # the markdown-reading element
                assert MARK not in node["text"], "untrusted text must only go into TextRuns"


@pytest.mark.parametrize("kind", ["formatting", "long", "rtl", "controls"])
def test_terminal_output_shows_hostile_text_literally(kind):
    summary = make_hostile_summary("[bold red]x[/bold red] " + HOSTILE[kind])
    console = Console(width=120, record=True, color_system=None)

    console.print(render_terminal(summary))

    output = console.export_text()
    assert "[bold red]x" in output
    assert "\u202e" not in output

"""A reply over 1,600 characters goes as numbered parts, cut at words, never inside an emoji."""

from __future__ import annotations

import re

import pytest

from bot.sms.split import split_reply, utf16_length

NUMBER = re.compile(r"^\((\d+)/(\d+)\) ")


def _unnumbered(parts: list[str]) -> list[str]:
    return [NUMBER.sub("", part) for part in parts]


def test_a_short_reply_is_one_unnumbered_part():
    assert split_reply("Your refund is on its way.") == ["Your refund is on its way."]


def test_exactly_1600_characters_is_still_one_part():
    text = "a" * 1600
    assert split_reply(text) == [text]


def test_an_empty_reply_has_no_parts():
    assert split_reply("   \n ") == []


def test_a_long_reply_is_split_at_word_boundaries_and_numbered():
    words = [f"word{i}" for i in range(1500)]
    text = " ".join(words)
    parts = split_reply(text)

    assert len(parts) > 1
    assert all(utf16_length(part) <= 1600 for part in parts)
    assert [NUMBER.match(p).groups() for p in parts] == [(str(i), str(len(parts))) for i in range(1, len(parts) + 1)]
    # No word is cut: joining the parts gives every word back, in order.
    assert " ".join(_unnumbered(parts)).split() == words


def test_a_ten_thousand_character_reply_keeps_every_character():
    text = ("The parcel left our warehouse on Monday and should reach you soon. " * 200)[:10_000].strip()
    parts = split_reply(text)

    assert len(parts) == 7
    assert all(utf16_length(part) <= 1600 for part in parts)
    assert " ".join(_unnumbered(parts)) == text


def test_emoji_count_twice_so_a_part_never_goes_over_in_utf16():
    text = " ".join(["😀😀😀"] * 400)  # 1,599 code points, 2,799 UTF-16 units
    parts = split_reply(text)

    assert len(parts) == 2
    assert all(utf16_length(part) <= 1600 for part in parts)
    assert " ".join(_unnumbered(parts)) == text


@pytest.mark.parametrize("cluster", ["👨‍👩‍👧‍👦", "👍🏽", "🇫🇷", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "é"])
def test_a_word_longer_than_a_part_is_cut_between_whole_characters(cluster):
    text = cluster * 2000  # one enormous "word": no space to break at
    parts = split_reply(text)
    pieces = _unnumbered(parts)

    assert all(utf16_length(part) <= 1600 for part in parts)
    assert "".join(pieces) == text
    for piece in pieces:
        assert piece == cluster * (len(piece) // len(cluster)), "a part starts or ends inside a character"


def test_no_part_starts_or_ends_with_a_lone_surrogate_when_sent_as_utf16():
    text = "x" + "🙂" * 5000
    for part in split_reply(text):
        part.encode("utf-16-le")  # raises on a lone surrogate
        assert part.encode("utf-8").decode("utf-8") == part


def test_a_paragraph_break_is_preferred_to_a_mid_sentence_cut():
    first = "First paragraph. " * 60  # about 1,020 characters
    second = "Second paragraph goes on and on. " * 40
    parts = _unnumbered(split_reply(first.strip() + "\n\n" + second.strip()))
    assert parts[0] == first.strip()


def test_a_hundred_parts_number_themselves_with_room_for_three_digits():
    text = " ".join(["abcdefghi"] * 16_500)
    parts = split_reply(text)
    assert len(parts) >= 100
    assert parts[0].startswith(f"(1/{len(parts)}) ")
    assert all(utf16_length(part) <= 1600 for part in parts)

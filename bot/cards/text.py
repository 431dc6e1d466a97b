"""The one place card text is made safe: escaping of untrusted text per platform and cutting to limits.

Every renderer passes customer- and bot-supplied text through `slack_plain`, `slack_literal`, `teams_text`
or `teams_fact`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

ELLIPSIS = "…"
# U+2060 WORD JOINER: invisible, never a line break, not whitespace. Inserted after a character that
# would otherwise start markup ("@here", "](url)", "<at>"), it breaks the pattern in every parser while
# the reader sees the same text.
WORD_JOINER = "\u2060"

# --- Slack Block Kit (PROTOCOLS 1.4) -------------------------------------------------------------
SLACK_MAX_BLOCKS = 50
SLACK_SECTION_TEXT = 3000
SLACK_FIELD_TEXT = 2000
SLACK_FIELDS_PER_SECTION = 10
SLACK_HEADER_TEXT = 150
SLACK_BUTTON_TEXT = 75
SLACK_OPTION_TEXT = 75
SLACK_OPTION_VALUE = 150
SLACK_ID = 255
SLACK_BUTTON_VALUE = 2000
SLACK_URL = 3000
SLACK_CONTEXT_ELEMENTS = 10
SLACK_ACTIONS_ELEMENTS = 25
SLACK_SELECT_OPTIONS = 100
SLACK_PLACEHOLDER = 150
SLACK_FALLBACK_TEXT = 3000
SLACK_MODAL_BLOCKS = 100  # "100 blocks in modals" (PROTOCOLS 1.4)
SLACK_VIEW_TITLE = 24  # modal title, submit and close texts
SLACK_PRIVATE_METADATA = 3000
SLACK_CALLBACK_ID = 255
SLACK_RICH_TEXT = 3000  # one text element of a rich_text block (Baton's own words only)
# A transcript line longer than one section is split over several; Slack truncates message text past
# 40,000 characters anyway (PROTOCOLS 1.4), so 13 sections of 3000 is all that can ever show.
SLACK_TRANSCRIPT_SECTIONS = 13

# --- Microsoft Teams (PROTOCOLS 2.1) --------------------------------------------------------------
TEAMS_CARD_VERSION = "1.5"
TEAMS_MAX_CARD_BYTES = 40_000  # measured as len(json.dumps(card).encode("utf-8"))
TEAMS_CHOICE_TEXT = 75
TEAMS_BUTTON_TEXT = 75


@dataclass(frozen=True)
class Budget:
    """How much of each list and text one card may show; Teams shrinks it step by step until a card fits."""

    fact: int = 300  # a short value: a name, a city, a status
    long: int = 1500  # a free text: the bot's note to the agent, a pre-chat answer
    timeline: int = 10  # entries
    cases: int = 5
    prechat: int = 10
    identities: int = 10
    topics: int = 9
    candidates: int = 100
    details: bool = True  # False: header, state and actions only


SLACK_BUDGET = Budget()
# The Slack details modal and the Teams sections hold at least what the full card held before the glance.
DETAILS_BUDGET = Budget(timeline=200, prechat=30, identities=30, topics=12, cases=10)
# The first view: how many pre-chat answers and how long a one-line value may be.
GLANCE_PRECHAT = 3
GLANCE_LINE = 300
LOOKUP_BUDGET = Budget(timeline=5, prechat=0)
TEAMS_BUDGETS: tuple[Budget, ...] = (
    Budget(timeline=15, candidates=50),
    Budget(timeline=8, long=800, candidates=50),
    Budget(timeline=3, fact=200, long=400, prechat=6, identities=6, candidates=25),
    Budget(timeline=0, fact=100, long=200, cases=3, prechat=3, identities=3, topics=3, candidates=15),
    Budget(fact=60, long=60, timeline=0, cases=0, prechat=0, identities=0, topics=0, candidates=10, details=False),
)

# --- cleaning and cutting ------------------------------------------------------------------------

# C0/C1 controls except tab and newline; bidi embeddings, overrides and isolates (U+202A–E, U+2066–9),
# which could reorder the text around a value ("Trojan Source"); lone surrogates, which JSON allows but
# UTF-8 cannot encode.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean(value: object) -> str:
    """Untrusted value → str without control, bidi-override or lone-surrogate characters, trimmed."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _UNWANTED.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text).strip()


def one_line(text: str) -> str:
    return " ".join(text.split())


def measure(text: str) -> int:
    """Length in UTF-16 code units: never less than len(), so it satisfies a counter of either kind.

    (len() plus one per character past U+FFFF; counted by the codec rather than per character in Python,
    since every field of every card is measured: a lone surrogate is one unit, as it is in len().)"""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _attaches(text: str, i: int) -> bool:
    """True when text[i] belongs to the character before it, so a cut at i would split a grapheme."""
    ch, before = text[i], text[i - 1]
    code = ord(ch)
    if unicodedata.category(ch) in ("Mn", "Mc", "Me") or ch in "\u200d\ufe0e\ufe0f" or before == "\u200d":
        return True
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:  # skin tones, emoji tag sequences
        return True
    if _is_regional_indicator(ch) and _is_regional_indicator(before):  # a flag is a pair of them
        run = 0
        while i - run - 1 >= 0 and _is_regional_indicator(text[i - run - 1]):
            run += 1
        return run % 2 == 1
    return False


_MAX_GRAPHEME = 32  # code points; a longer "grapheme" (zalgo text) is cut anyway


def _safe_cut(text: str, n: int) -> int:
    cut = n
    while 0 < cut < len(text) and _attaches(text, cut) and n - cut < _MAX_GRAPHEME:
        cut -= 1
    return cut if n - cut < _MAX_GRAPHEME else n


Escape = Callable[[str], str]


def _identity(text: str) -> str:
    return text


def _longest_prefix(text: str, budget: int, escape: Escape) -> int:
    """The largest n such that escape(text[:n]) measures at most `budget` (escaping only ever grows text)."""
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if measure(escape(text[:mid])) <= budget:
            low = mid
        else:
            high = mid - 1
    return _safe_cut(text, low)


def fit(value: object, limit: int, escape: Escape = _identity, *, single_line: bool = False) -> str:
    """Clean, escape and cut `value` so the result measures at most `limit`, ending in "…" when cut.

    The cut is made on the raw text before escaping, so an entity such as `&amp;` is never split.
    """
    text = clean(value)
    if single_line:
        text = one_line(text)
    if len(text) <= limit:
        out = escape(text)
        if measure(out) <= limit:
            return out
    # Escaping never shrinks text, so nothing past the first `limit` characters can be kept.
    n = _longest_prefix(text[:limit], limit - len(ELLIPSIS), escape)
    return escape(text[:n].rstrip()) + ELLIPSIS


def chunks(value: object, size: int, max_chunks: int, escape: Escape = _identity) -> list[str]:
    """Split a long text into escaped pieces of at most `size`, preferring to break at whitespace."""
    text, pieces = clean(value), []
    while text and len(pieces) < max_chunks - 1:
        if len(text) <= size and measure(escape(text)) <= size:
            break
        n = _longest_prefix(text[: size + 1], size, escape)
        space = text.rfind(" ", max(0, n - 200), n)
        n = space if space > 0 else max(n, 1)
        pieces.append(escape(text[:n].rstrip()))
        text = text[n:].lstrip()
    if text:
        pieces.append(fit(text, size, escape))
    return [p for p in pieces if p]


def link_url(url: str | None, limit: int = SLACK_URL) -> str | None:
    """`url` if a button may open it (http or https, no spaces or controls, within `limit`), else None."""
    if not url or not url.startswith(("https://", "http://")) or measure(url) > limit:
        return None
    return None if any(ch.isspace() or ord(ch) < 32 for ch in url) else url


def json_size(obj: Any) -> int:
    """Bytes of `obj` as JSON (the Teams card budget is measured this way)."""
    return len(json.dumps(obj).encode("utf-8"))


# --- Slack ---------------------------------------------------------------------------------------

# An "@" that starts a word ("@here", "@channel", "@everyone", "@dana") gets a word joiner after it, so
# even a caller that posts with link_names=1 cannot turn it into a mention; "dana@example.com" is left
# alone because its "@" follows a letter.
_SLACK_AT = re.compile(r"(?<![\w.+-])@(?=\w)")
# mrkdwn formatting characters, for text that must go into a mrkdwn field (the notification `text`).
_SLACK_FORMATTING = "*_~`"
_SLACK_QUOTE = re.compile(r"^&gt;", re.MULTILINE)


def slack_escape(text: str) -> str:
    """Escape Slack's control characters (PROTOCOLS 1.7) and defuse bare @-mentions."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SLACK_AT.sub("@" + WORD_JOINER, text)


def slack_literal_escape(text: str) -> str:
    """slack_escape, and formatting characters and leading quotes made literal for a mrkdwn context.

    Slack's mrkdwn has no backslash escape. A formatting character with a word joiner on both sides fails
    Slack's rule for a style marker whether the joiner is read as a letter (then `*` sits inside a word)
    or as a space (then `*` is followed by a space); a leading `&gt;` gets one in front so it is no quote.
    """
    text = slack_escape(text)
    for mark in _SLACK_FORMATTING:
        text = text.replace(mark, WORD_JOINER + mark + WORD_JOINER)
    return _SLACK_QUOTE.sub(WORD_JOINER + "&gt;", text)


def slack_plain(value: object, limit: int, *, single_line: bool = False) -> str:
    """Untrusted text for a Slack `plain_text` object: escaped, defused, cut to `limit`."""
    return fit(value, limit, slack_escape, single_line=single_line)


def slack_literal(value: object, limit: int) -> str:
    """Untrusted text for a Slack mrkdwn context (top-level `text`): shown literally, cut to `limit`."""
    return fit(value, limit, slack_literal_escape)


# --- Teams ---------------------------------------------------------------------------------------

# Renderers put untrusted text only where Adaptive Cards never read markdown (TextRun, Input.Choice
# title, action title). As a second fence a word joiner follows every "]" and "<": "[x](url)", "[x][1]"
# and "[x]: url" links, "<https://…>" autolinks and "<at>…</at>" mentions then match no parser.
def teams_escape(text: str) -> str:
    return text.replace("]", "]" + WORD_JOINER).replace("<", "<" + WORD_JOINER)


def teams_text(value: object, limit: int, *, single_line: bool = False) -> str:
    """Untrusted text for a Teams TextRun, choice or action title: defused, cut to `limit`."""
    return fit(value, limit, teams_escape, single_line=single_line)


# A FactSet's title and value are read as markdown by Teams (Fact.Title and Fact.Value support markdown), so
# untrusted text there gets, on top of `teams_escape` (no links, autolinks, mentions or HTML):
# - "*" and "`" swapped for look-alikes (∗ U+2217, ˋ U+02CB): emphasis with "*" works inside words and a code
#   span ignores flanking, so only a different character is inert in every markdown parser;
# - "_" and "~" between word joiners: a delimiter with a non-space, non-punctuation character on both sides
#   can neither open nor close emphasis or strikethrough ("dana_w@example.com" still reads the same);
# - a word joiner before a line that would start block markup (heading, quote, list, rule, table, code).
_TEAMS_LOOKALIKES = str.maketrans({"*": "\u2217", "`": "\u02cb"})
_TEAMS_BLOCK_START = re.compile(r"^(?=[#>+\-=|\s]|\d+[.)])", re.MULTILINE)


def teams_markdown_escape(text: str) -> str:
    text = teams_escape(text).translate(_TEAMS_LOOKALIKES)
    for mark in "_~":
        text = text.replace(mark, WORD_JOINER + mark + WORD_JOINER)
    return _TEAMS_BLOCK_START.sub(WORD_JOINER, text)


def teams_fact(value: object, limit: int, *, single_line: bool = False) -> str:
    """Untrusted text for a Teams FactSet title or value (markdown-reading): inert, cut to `limit`."""
    return fit(value, limit, teams_markdown_escape, single_line=single_line)

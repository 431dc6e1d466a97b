"""A reply too long for one Twilio message (`Body` ≤ 1,600 characters, PROTOCOLS.md §5) in parts.

Lengths are counted in UTF-16 code units, as the carriers' UCS-2 counts them, so an emoji counts
twice and a part never goes over the limit whatever the script. Parts break at a paragraph, line or
word boundary; a word longer than a whole part is cut between characters as a reader sees them, never
inside an emoji sequence, a flag, or a letter and its accents. More than one part: each starts
"(1/3) ", since the parts can arrive out of order.
"""

from __future__ import annotations

import unicodedata

BODY_LIMIT = 1600
ZWJ = "\u200d"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _extends(char: str) -> bool:
    """Whether `char` belongs to the character before it (so no cut may fall before it)."""
    code = ord(char)
    return (
        char == ZWJ
        or unicodedata.category(char) in ("Mn", "Me", "Mc")  # accents, enclosing keycaps, vowel signs
        or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF  # variation selectors (emoji style)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _boundary(text: str, index: int) -> bool:
    """Whether a cut between text[index - 1] and text[index] leaves every visible character whole."""
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if _extends(after) or before == ZWJ or (before, after) == ("\r", "\n"):
        return False
    if _regional(before) and _regional(after):
        run = 0  # a flag is a pair of regional indicators: cut only after an even number of them
        while index - run - 1 >= 0 and _regional(text[index - run - 1]):
            run += 1
        return run % 2 == 0
    return True


def _fit(text: str, limit: int) -> int:
    """The longest prefix of `text` (in code points) within `limit` UTF-16 code units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _break(window: str) -> int:
    """Where to end a part inside `window`: a blank line or a line end in its second half, else its last
    space; 0 when it has no whitespace to break at."""
    for mark in ("\n\n", "\n"):
        at = window.rfind(mark)
        if at > len(window) // 2:
            return at
    for index in range(len(window) - 1, 0, -1):
        if window[index].isspace():
            return index
    return 0


def _chunks(text: str, size: int) -> list[str]:
    chunks = []
    rest = text
    while utf16_length(rest) > size:
        cut = _fit(rest, size)
        at = _break(rest[: cut + 1])  # a space just past the limit is a fine place to end
        if at > 0 and at <= cut:
            chunks.append(rest[:at].rstrip())
            rest = rest[at:].lstrip()
            continue
        safe = cut
        while safe > 0 and not _boundary(rest, safe):
            safe -= 1
        cut = safe or cut  # a single "character" longer than a part: cut it, there is no better place
        chunks.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        chunks.append(rest)
    return chunks


def split_reply(text: str, limit: int = BODY_LIMIT) -> list[str]:
    """`text` as the bodies of consecutive messages, each within `limit`; [] for an empty text."""
    text = text.strip()
    if not text:
        return []
    if utf16_length(text) <= limit:
        return [text]
    total = 2
    while True:
        width = len(f"({total}/{total}) ")
        parts = _chunks(text, limit - width)
        if len(str(len(parts))) <= len(str(total)):
            break
        total = len(parts)
    return [f"({index}/{len(parts)}) {part}" for index, part in enumerate(parts, start=1)]

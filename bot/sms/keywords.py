"""Twilio's opt-out, opt-in and help keywords (PROTOCOLS.md §5): Twilio acts on them itself (it blocks
the number after STOP, answers HELP) and still forwards the message; Baton only needs to know."""

from __future__ import annotations

import enum
import string


class Keyword(enum.Enum):
    STOP = "STOP"  # the number opted out: Baton must send it nothing more
    START = "START"  # the number opted back in
    HELP = "HELP"  # Twilio answers with the number's help text


SYNONYMS: dict[str, Keyword] = {
    **{word: Keyword.STOP for word in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")},
    **{word: Keyword.START for word in ("START", "YES", "UNSTOP")},
    **{word: Keyword.HELP for word in ("HELP", "INFO")},
}
# "Stop." and "STOP!" are still one word typed by a person who wants to stop: read them as the keyword.
_EDGES = string.whitespace + string.punctuation


def keyword_of(body: str | None, opt_out_type: str | None = None) -> Keyword | None:
    """The keyword a message is, if any: a single word in any case (PROTOCOLS.md §5).

    `opt_out_type` is Twilio's `OptOutType` parameter (Advanced Opt-Out, with the operator's own
    keywords such as ARRET); when Twilio says so, that is the answer."""
    if opt_out_type:
        found = Keyword.__members__.get(opt_out_type.strip().upper())
        if found is not None:
            return found
    if not body:
        return None
    word = body.strip(_EDGES).upper()
    return SYNONYMS.get(word)

"""Normalized identities of a customer (SPEC 5): emails compared case-insensitively, phones in E.164,
external and channel ids as given."""

from __future__ import annotations

import functools
import re
import unicodedata
from email.utils import parseaddr

import phonenumbers

from bot.domain import CustomerInput

# Loose on purpose: one "@", no spaces, a dot in the domain. Deliverability is not Baton's to judge.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$")


def normalize_email(raw: object) -> str | None:
    """"Dana W <Dana.W@Example.com>" → "dana.w@example.com"; None when it is not an address."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if "<" in text:  # a display-name form such as "Dana W <dana@example.com>"
        text = parseaddr(text)[1]
    address = text.strip().lower()
    # The whole address is lower-cased: case-sensitive local parts exist in the RFC, not in practice.
    if len(address) > 254 or not _EMAIL.match(address):
        return None
    return address


def normalize_phone(raw: object, default_region: str = "US") -> str | None:
    """"(415) 555-0123" → "+14155550123"; None when `phonenumbers` finds no valid number."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    return _e164(raw, default_region)


@functools.lru_cache(maxsize=4096)
def _e164(raw: str, default_region: str) -> str | None:
    """`phonenumbers` is slow (about 50 µs a number) and a channel's edge and the intake both ask for the
    same number: it is asked once."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def identities_of(customer: CustomerInput, default_region: str = "US") -> list[tuple[str, str]]:
    """(kind, value) pairs to match on: ("email", …), ("phone", …), (external system, id), channel ids."""
    found: list[tuple[str, str]] = []
    if email := normalize_email(customer.email):
        found.append(("email", email))
    if phone := normalize_phone(customer.phone, default_region):
        found.append(("phone", phone))
    for system, external_id in customer.external_ids.items():
        # The system name is a key like "crm"; the id itself is someone else's and stays as sent.
        if isinstance(system, str) and system.strip() and isinstance(external_id, str) and external_id.strip():
            found.append((system.strip().lower(), external_id.strip()))
    found.extend(customer.channel_ids)
    return list(dict.fromkeys(found))  # drop repeats, keep order


# --------------------------------------------------------------------------- names

NAME_KEY_LENGTH = 200  # the columns' width (a folded name can outgrow its display name: "ß" → "ss")
_APOSTROPHES = str.maketrans("", "", "'’ʼ`´")


def fold_name(text: object) -> str:
    """A name as lookups compare it: accents removed, case folded, apostrophes dropped, every other
    character that is neither a letter nor a digit a word break. "Zoë O'Brien-Núñez" → "zoe obrien nunez"."""
    if not isinstance(text, str):
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().translate(_APOSTROPHES)
    return " ".join("".join(ch if ch.isalnum() else " " for ch in bare).split())


def name_keys(display_name: object) -> tuple[str, str | None]:
    """The two indexed keys of a customer's name (`customer.name_key`, `customer.surname_key`).

    The first is the folded name as written ("dana whitfield"); the second starts at the last word,
    the rest after it ("whitfield dana"), None for a one-word name. A lookup matches the start of
    either, so "dana", "dana w", "whitfield" and "Whitfield, Dana" all find Dana Whitfield."""
    key = fold_name(display_name)
    words = key.split(" ")
    surname = " ".join([words[-1], *words[:-1]]) if len(words) > 1 else None
    return key[:NAME_KEY_LENGTH], surname[:NAME_KEY_LENGTH] if surname else None

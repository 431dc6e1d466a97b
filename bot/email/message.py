"""A raw RFC 5322 message as a frozen `InboundEmail`: who wrote, what thread it belongs to, the new
text without quoted history or signature, the attachments, and whether a robot sent it (SPEC 3.7).

Parsed with the standard library (`policy.default`, PROTOCOLS.md §6). Mail from strangers is often
broken: a header the parser cannot read is read raw, a body in an unknown charset is decoded as
UTF-8 with replacement characters, and nothing the sender wrote is a reason to refuse (SPEC 3.4) —
only bytes that are no message at all, or a message with no sender to answer.
"""

from __future__ import annotations

import email
import email.policy
import functools
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses
from typing import Iterator

from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES
from mailparser_reply.parser import EmailMessage as RepliedMail

from bot.email.html_text import html_to_text
from bot.errors import invalid, malformed
from bot.identity import normalize_email

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# The usual address header, `Dana Whitfield <dana@example.com>` or `dana@example.com`: plain ASCII words, no
# quotes, comments, encoded words or lists. What the full parser would read from it, read directly (the
# header parser takes a fifth of a mail's time); anything else goes to the full parser.
_SIMPLE_ADDRESS = re.compile(
    r"[ \t]*(?:(?P<name>[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+(?:[ \t]+[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+)*)[ \t]*)?"
    r"<(?P<angle>[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>[ \t]*"
    r"|[ \t]*(?P<bare>[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)[ \t]*")
_BARE_ADDRESS = re.compile(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")
# Every language mail-parser-reply knows: customers write (and quote) in theirs.
_REPLIES = EmailReplyParser(languages=list(MAIL_LANGUAGES))
# `EmailReplyParser.read` builds and compiles its three patterns (every language's alternatives) again for
# every mail, a third of its time; they depend on the languages only, so they are built once here and handed
# to each message through the dataclass's own fields (mail-parser-reply 1.36; tests/test_email_message.py
# holds what it must strip).
_BUILT = RepliedMail(text="", languages=list(_REPLIES.languages))


_LINE_START = "^"
_CATEGORIES = {"CATEGORY_SPACE": r"\s", "CATEGORY_DIGIT": r"\d", "CATEGORY_WORD": r"\w"}


class _Unknown(Exception):
    """A part of a pattern whose first character `_first` cannot bound."""


def _first(items) -> tuple[set[str], bool]:
    """What the first character of a match of this sequence of parsed items (`re._parser`) can be: a set of
    character-class pieces (a literal, a range, `\\s`…) and `^` (the match starts a line), and whether the
    sequence can match nothing. Raises _Unknown where it cannot say (`.`, a negated class, …)."""
    found: set[str] = set()
    for op, arg in items:
        name = str(op)
        if name == "AT":
            if str(arg) in ("AT_BEGINNING", "AT_BEGINNING_STRING"):
                return found | {_LINE_START}, False  # under MULTILINE: position 0 or just after a newline
            continue  # $, \b: zero width, no bound on the position
        if name in ("ASSERT", "ASSERT_NOT"):
            continue  # zero width
        if name == "LITERAL":
            return found | {re.escape(chr(arg))}, False
        if name == "IN":
            for kind, value in arg:
                if str(kind) == "LITERAL":
                    found.add(re.escape(chr(value)))
                elif str(kind) == "RANGE":
                    found.add(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
                elif str(kind) == "CATEGORY" and str(value) in _CATEGORIES:
                    found.add(_CATEGORIES[str(value)])
                else:
                    raise _Unknown(str(kind))
            return found, False
        if name == "SUBPATTERN":
            _group, add_flags, del_flags, sub = arg
            if add_flags or del_flags:
                raise _Unknown("inline flags")
            first, empty = _first(sub)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = arg
            first, empty = _first(sub)
            empty = empty or low == 0
        elif name == "BRANCH":
            parts = [_first(branch) for branch in arg[1]]
            first, empty = set().union(*(f for f, _ in parts)), any(e for _, e in parts)
        else:
            raise _Unknown(name)
        found |= first
        if not empty:
            return found, False
    return found, True


class _TriedWhereItCanStart:
    """A pattern's `findall`, tried only at the positions where a match can start — a line start, or a character
    its alternatives can begin with (`_first`) —: the same matches in the same order as the pattern's own
    scan, which tries every alternative at every character. mail-parser-reply's header pattern (every
    language's "On … wrote:" and "From:/Sent:" block) is a pattern whose matches start at a line start, a
    newline or a dash, and its scan was three quarters of reading a mail (benchmarks/README.md, inbound).
    Only for a pattern that never matches empty (after a match, the scan goes on from its end)."""

    def __init__(self, pattern: re.Pattern, starts: re.Pattern) -> None:
        self.pattern = pattern
        self.starts = starts
        self._match = pattern.match

    @classmethod
    def of(cls, pattern: re.Pattern) -> "_TriedWhereItCanStart | re.Pattern":
        """The faster `findall` when the pattern's first characters can be bounded, else the pattern itself."""
        try:
            from re import _parser  # Python 3.11+; before, sre_parse
        except ImportError:  # pragma: no cover - older Pythons
            import sre_parse as _parser
        try:
            parsed = _parser.parse(pattern.pattern, pattern.flags)
            if parsed.getwidth()[0] == 0:
                return pattern
            first, empty = _first(list(parsed))
        except Exception:  # _Unknown, or an internal module that changed: keep the pattern's own scan
            return pattern
        if empty or not first:
            return pattern
        pieces = sorted(first - {_LINE_START})
        alternatives = (["^"] if _LINE_START in first else []) + ([f"(?=[{''.join(pieces)}])"] if pieces else [])
        # The same flags: IGNORECASE folds a class exactly as it folds the literal it came from, and ^ is the same ^.
        return cls(pattern, re.compile("|".join(alternatives), pattern.flags & ~re.VERBOSE))

    def findall(self, text: str) -> list:
        found, resume, groups = [], 0, self.pattern.groups
        for start in self.starts.finditer(text):
            at = start.start()
            if at < resume:
                continue
            match = self._match(text, at)
            if match is None:
                continue
            found.append(match.group(0) if groups == 0 else (match.group(1) or "") if groups == 1 else match.groups(""))
            resume = match.end()
        return found


_HEADER = _BUILT.HEADER_REGEX
_PATTERNS = {"_header_regex": _TriedWhereItCanStart.of(_HEADER),
             "_disclaimers_regex": _BUILT.DISCLAIMERS_REGEX, "_signature_regex": _BUILT.SIGNATURE_REGEX}
ROBOT_SENDERS = frozenset({"mailer-daemon", "postmaster"})
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})


@functools.lru_cache(maxsize=1024)
def _parsed_header(name: str, value: str):
    return email.policy.default.header_fetch_parse(name, value)


class _ParsedOnce(email.policy.EmailPolicy):
    """`policy.default`, reading each header once: the standard library parses a header again on every
    access, and walking a message asks for its Content-Type a dozen times (most of the parse's time).
    Parsed headers are immutable, so a parse can be reused for the same name and text."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        try:
            return _parsed_header(name, value)
        except TypeError:  # an unhashable value (never in practice): parse as the default policy does
            return email.policy.default.header_fetch_parse(name, value)


POLICY = _ParsedOnce()


@dataclass(frozen=True)
class EmailAttachment:
    name: str
    content_type: str
    data: bytes
    inline: bool = False  # shown in the body (an image in the signature, a pasted screenshot)
    content_id: str | None = None


@dataclass(frozen=True)
class InboundEmail:
    message_id: str | None  # "<id@host>" as in the header; None when the sender gave none
    in_reply_to: str | None
    references: tuple[str, ...]
    from_address: str  # normalized (lower case): the customer's identity
    from_name: str | None
    reply_to: str  # where answers go: Reply-To when it is an address, else From
    to: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str  # the whole text as sent (HTML-only mail as plain text)
    new_text: str  # what this message adds: no quoted history, no signature
    attachments: tuple[EmailAttachment, ...] = ()
    automated: str | None = None  # why a robot sent it (never answered, never a conversation), or None

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The message ids this one answers, nearest first: the ones to look a conversation up by."""
        ids = ([self.in_reply_to] if self.in_reply_to else []) + list(reversed(self.references))
        return tuple(dict.fromkeys(ids))


def _raw_header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _header(message: Message, name: str) -> str | None:
    """The decoded header, or its raw text when the parser cannot make sense of it."""
    try:
        value = message.get(name)
    except Exception:  # malformed headers raise from deep inside the email package; read them raw
        value = _raw_header(message, name)
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = _MESSAGE_ID.findall(value)
    if found:
        return found
    # Broken senders leave the brackets out; a single token is still an id.
    tokens = value.split()
    return [f"<{tokens[0].strip('<>')}>"] if len(tokens) == 1 and tokens[0].strip("<>") else []


def _addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header, decoded where possible."""
    raw = _raw_header(message, name)
    if raw is None:
        return []
    simple = _SIMPLE_ADDRESS.fullmatch(raw)
    if simple is not None and "=?" not in raw:
        if simple["bare"]:
            return [("", simple["bare"])]
        return [(" ".join((simple["name"] or "").split()), simple["angle"])]
    try:
        header = message.get(name)
        groups = getattr(header, "addresses", None)
        if groups is not None:
            return [(a.display_name, a.addr_spec) for a in groups]
    except Exception:  # see _header
        pass
    return [(n, a) for n, a in getaddresses([raw])] if raw else []


def _decoded(part: Message) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content.replace("\r\n", "\n")
    except (LookupError, UnicodeError, ValueError, AssertionError, KeyError):
        pass  # an unknown or lying charset: decode as UTF-8 below
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace").replace("\r\n", "\n")
    except LookupError:
        return payload.decode("utf-8", errors="replace").replace("\r\n", "\n")


def _body_parts(message: EmailMessage) -> tuple[Message | None, Message | None]:
    def body(kind: str) -> Message | None:
        try:
            return message.get_body(preferencelist=(kind,))
        except Exception:  # a structure get_body cannot walk: fall back to the message itself below
            return None

    plain, html = body("plain"), body("html")
    if plain is None and html is None and not message.is_multipart():
        kind = message.get_content_type()
        plain = message if kind == "text/plain" else None
        html = message if kind == "text/html" else None
    return plain, html


def safe_filename(name: str | None) -> str | None:
    """A sender's file name fit to store and show: a path ("../../etc/passwd", "C:\\x.exe") keeps only its last
    part, control characters go, at most 200 characters; None when nothing is left."""
    if not name:
        return None
    last = re.split(r"[/\\]", name.strip())[-1]
    cleaned = _UNSAFE_NAME.sub("", last).strip(" .")
    return cleaned[:200] or None


def _walk(part: Message, skip: set[int]) -> Iterator[Message]:
    """Leaf parts that are not the body; an attached message (message/rfc822) is one leaf."""
    if id(part) in skip:
        return
    if part.get_content_maintype() == "message" or not part.is_multipart():
        yield part
        return
    for sub in part.get_payload():
        if isinstance(sub, Message):
            yield from _walk(sub, skip)


def _attachment(part: Message, index: int) -> EmailAttachment | None:
    kind = part.get_content_type()
    disposition = part.get_content_disposition()
    try:
        filename = part.get_filename()
    except Exception:  # see _header
        filename = None
    if kind in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        return None  # another alternative of the text, not a file
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        data = b"".join(m.as_bytes() for m in inner if isinstance(m, Message)) if isinstance(inner, list) else b""
        default = "message.eml" if kind == "message/rfc822" else f"part-{index}.txt"
    else:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        default = f"attachment-{index}"
    content_id = _header(part, "Content-ID")
    return EmailAttachment(
        name=safe_filename(filename) or default,
        content_type=kind,
        data=data,
        inline=disposition == "inline" or (disposition is None and content_id is not None),
        content_id=content_id.strip("<>") if content_id else None,
    )


def automated_reason(message: Message, from_address: str | None) -> str | None:
    """Why this message is a robot's (RFC 3834 and practice, PROTOCOLS.md §6), or None for a person."""
    auto = _header(message, "Auto-Submitted")
    if auto and auto.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {auto.split(';')[0].strip()}"
    precedence = (_header(message, "Precedence") or "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    if _header(message, "List-Id"):
        return "a mailing list (List-Id)"
    for key, value in message.raw_items():
        if key.lower() == "return-path" and re.sub(r"\s+", "", str(value)) in ("<>", ""):
            return "an empty return path (a bounce)"
    if message.get_content_type() == "multipart/report":
        report = (message.get_param("report-type") or "report")
        return f"a {report} report"
    if from_address and from_address.split("@")[0] in ROBOT_SENDERS:
        return f"sent by {from_address.split('@')[0].upper()}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if _header(message, name):
            return name
    return None


def new_text_of(text: str) -> str:
    """The text without quoted history and signature (mail-parser-reply); the whole text when that
    leaves nothing, so an agent never sees an empty message for a mail that said something."""
    try:
        replies = RepliedMail(text=text, languages=list(_REPLIES.languages), **_PATTERNS).read().replies
    except Exception:  # a regex library on strangers' text: never let it refuse a message
        return text.strip()
    latest = replies[0].body.strip() if replies else ""
    return latest or text.strip()


def parse_email(raw: bytes) -> InboundEmail:
    """Read one raw message. 400 when the bytes carry no headers at all; 422 (`from`) when nobody sent it."""
    if not raw or not raw.strip():
        raise malformed("The message is empty.")
    message = email.message_from_bytes(raw, policy=POLICY)
    if not message.keys():
        raise malformed("The body is not an email message: it has no headers.")

    senders = [(name, address) for name, address in _addresses(message, "From") if normalize_email(address)]
    if not senders:  # a From the parsers give up on ('"unterminated <dana@example.com>'): find the address
        found = _BARE_ADDRESS.search(_raw_header(message, "From") or "")
        senders = [("", found.group())] if found and normalize_email(found.group()) else []
    if not senders:
        raise invalid("from", "The message has no From address to answer.")
    from_name, from_address = senders[0][0] or None, normalize_email(senders[0][1])
    reply_to = next((normalize_email(a) for _, a in _addresses(message, "Reply-To") if normalize_email(a)), from_address)

    plain, html = _body_parts(message)
    text = _decoded(plain).strip() if plain is not None else ""
    if not text and html is not None:
        text = html_to_text(_decoded(html))
    skip = {id(p) for p in (plain, html) if p is not None}
    attachments = []
    for index, part in enumerate(_walk(message, skip), start=1):
        found = _attachment(part, index)
        if found is not None:
            attachments.append(found)

    try:
        date_header = message.get("Date")
        date = getattr(date_header, "datetime", None)
    except Exception:  # see _header
        date = None
    return InboundEmail(
        message_id=next(iter(_ids(_raw_header(message, "Message-ID"))), None),
        in_reply_to=next(iter(_ids(_raw_header(message, "In-Reply-To"))), None),
        references=tuple(dict.fromkeys(_ids(_raw_header(message, "References")))),
        from_address=from_address,
        from_name=from_name.strip() if from_name and from_name.strip() else None,
        reply_to=reply_to,
        to=tuple(a for a in (normalize_email(addr) for _, addr in _addresses(message, "To")) if a),
        subject=_header(message, "Subject") or "",
        date=date,
        text=text,
        new_text=new_text_of(text) if text else "",
        attachments=tuple(attachments),
        automated=automated_reason(message, from_address),
    )


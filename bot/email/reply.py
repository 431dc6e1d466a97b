"""An agent's reply as an email (`EmailMessage`) that lands in the customer's thread (SPEC 3.7).

- From: the agent's display name with BATON_EMAIL_FROM's address. When BATON_EMAIL_FROM names the team
  (`Acme Support <support@acme.example>`), the agent speaks for it: `Dana at Acme Support
  <support@acme.example>` (quoted only when the name needs it, e.g. `"Dana at Acme, Inc."`; RFC 2047
  for non-ASCII names); otherwise `Dana <support@acme.example>`; with no agent name, BATON_EMAIL_FROM as
  it is. Replies to it come back to the support address, never to the agent.
- Subject `Re: <subject>`, once: any reply prefixes already there (`Re:`, `RE[2]:`, `AW:`, `SV:` …) go.
- Threading (RFC 5322 §3.6.4): `In-Reply-To` the message answered, `References` its References (or its
  In-Reply-To) then its Message-ID — at most 20 ids (the first and the latest 19), as mail clients trim
  them — and a new `Message-ID` on the sender's domain.
- `Auto-Submitted: auto-replied` and `X-Auto-Response-Suppress: OOF, AutoReply`, so the customer's
  out-of-office robot does not answer Baton's answer (RFC 3834).
- Files are attached up to 10 MB together, in the order given; the others are listed as links at the
  end of the text (or named as not attached when they have no link).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Sequence

from bot.delivery.poster import GiveUp
from bot.email.message import safe_filename

MAX_ATTACHED_BYTES = 10 * 1024 * 1024
MAX_REFERENCES = 20
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|vs|antw|ref|rif|odp|atb|res)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+", re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


@dataclass(frozen=True)
class OutgoingFile:
    """A file for the customer: its bytes to attach, a link to it, or both (the link is used when the
    bytes do not fit)."""

    name: str
    content_type: str | None = None
    data: bytes | None = None
    url: str | None = None


def reply_subject(subject: str | None) -> str:
    bare = _REPLY_PREFIX.sub("", " ".join((subject or "").split()))
    return f"Re: {bare}" if bare else "Re: your message"


def _clean(text: str | None, limit: int = 100) -> str:
    return " ".join(_CONTROL.sub(" ", text or "").split())[:limit].strip()


def sender_address(email_from: str, agent_name: str | None) -> Address:
    """The reply's From (see the module docstring); GiveUp when BATON_EMAIL_FROM is no address."""
    team, address = parseaddr(email_from)
    if "@" not in address:
        raise GiveUp("BATON_EMAIL_FROM is not an email address")
    team, agent = _clean(team), _clean(agent_name)
    display = f"{agent} at {team}" if agent and team else agent or team
    try:
        return Address(display_name=display, addr_spec=address)
    except (ValueError, IndexError) as error:
        raise GiveUp(f"BATON_EMAIL_FROM is not a usable address ({type(error).__name__})") from None


def references_for(parent_id: str | None, parent_references: Sequence[str], parent_in_reply_to: str | None = None) -> list[str]:
    chain = list(parent_references) or ([parent_in_reply_to] if parent_in_reply_to else [])
    if parent_id:
        chain.append(parent_id)
    chain = [i for i in dict.fromkeys(chain) if i and not _CONTROL.search(i)]
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1):]
    return chain


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{max(1, round(count / 1024))} KB"


def compose_reply(
    *,
    email_from: str,
    agent_name: str | None,
    to_address: str,
    to_name: str | None = None,
    subject: str | None,
    parent_id: str | None,
    parent_references: Sequence[str] = (),
    parent_in_reply_to: str | None = None,
    text: str,
    files: Sequence[OutgoingFile] = (),
    now: datetime,
    max_attached_bytes: int = MAX_ATTACHED_BYTES,
) -> EmailMessage:
    """The reply to the customer's message `parent_id` (None when it had no Message-ID)."""
    sender = sender_address(email_from, agent_name)
    try:
        recipient = Address(display_name=_clean(to_name), addr_spec=to_address)
    except (ValueError, IndexError):
        raise GiveUp("not a valid email address") from None

    attached: list[OutgoingFile] = []
    listed: list[str] = []
    budget = max_attached_bytes
    for file in files:
        name = safe_filename(file.name) or "file"
        if file.data is not None and len(file.data) <= budget:
            attached.append(OutgoingFile(name, file.content_type, file.data, file.url))
            budget -= len(file.data)
        elif file.url:
            listed.append(f"- {name}: {file.url}")
        else:
            size = f", {_size(len(file.data))}" if file.data is not None else ""
            listed.append(f"- {name} (not attached: over {_size(max_attached_bytes)} together{size})")

    body = text.replace("\r\n", "\n").strip()
    if listed:
        body = (body + "\n\n" if body else "") + "Files:\n" + "\n".join(listed)

    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = reply_subject(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    if parent_id and not _CONTROL.search(parent_id):
        message["In-Reply-To"] = parent_id
    chain = references_for(parent_id, parent_references, parent_in_reply_to)
    if chain:
        message["References"] = " ".join(chain)
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    message.set_content(body + "\n")
    for file in attached:
        kind = (file.content_type or "").split(";")[0].strip().lower()
        maintype, subtype = kind.split("/", 1) if _CONTENT_TYPE.match(kind) else ("application", "octet-stream")
        if maintype in ("multipart", "message"):  # these may not travel base64-encoded (RFC 2046)
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.name)
    return message

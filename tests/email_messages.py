"""Raw RFC 5322 messages for the email tests: `make_email(**overrides)` with defaults, built with the
standard library the way mail clients build them, plus hand-written broken ones."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timezone

CUSTOMER = "dana.whitfield@example.com"
SUPPORT = "support@acme.example"

QUOTED_REPLY = """Yes, it arrived broken. The box was crushed.

Thanks,
Dana

--
Dana Whitfield
Whitfield Design

On Tue, 3 Mar 2026 at 09:00, Acme Support <support@acme.example> wrote:
> Hello Dana, did your parcel arrive?
> Best regards, Acme
"""


def make_email(
    text: str | None = QUOTED_REPLY,
    *,
    html: str | None = None,
    subject: str = "Re: My order #1042",
    sender: str = f"Dana Whitfield <{CUSTOMER}>",
    to: str = f"Acme Support <{SUPPORT}>",
    message_id: str | None = "<CAF=mail-1@mail.example.com>",
    in_reply_to: str | None = "<reply-1@acme.example>",
    references: str | None = "<first@mail.example.com> <reply-1@acme.example>",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
    inline: list[tuple[str, str, bytes, str]] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc))
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    for name, content_type, data, content_id in inline:
        maintype, subtype = content_type.split("/")
        body = message.get_body(("html",)) or message
        body.add_related(data, maintype=maintype, subtype=subtype, cid=f"<{content_id}>", filename=name,
                         disposition="inline")
    for name, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()

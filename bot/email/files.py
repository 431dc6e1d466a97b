"""A customer's mail attachments as files for the thread (`CustomerFile`, as MMS media and web chat uploads).

What goes on: at most 10 files of a mail, each at most 10 MB (the caps of MMS media and web chat uploads), of
the types people send support — pictures, PDFs, text and CSV, office documents, a forwarded mail. A part
typed `application/octet-stream` (how some clients send everything) counts as the type its name says.
What does not: programs, scripts, HTML, archives and anything else a thread should not offer to open, and
the small pictures a signature carries inline (a logo, a social icon: under 16 KB). Every file left out is
named in the customer's line with the reason, so the agent knows to ask for it another way.
"""

from __future__ import annotations

import mimetypes
from typing import Sequence

from bot.domain import CustomerFile
from bot.email.message import EmailAttachment

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
SIGNATURE_PICTURE_BYTES = 16 * 1024
FILE_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/heic", "image/heif", "image/bmp", "image/tiff",
    "application/pdf", "text/plain", "text/csv", "message/rfc822",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation", "application/rtf",
})
_UNTYPED = frozenset({"application/octet-stream", "application/x-download", "binary/octet-stream"})


def _type_of(attachment: EmailAttachment) -> str:
    kind = attachment.content_type.lower()
    if kind in _UNTYPED:
        guessed, _ = mimetypes.guess_type(attachment.name, strict=False)
        return (guessed or kind).lower()
    return kind


def files_of(attachments: Sequence[EmailAttachment]) -> tuple[list[CustomerFile], list[str]]:
    """(the files for the thread, a note for each file left out: "name: why")."""
    files: list[CustomerFile] = []
    left_out: list[str] = []
    for attachment in attachments:
        kind = _type_of(attachment)
        if attachment.inline and kind.startswith("image/") and len(attachment.data) < SIGNATURE_PICTURE_BYTES:
            continue  # a signature's logo, not something the customer sent
        if kind not in FILE_TYPES:
            left_out.append(f"{attachment.name}: files of type {kind} are not passed on")
        elif len(attachment.data) > MAX_FILE_BYTES:
            left_out.append(f"{attachment.name}: over {MAX_FILE_BYTES // (1024 * 1024)} MB")
        elif not attachment.data:
            left_out.append(f"{attachment.name}: empty")
        elif len(files) >= MAX_FILES:
            left_out.append(f"{attachment.name}: more than {MAX_FILES} files in one mail")
        else:
            files.append(CustomerFile(attachment.name, kind, attachment.data))
    return files, left_out

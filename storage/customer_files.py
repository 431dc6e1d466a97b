"""Customer files kept for the outbox: a web chat upload or MMS media, stored with its message.

A message's attachment names its file as `{"name", "content_type", "size", "file": <id>}`; the thread
sync loads the content by that id when it puts the file into a thread (`storage.posts` records each upload,
so a retry never uploads it twice).
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from bot.domain import CustomerFile, StoredFile
from storage.models import CustomerFile as FileRow

FILE_KEY = "file"  # the attachment key that names a stored customer file


async def store(conversation_id: int, files: Sequence[CustomerFile], *, now: datetime) -> list[dict]:
    """Store the files (inside the caller's transaction) and return the attachments that name them."""
    attachments = []
    for file in files:
        row = await FileRow.create(conversation_id=conversation_id, name=file.name, content_type=file.content_type,
                                   size=file.size, data=file.data, created_at=now)
        attachments.append({"name": file.name, "content_type": file.content_type, "size": file.size, FILE_KEY: row.id})
    return attachments


def file_ids(attachments: Sequence[dict]) -> list[int]:
    """The stored customer files a message's attachments name, in order."""
    return [a[FILE_KEY] for a in attachments if isinstance(a, dict) and type(a.get(FILE_KEY)) is int]


async def load(file_id: int) -> StoredFile | None:
    row = await FileRow.get_or_none(id=file_id)
    if row is None:
        return None
    return StoredFile(row.id, CustomerFile(row.name, row.content_type, bytes(row.data)))


async def of_conversation(file_id: int, conversation_id: int) -> StoredFile | None:
    """The file only if it belongs to that conversation (signed links name both)."""
    exists = await FileRow.filter(id=file_id, conversation_id=conversation_id).exists()
    return await load(file_id) if exists else None

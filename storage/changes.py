"""The one way to say "this conversation's card changed": bump its revision and queue the edit.

Every writer that changes what a card shows (intake appends, claims, notes, messages, wrap-ups, links,
anonymizing) calls `card_changed` inside its own transaction, so the change and the delivery work that
follows it commit together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from tortoise.expressions import F

from storage import outbox
from storage.models import Conversation


async def card_changed(conversation_id: int, targets: Sequence[str], now: datetime) -> None:
    """One UPDATE for revision and last activity, then an outbox request per delivery target."""
    await Conversation.filter(id=conversation_id).update(revision=F("revision") + 1, last_activity_at=now)
    for target in targets:
        await outbox.enqueue(target, conversation_id, now=now)

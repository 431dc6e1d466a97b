"""The `source` delivery target: what goes back to where the customer is.

Relays the claiming agent's replies and the conversation's status changes through the customer's
channel: `reply_url` (signed JSON), the Bot Framework conversation (`handoff.status`), and every inbound
channel that registers itself (web chat, SMS, email). Replies and statuses are one stream, in the order
they happened (a claim, the replies, the wrap-up), each marked `relayed_at` once sent: re-entrant like the
thread sync, so a retry continues where it stopped.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Awaitable, Callable, Protocol, Sequence

from bot.delivery.files import for_customer
from bot.domain import ConversationRecord, Reply, StatusEvent
from bot.settings import Settings
from storage import relay
from storage.summary import load_conversation

log = logging.getLogger(__name__)

class CustomerChannel(Protocol):
    """A way back to the customer. An inbound channel's edge implements one and registers it in
    `Services.customer_channels`; the first that `handles` a conversation carries its traffic."""

    name: str

    def handles(self, conversation: ConversationRecord) -> bool: ...

    async def send_reply(self, conversation: ConversationRecord, reply: Reply, files: list[dict[str, Any]]) -> None: ...

    async def send_status(self, conversation: ConversationRecord, event: StatusEvent, detail: str | None) -> None: ...


def status_detail(conversation: ConversationRecord, event: StatusEvent) -> str | None:
    """The message of Bot Framework's handoff.status, and the disposition for `completed`."""
    return {
        "accepted": f"Claimed by {event.by or conversation.claimed_by}",
        "completed": conversation.wrapup_code,
        "failed": "No agent channel is configured for this queue",
    }.get(event.state)


class SourceRelay:
    name = "source"

    def __init__(self, channels: Sequence[CustomerChannel]) -> None:
        # Shared with Services.customer_channels: edges set up later still register theirs here.
        self.channels = channels

    async def close(self) -> None:
        for channel in self.channels:
            close = getattr(channel, "close", None)
            if close is not None:
                await close()

    def channel_of(self, conversation: ConversationRecord) -> CustomerChannel | None:
        return next((c for c in self.channels if c.handles(conversation)), None)

    async def sync(
        self, conversation_id: int, *, settings: Settings, now: datetime, keep_alive: Callable[[], Awaitable[None]],
        lease: Any = None,
    ) -> None:
        conversation = await load_conversation(conversation_id)
        if conversation is None:
            return
        channel = self.channel_of(conversation)
        for item in await relay.pending_for_source(conversation_id):
            if channel is None:
                log.info("conversation %s has no reply channel; %s %s kept in Baton only", conversation.id,
                         type(item).__name__, item.id)
            elif isinstance(item, StatusEvent):
                await channel.send_status(conversation, item, status_detail(conversation, item))
            else:
                files = for_customer(item.id, item.attachments, platform=item.platform, settings=settings, now=now)
                await channel.send_reply(conversation, item, files)
            await relay.mark_relayed(item.id, now)
            await keep_alive()

"""The `source` delivery target: what goes back to where the customer is.

Relays the claiming agent's replies and the conversation's status changes through the customer's
channel: `reply_url` (signed JSON), the Bot Framework conversation (`handoff.status`), and every inbound
channel that registers itself (web chat, SMS, email). Re-entrant like the thread sync:
`Message.relayed_at` and one PlatformPost per status keep each thing sent once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Awaitable, Callable, Protocol, Sequence

from bot.delivery.files import for_customer
from bot.domain import ConversationRecord, ConversationStatus, Reply
from bot.settings import Settings
from storage import relay
from storage.summary import load_conversation

log = logging.getLogger(__name__)

# Conversation status → the status the source hears (SPEC 3.1 / 3.2 handoff.status states).
STATUS_EVENTS = {ConversationStatus.CLAIMED: "accepted", ConversationStatus.WRAPPED: "completed",
                 ConversationStatus.FAILED: "failed"}


class CustomerChannel(Protocol):
    """A way back to the customer. An inbound channel's edge implements one and registers it in
    `Services.customer_channels`; the first that `handles` a conversation carries its traffic."""

    name: str

    def handles(self, conversation: ConversationRecord) -> bool: ...

    async def send_reply(self, conversation: ConversationRecord, reply: Reply, files: list[dict[str, Any]]) -> None: ...

    async def send_status(self, conversation: ConversationRecord, state: str, detail: str | None) -> None: ...


def status_detail(conversation: ConversationRecord, state: str) -> str | None:
    return {
        "accepted": f"Claimed by {conversation.claimed_by}",
        "completed": conversation.wrapup_code,
        "failed": "No agent channel is configured for this queue",
    }.get(state)


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
        self, conversation_id: int, *, settings: Settings, now: datetime, keep_alive: Callable[[], Awaitable[None]]
    ) -> None:
        conversation = await load_conversation(conversation_id)
        if conversation is None:
            return
        channel = self.channel_of(conversation)
        if channel is not None:
            await self._send_status(channel, conversation, now)
        for reply in await relay.unrelayed_replies(conversation_id):
            files = for_customer(reply.id, reply.attachments, platform=reply.platform, settings=settings, now=now)
            if channel is not None:
                await channel.send_reply(conversation, reply, files)
            else:
                log.info("conversation %s has no reply channel; agent reply %s kept in Baton only", conversation.id, reply.id)
            await relay.mark_relayed(reply.id, now)
            await keep_alive()

    async def _send_status(self, channel: CustomerChannel, conversation: ConversationRecord, now: datetime) -> None:
        state = STATUS_EVENTS.get(conversation.status)
        if state is None or await relay.status_sent(conversation.id, state):
            return
        await channel.send_status(conversation, state, status_detail(conversation, state))
        await relay.record_status(conversation.id, state, now)

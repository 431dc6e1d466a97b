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
from bot.delivery.poster import GiveUp
from bot.domain import ConversationRecord, Reply, StatusEvent
from bot.settings import Settings
from storage import channels as channel_store
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
        "completed": event.code or conversation.wrapup_code,
        "failed": "No agent channel is configured for this queue",
        "queued": "Back in the queue for the next agent",
    }.get(event.state)


class SourceRelay:
    name = "source"

    def __init__(self, channels: Sequence[CustomerChannel]) -> None:
        # Shared with Services.customer_channels: edges set up later still register theirs here.
        self.channels = channels
        self.services = None  # set by create_app (`bind`): where a refusal's note goes

    def bind(self, services) -> None:
        self.services = services

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
            else:
                try:
                    if isinstance(item, StatusEvent):
                        await channel.send_status(conversation, item, status_detail(conversation, item))
                    else:
                        files = for_customer(item.id, item.attachments, platform=item.platform, settings=settings, now=now)
                        await channel.send_reply(conversation, item, files)
                except GiveUp as refused:
                    # Retrying cannot help (an opted-out number, an address that does not exist): the item is
                    # done, and the agents read why in the thread — once, in the same transaction.
                    log.warning("%s refused %s %s of conversation %s: %s", channel.name, type(item).__name__, item.id,
                                conversation.id, refused.reason)
                    await channel_store.refused(conversation_id, item.id, f"Not sent to the customer: {refused.reason}.",
                                                targets=self._thread_targets(), now=now)
                    if self.services is not None:
                        self.services.wake()
                    await keep_alive()
                    continue
            await relay.mark_relayed(item.id, now)
            await keep_alive()

    def _thread_targets(self) -> list[str]:
        return self.services.thread_targets if self.services is not None else []

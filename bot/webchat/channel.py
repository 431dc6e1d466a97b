"""The web chat's way back to the visitor: a `CustomerChannel` for the outbox's `source` target.

The outbox relays the claiming agent's replies and the status changes in order, with retries; this channel
writes each into the visitor's event stream (the core decides the words) and wakes the streams of this
process. Streams in other processes hear of it through `EventHub`'s poll.
"""

from __future__ import annotations

from typing import Any

from bot.core import webchat
from bot.core.services import Services
from bot.domain import ConversationRecord, Reply, StatusEvent
from bot.webchat.hub import EventHub


class WebchatChannel:
    name = "webchat"

    def __init__(self, services: Services, hub: EventHub) -> None:
        self.services = services
        self.hub = hub

    def handles(self, conversation: ConversationRecord) -> bool:
        return webchat.handles(conversation)

    async def send_reply(self, conversation: ConversationRecord, reply: Reply, files: list[dict[str, Any]]) -> None:
        await webchat.relay_reply(self.services, conversation, reply, files)
        self.hub.notify(conversation.id)

    async def send_status(self, conversation: ConversationRecord, event: StatusEvent, detail: str | None) -> None:
        await webchat.relay_status(self.services, conversation, event)
        self.hub.notify(conversation.id)

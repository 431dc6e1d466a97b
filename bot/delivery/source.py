"""The `source` delivery target: what goes back to where the customer is.

Relays the claiming agent's replies (to `reply_url` as signed JSON, or into the Bot Framework
conversation) and sends Bot Framework `handoff.status` events. Re-entrant like the thread sync:
`Message.relayed_at` and one PlatformPost per status keep each thing sent once.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import Any, Awaitable, Callable, Protocol

import aiohttp

from bot.delivery.files import for_customer
from bot.delivery.poster import RetryLater
from bot.settings import Settings
from bot.signing import signed_headers
from storage import relay
from storage.summary import ConversationRecord, load_conversation

log = logging.getLogger(__name__)

# Conversation status → handoff.status state (SPEC 3.2).
STATUS_EVENTS = {"claimed": "accepted", "wrapped": "completed", "failed": "failed"}


class BotFrameworkSender(Protocol):
    """Implemented by the Teams edge: posts into a Bot Framework conversation from its stored origin."""

    async def send_status(self, origin: dict[str, Any], state: str, message: str | None) -> None: ...

    async def send_reply(self, origin: dict[str, Any], agent_name: str, text: str, files: list[dict[str, Any]]) -> None: ...


def _retry_after(response: aiohttp.ClientResponse) -> float:
    try:
        return float(response.headers.get("Retry-After", "5"))
    except ValueError:
        return 5.0


class SourceRelay:
    name = "source"

    def __init__(self, *, webhook_secret: str | None, botframework: BotFrameworkSender | None = None) -> None:
        self.webhook_secret = webhook_secret
        self.botframework = botframework
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._session

    async def sync(
        self, conversation_id: int, *, settings: Settings, now: datetime, keep_alive: Callable[[], Awaitable[None]]
    ) -> None:
        conversation = await load_conversation(conversation_id)
        if conversation is None:
            return
        if conversation.origin and self.botframework:
            await self._send_status(conversation, now)
        for reply in await relay.unrelayed_replies(conversation_id):
            files = for_customer(reply.id, reply.attachments, platform=reply.platform, settings=settings, now=now)
            await self._relay(conversation, reply, files)
            await relay.mark_relayed(reply.id, now)
            await keep_alive()

    async def _send_status(self, conversation: ConversationRecord, now: datetime) -> None:
        state = STATUS_EVENTS.get(conversation.status)
        if state is None:
            return
        if await relay.status_sent(conversation.id, state):
            return
        message = {
            "accepted": f"Claimed by {conversation.claimed_by}",
            "completed": conversation.wrapup_code,
            "failed": "No agent channel is configured for this queue",
        }[state]
        await self.botframework.send_status(conversation.origin, state, message)
        await relay.record_status(conversation.id, state, now)

    async def _relay(self, conversation: ConversationRecord, reply: relay.Reply, files: list[dict[str, Any]]) -> None:
        if conversation.reply_url:
            await self._post_reply_url(conversation, reply, files)
        elif conversation.origin and self.botframework:
            await self.botframework.send_reply(conversation.origin, reply.agent_name, reply.text, files)
        else:
            log.info("conversation %s has no reply channel; agent reply %s kept in Baton only", conversation.id, reply.id)

    async def _post_reply_url(self, conversation: ConversationRecord, reply: relay.Reply, files: list[dict[str, Any]]) -> None:
        body = json.dumps(
            {
                "source": conversation.source,
                "conversation_id": conversation.external_id,
                "message_id": reply.id,
                "from": {"role": "agent", "name": reply.agent_name},
                "text": reply.text,
                "attachments": files,
                "at": reply.at.isoformat(),
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers.update(signed_headers(self.webhook_secret, int(time.time()), body))
        try:
            async with self._http().post(conversation.reply_url, data=body, headers=headers) as response:
                if response.status == 429 or response.status >= 500:
                    raise RetryLater(_retry_after(response), f"reply_url answered {response.status}")
                if response.status >= 400:
                    # The integrator refuses this message; retrying will not change that. Keep it, say so.
                    log.warning("reply_url refused message %s with %s", reply.id, response.status)
        except aiohttp.ClientError as error:
            raise RetryLater(5, f"reply_url unreachable: {type(error).__name__}") from None

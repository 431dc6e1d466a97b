"""The `reply_url` channel: an integrator's endpoint receives the agent's replies as signed JSON (SPEC 3.1)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import aiohttp

from bot.delivery.poster import RetryLater
from bot.domain import ConversationRecord, Reply
from bot.signing import signed_headers

log = logging.getLogger(__name__)


def _retry_after(response: aiohttp.ClientResponse) -> float:
    try:
        return float(response.headers.get("Retry-After", "5"))
    except ValueError:
        return 5.0


class WebhookChannel:
    """POSTs to the conversation's `reply_url`, signed like incoming webhooks with BATON_WEBHOOK_SECRET."""

    name = "reply_url"

    def __init__(self, *, webhook_secret: str | None) -> None:
        self.webhook_secret = webhook_secret
        self._session: aiohttp.ClientSession | None = None

    def handles(self, conversation: ConversationRecord) -> bool:
        return bool(conversation.reply_url)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._session

    async def send_status(self, conversation: ConversationRecord, state: str, detail: str | None) -> None:
        return None  # reply_url hears agents' messages only, for now

    async def send_reply(self, conversation: ConversationRecord, reply: Reply, files: list[dict[str, Any]]) -> None:
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

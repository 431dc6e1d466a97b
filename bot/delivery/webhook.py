"""The `reply_url` channel: an integrator's endpoint receives the agents' replies and the conversation's status
changes as signed JSON POSTs, each with a `type` (SPEC 3.1)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import aiohttp

from bot.delivery.poster import RetryLater
from bot.domain import ConversationRecord, Reply, StatusEvent
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

    async def send_status(self, conversation: ConversationRecord, event: StatusEvent, detail: str | None) -> None:
        """`accepted` when an agent claims, `completed` at wrap-up (with the disposition), `failed` when it
        cannot be routed: the events Bot Framework sources get as handoff.status (SPEC 3.1)."""
        body: dict[str, Any] = {"type": "status", "source": conversation.source,
                                "conversation_id": conversation.external_id, "status": event.state,
                                "at": event.at.isoformat()}
        if event.by:
            body["agent"] = {"name": event.by}
        if event.state == "completed":
            body["disposition"] = event.code or conversation.wrapup_code
        await self._post(conversation, body, what=f"status {event.id}")

    async def send_reply(self, conversation: ConversationRecord, reply: Reply, files: list[dict[str, Any]]) -> None:
        await self._post(conversation, {
            "type": "message",
            "source": conversation.source,
            "conversation_id": conversation.external_id,
            "message_id": reply.id,
            "from": {"role": "agent", "name": reply.agent_name},
            "text": reply.text,
            "attachments": files,
            "at": reply.at.isoformat(),
        }, what=f"message {reply.id}")

    async def _post(self, conversation: ConversationRecord, payload: dict[str, Any], *, what: str) -> None:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers.update(signed_headers(self.webhook_secret, int(time.time()), body))
        try:
            async with self._http().post(conversation.reply_url, data=body, headers=headers) as response:
                if response.status == 429 or response.status >= 500:
                    raise RetryLater(_retry_after(response), f"reply_url answered {response.status}")
                if response.status >= 400:
                    # The integrator refuses this message; retrying will not change that. Keep it, say so.
                    log.warning("reply_url refused %s with %s", what, response.status)
        except aiohttp.ClientError as error:
            raise RetryLater(5, f"reply_url unreachable: {type(error).__name__}") from None

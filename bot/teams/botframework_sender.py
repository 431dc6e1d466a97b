"""The Bot Framework channel back to the customer (SPEC 3.2, PROTOCOLS 3.1): `handoff.status` events and the
claiming agent's relayed replies, posted into the conversation a handoff came from, at its serviceUrl."""

from __future__ import annotations

from typing import Any

from bot.domain import BotFrameworkOrigin, ConversationRecord, Reply, StatusEvent
from bot.teams.connector import BotConnector


class BotFrameworkChannel:
    """A `bot.delivery.source.CustomerChannel` for handoffs that came as `handoff.initiate`; raises RetryLater
    on throttling (the connector does)."""

    name = "botframework"

    def __init__(self, connector: BotConnector) -> None:
        self.connector = connector

    def handles(self, conversation: ConversationRecord) -> bool:
        return conversation.origin is not None

    @staticmethod
    def _envelope(origin: BotFrameworkOrigin) -> dict[str, Any]:
        activity: dict[str, Any] = {
            "channelId": origin.channel_id,
            "conversation": {"id": origin.conversation_id},
            "serviceUrl": origin.service_url,
        }
        if origin.bot_id:
            activity["from"] = {"id": origin.bot_id, "name": origin.bot_name or "Baton", "role": "bot"}
        if origin.user_id:
            activity["recipient"] = {"id": origin.user_id, "name": origin.user_name, "role": "user"}
        if origin.activity_id:
            activity["replyToId"] = origin.activity_id
        return activity

    async def send_status(self, conversation: ConversationRecord, event: StatusEvent, detail: str | None) -> None:
        origin = conversation.origin
        activity = {**self._envelope(origin), "type": "event", "name": "handoff.status",
                    "value": {"state": event.state, "message": detail}}
        await self.connector.send(origin.service_url, origin.conversation_id, activity)

    async def send_reply(self, conversation: ConversationRecord, reply: Reply, files: list[dict[str, Any]]) -> None:
        origin = conversation.origin
        activity = self._envelope(origin)
        sender = {**activity.get("from", {"id": origin.bot_id or "baton"}), "name": reply.agent_name, "role": "bot"}
        activity.update(type="message", text=reply.text, textFormat="plain", **{"from": sender})
        if files:
            activity["attachments"] = [
                {"contentType": f.get("content_type") or "application/octet-stream", "contentUrl": f["url"], "name": f["name"]}
                for f in files if f.get("url")
            ]
        await self.connector.send(origin.service_url, origin.conversation_id, activity)

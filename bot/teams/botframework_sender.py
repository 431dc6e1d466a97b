"""Posts into the Bot Framework conversation a handoff came from (SPEC 3.2, PROTOCOLS 3.1):
`handoff.status` events and the claiming agent's relayed replies, to the origin's serviceUrl."""

from __future__ import annotations

from typing import Any

from bot.teams.connector import BotConnector


class TeamsBotFrameworkSender:
    """Implements bot.delivery.source.BotFrameworkSender; raises RetryLater on throttling."""

    def __init__(self, connector: BotConnector) -> None:
        self.connector = connector

    @staticmethod
    def _envelope(origin: dict[str, Any]) -> dict[str, Any]:
        activity: dict[str, Any] = {
            "channelId": origin.get("channel_id"),
            "conversation": {"id": origin["conversation_id"]},
            "serviceUrl": origin["service_url"],
        }
        if origin.get("bot_id"):
            activity["from"] = {"id": origin["bot_id"], "name": origin.get("bot_name") or "Baton", "role": "bot"}
        if origin.get("user_id"):
            activity["recipient"] = {"id": origin["user_id"], "name": origin.get("user_name"), "role": "user"}
        if origin.get("activity_id"):
            activity["replyToId"] = origin["activity_id"]
        return activity

    async def send_status(self, origin: dict[str, Any], state: str, message: str | None) -> None:
        activity = {**self._envelope(origin), "type": "event", "name": "handoff.status",
                    "value": {"state": state, "message": message}}
        await self.connector.send(origin["service_url"], origin["conversation_id"], activity)

    async def send_reply(self, origin: dict[str, Any], agent_name: str, text: str, files: list[dict[str, Any]]) -> None:
        activity = self._envelope(origin)
        sender = {**activity.get("from", {"id": origin.get("bot_id") or "baton"}), "name": agent_name, "role": "bot"}
        activity.update(type="message", text=text, textFormat="plain", **{"from": sender})
        if files:
            activity["attachments"] = [
                {"contentType": f.get("content_type") or "application/octet-stream", "contentUrl": f["url"], "name": f["name"]}
                for f in files if f.get("url")
            ]
        await self.connector.send(origin["service_url"], origin["conversation_id"], activity)

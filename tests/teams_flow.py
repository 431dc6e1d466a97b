"""Steps the Teams tests share: install Baton in a team, route a channel, hand a customer off."""

from __future__ import annotations

from typing import Any

from bot.teams import BOT as TEAMS_BOT
from tests.fakes.bot_connector import FakeBotConnector
from tests.teams_activities import CHANNEL, bf_handoff, bot_added_to_team, channel_message, post_activity


async def settle(baton: Any) -> None:
    """Wait for the turn work Baton does after answering (installs, commands, thread replies)."""
    await baton.app[TEAMS_BOT].drain()


async def install_and_route(baton: Any, connector: FakeBotConnector, queue: str = "") -> None:
    status, _ = await post_activity(baton, bot_added_to_team(connector.url))
    assert status == 200
    await settle(baton)
    status, _ = await post_activity(baton, channel_message(connector.url, f"route here {queue}".strip()))
    assert status == 200
    await connector.wait_for(lambda c: [x for x in c.ok("reply") if "now receives" in x.text])


async def bf_thread(baton: Any, connector: FakeBotConnector, conversation_id: str = "dl-conv-7f3a") -> tuple[str, str, str]:
    """A Bot Framework handoff through /api/messages; returns (baton id, thread conversation id, card activity id)."""
    status, body = await post_activity(baton, bf_handoff(connector.url, conversation_id))
    assert status == 202, body
    created = await connector.wait_for(lambda c: c.ok("create_conversation"))
    thread = created[-1].response["id"]
    return body["conversation"], thread, created[-1].response["activityId"]

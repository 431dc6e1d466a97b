"""Teams / Bot Framework activity factories (shaped like tests/data/fixtures/teams_*.json), a running
Baton with Teams on (the real app, the real TeamsPoster, a fake Bot Connector), and the steps the Teams
tests share: install Baton in a team, route a channel, hand a customer off."""

from __future__ import annotations

import copy
import itertools
import json
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any, AsyncIterator

from bot.settings import Settings
from bot.teams import BOT as TEAMS_BOT
from bot.teams.poster import TeamsPoster
from tests.cards_factory import assert_valid_card
from tests.fakes.bot_connector import FakeBotConnector
from tests.handoff_factory import load_fixture, make_botframework_activity
from tests.harness import running_baton

TENANT = "bec8e231-67ad-484e-87f4-3e5438390a77"
TEAM = "19:12d021jdoijsaeoaue0u@thread.tacv2"
CHANNEL = "19:support0channel0baton@thread.tacv2"
BOT = {"id": "28:76096e45-119f-4736-859c-6dfff54395f7", "name": "Baton"}
ANA = {"id": "29:ana-agent-0001", "name": "Ana Agent", "aadObjectId": "aad-ana"}
BEN = {"id": "29:ben-agent-0002", "name": "Ben Agent", "aadObjectId": "aad-ben"}
ADMIN = {"id": "29:ada-admin-0003", "name": "Ada Admin", "aadObjectId": "aad-ada"}

_ids = itertools.count(1)


def _id() -> str:
    return f"1700000000{next(_ids):04d}"


def _channel_data(channel: str = CHANNEL) -> dict[str, Any]:
    return {"channel": {"id": channel}, "team": {"id": TEAM}, "tenant": {"id": TENANT}}


def bot_added_to_team(service_url: str, **overrides: Any) -> dict[str, Any]:
    activity = {
        "type": "conversationUpdate",
        "id": _id(),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": ANA,
        "recipient": BOT,
        "conversation": {"id": TEAM, "conversationType": "channel", "isGroup": True, "tenantId": TENANT},
        "membersAdded": [BOT],
        "channelData": {"eventType": "teamMemberAdded", "team": {"id": TEAM, "name": "Support"},
                        "tenant": {"id": TENANT}},
    }
    activity.update(overrides)
    return activity


def channel_message(service_url: str, text: str, *, user: dict[str, Any] = ANA, thread: str | None = None,
                    mention: bool = True, channel: str = CHANNEL, **overrides: Any) -> dict[str, Any]:
    """A channel post (or, with `thread`, a reply in that thread), like teams_message_activity.json."""
    activity = load_fixture("teams_message_activity.json")
    message_id = _id()
    activity.update(
        id=message_id,
        serviceUrl=service_url,
        channelId="msteams",
        text=(f"<at>{BOT['name']}</at> {text}" if mention else text),
        timestamp="2026-11-22T10:05:00Z",
        entities=[{"type": "mention", "mentioned": dict(BOT), "text": f"<at>{BOT['name']}</at>"}] if mention else [],
        recipient=dict(BOT),
        conversation={"id": thread or f"{channel};messageid={message_id}", "conversationType": "channel",
                      "isGroup": True, "tenantId": TENANT},
        channelData=_channel_data(channel),
        textFormat="plain",
        **{"from": dict(user)},
    )
    activity.pop("attachments", None)
    activity.pop("localTimestamp", None)
    if thread:
        activity["replyToId"] = thread.split(";messageid=")[1]
    else:
        activity.pop("replyToId", None)
    activity.update(overrides)
    return activity


def personal_message(service_url: str, text: str, *, user: dict[str, Any] = ANA, **overrides: Any) -> dict[str, Any]:
    activity = {
        "type": "message",
        "id": _id(),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "text": text,
        "textFormat": "plain",
        "from": dict(user),
        "recipient": dict(BOT),
        "conversation": {"id": f"a:personal-{user['id']}", "conversationType": "personal", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
    }
    activity.update(overrides)
    return activity


def submit_message(service_url: str, value: dict[str, Any], *, conversation: str, user: dict[str, Any] = ANA,
                   reply_to: str = "1575667808184") -> dict[str, Any]:
    """An Action.Submit fallback from an old client (teams_messageback_activity.json's shape)."""
    activity = load_fixture("teams_messageback_activity.json")
    activity.update(id=_id(), serviceUrl=service_url, value=value, text="", recipient=dict(BOT),
                    conversation={"id": conversation, "conversationType": "channel", "tenantId": TENANT},
                    channelData=_channel_data(conversation.split(";")[0]), replyToId=reply_to, **{"from": dict(user)})
    return activity


def invoke(service_url: str, name: str, value: dict[str, Any], *, conversation: str,
           user: dict[str, Any] = ANA) -> dict[str, Any]:
    return {
        "type": "invoke",
        "name": name,
        "id": _id(),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": dict(user),
        "recipient": dict(BOT),
        "conversation": {"id": conversation, "conversationType": "channel" if conversation.startswith("19:") else "personal",
                         "tenantId": TENANT},
        "channelData": _channel_data(conversation.split(";")[0]) if conversation.startswith("19:") else
        {"tenant": {"id": TENANT}},
        "value": value,
    }


def card_action(service_url: str, verb: str, data: dict[str, Any], *, conversation: str,
                user: dict[str, Any] = ANA) -> dict[str, Any]:
    """Action.Execute → invoke adaptiveCard/action (teams_invoke_action.json's shape)."""
    value = copy.deepcopy(load_fixture("teams_invoke_action.json")["value"])
    value["action"].update(verb=verb, data=data)
    return invoke(service_url, "adaptiveCard/action", value, conversation=conversation, user=user)


def bf_handoff(service_url: str, conversation_id: str = "dl-conv-7f3a", **overrides: Any) -> dict[str, Any]:
    """A Copilot Studio handoff.initiate whose serviceUrl is the fake connector."""
    activity = make_botframework_activity(**overrides)
    activity["serviceUrl"] = service_url
    activity["relatesTo"]["serviceUrl"] = service_url
    activity["conversation"] = {"id": conversation_id}
    activity["relatesTo"]["conversation"] = {"id": conversation_id}
    activity["value"]["va_ConversationId"] = conversation_id
    activity["recipient"] = {"id": "baton-hub", "name": "Baton"}
    return activity


def bf_customer_message(service_url: str, text: str, conversation_id: str = "dl-conv-7f3a") -> dict[str, Any]:
    return {
        "type": "message",
        "id": _id(),
        "channelId": "directline",
        "serviceUrl": service_url,
        "from": {"id": "dl_dana-1", "name": "Dana Whitfield", "role": "user"},
        "recipient": {"id": "baton-hub", "name": "Baton"},
        "conversation": {"id": conversation_id},
        "text": text,
    }


@asynccontextmanager
async def teams_baton(database_url: str, *, clock: Any = None, **overrides: Any) -> AsyncIterator[tuple[Any, FakeBotConnector]]:
    """Baton with BATON_TEAMS_DEV on loopback, a TeamsPoster and a fake Bot Connector; on exit every card
    the connector received is checked against the Adaptive Cards 1.5 schema and the 40 KB limit."""
    overrides.setdefault("teams_dev", True)
    overrides.setdefault("role_assignments", {ADMIN["id"]: "admin"})  # `route here` needs a supervisor or admin
    async with FakeBotConnector() as connector:
        settings = replace(Settings(database_url=database_url), **overrides)
        poster = TeamsPoster.from_settings(settings)
        async with running_baton(database_url, posters={"teams": poster}, run_worker=True, clock=clock,
                                 **overrides) as baton:
            yield baton, connector
        # Whatever the test did: every card Baton sent is Adaptive Card 1.5, valid, at most 40 KB.
        for card in connector.all_cards():
            assert_valid_card(card)


async def post_activity(baton: Any, activity: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
    return await baton.post_raw("/api/messages", json.dumps(activity).encode(),
                                {"Content-Type": "application/json", **(headers or {})})


async def settle(baton: Any) -> None:
    """Wait for the turn work Baton does after answering (installs, commands, thread replies)."""
    await baton.app[TEAMS_BOT].drain()


async def install_and_route(baton: Any, connector: FakeBotConnector, queue: str = "") -> None:
    status, _ = await post_activity(baton, bot_added_to_team(connector.url))
    assert status == 200
    await settle(baton)
    status, _ = await post_activity(baton, channel_message(connector.url, f"route here {queue}".strip(), user=ADMIN))
    assert status == 200
    await connector.wait_for(lambda c: [x for x in c.ok("reply") if "now receives" in x.text])


async def bf_thread(baton: Any, connector: FakeBotConnector, conversation_id: str = "dl-conv-7f3a") -> tuple[str, str, str]:
    """A Bot Framework handoff through /api/messages; returns (baton id, thread conversation id, card activity id)."""
    status, body = await post_activity(baton, bf_handoff(connector.url, conversation_id))
    assert status == 200 and body["status"] == "queued", body
    created = await connector.wait_for(lambda c: c.ok("create_conversation"))
    thread = created[-1].response["id"]
    return body["conversation"], thread, created[-1].response["activityId"]

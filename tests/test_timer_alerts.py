"""SPEC 5 timers reach people: a reminder is shown in the channel or mentions the queue's `notify` group;
an escalation goes to `escalate_to` with a link to the thread. Slack and Teams, through their fakes, with
the app's injected clock making the timers due."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from bot.config import QueueRoute
from bot.core import routing, timers
from bot.settings import Settings
from bot.web.app import services_of
from tests.handoff_factory import make_generic_payload
from tests.slack_signing import HANDOFF_CHANNEL, slack_baton
from tests.teams_activities import CHANNEL, TENANT, install_and_route, teams_baton

SUPERVISORS_SLACK = "C0SUPERVISORS"
SUPERVISORS_TEAMS = "19:supervisors0channel@thread.tacv2"


class Clock:
    """The app's clock: the test moves it forward to make a timer due."""

    def __init__(self) -> None:
        self.at = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.at


async def _sweep_after(baton, clock: Clock, minutes: float) -> int:
    clock.at += timedelta(minutes=minutes)
    return await timers.sweep_unclaimed(services_of(baton.app))


# --------------------------------------------------------------------------- Slack


def _thread_line(slack, card_ts: str, words: str):
    return next((c for c in slack.of("chat.postMessage", thread_ts=card_ts) if words in json.dumps(c.args)), None)


async def test_slack_a_reminder_without_notify_is_broadcast_to_the_channel(database_url):
    clock = Clock()
    async with slack_baton(database_url, clock=clock) as world:
        _, card_ts = await world.handoff(conversation_id="va-remind")

        assert await _sweep_after(world.baton, clock, 6) == 1

        reminder = await world.slack.wait_for(lambda s: _thread_line(s, card_ts, "Still waiting"))
        assert reminder.args["channel"] == HANDOFF_CHANNEL
        assert reminder.args.get("reply_broadcast") is True
        assert "subteam" not in json.dumps(reminder.args)
        # Ordinary transcript lines stay in the thread.
        assert not [c for c in world.slack.of("chat.postMessage", thread_ts=card_ts)
                    if c.args.get("reply_broadcast") and c is not reminder]


async def test_slack_a_reminder_mentions_the_queues_user_group_instead(database_url):
    clock = Clock()
    async with slack_baton(database_url, clock=clock, routing={"billing": QueueRoute(notify="S0123BILLING")}) as world:
        _, card_ts = await world.handoff(conversation_id="va-notify", queue="billing")

        await _sweep_after(world.baton, clock, 6)

        reminder = await world.slack.wait_for(lambda s: _thread_line(s, card_ts, "Still waiting"))
        assert "reply_broadcast" not in reminder.args
        assert reminder.args["blocks"][0]["text"] == {"type": "mrkdwn", "text": "<!subteam^S0123BILLING>"}
        assert reminder.args["text"].startswith("<!subteam^S0123BILLING>")


async def test_slack_an_escalation_goes_to_escalate_to_with_a_permalink_to_the_thread(database_url):
    clock = Clock()
    route = QueueRoute(notify="S0123BILLING", escalate_to=SUPERVISORS_SLACK)
    async with slack_baton(database_url, clock=clock, routing={"billing": route}) as world:
        _, card_ts = await world.handoff(conversation_id="va-escalate", queue="billing")
        await _sweep_after(world.baton, clock, 6)
        await world.slack.wait_for(lambda s: _thread_line(s, card_ts, "Still waiting"))
        assert not world.slack.of("chat.postMessage", channel=SUPERVISORS_SLACK)  # a reminder is not an escalation

        await _sweep_after(world.baton, clock, 10)

        escalated = await world.slack.wait_for(lambda s: s.of("chat.postMessage", channel=SUPERVISORS_SLACK))
        assert len(escalated) == 1 and "thread_ts" not in escalated[0].args
        permalink = f"https://test.slack.com/archives/{HANDOFF_CHANNEL}/p{card_ts.replace('.', '')}"
        assert world.slack.of("chat.getPermalink", channel=HANDOFF_CHANNEL, message_ts=card_ts)
        assert f"<{permalink}|Open the thread>" in json.dumps(escalated[0].args["blocks"])
        assert "Escalated: unclaimed for 15 minutes" in escalated[0].args["text"]
        # The thread keeps its own line, quietly: the supervisors were told elsewhere.
        line = _thread_line(world.slack, card_ts, "Escalated")
        assert line is not None and "reply_broadcast" not in line.args

        await _sweep_after(world.baton, clock, 30)  # later ticks escalate nothing again
        assert len(world.slack.of("chat.postMessage", channel=SUPERVISORS_SLACK)) == 1


async def test_slack_an_escalation_without_escalate_to_is_broadcast_in_the_channel(database_url):
    clock = Clock()
    async with slack_baton(database_url, clock=clock) as world:
        _, card_ts = await world.handoff(conversation_id="va-escalate-here")

        await _sweep_after(world.baton, clock, 16)

        line = await world.slack.wait_for(lambda s: _thread_line(s, card_ts, "Escalated"))
        assert line.args.get("reply_broadcast") is True
        assert not world.slack.of("chat.getPermalink")


async def test_slack_an_escalation_to_a_supervisor_goes_to_their_dm_with_baton(database_url):
    clock = Clock()
    async with slack_baton(database_url, clock=clock, routing={"billing": QueueRoute(escalate_to="U0SUPER")}) as world:
        _, card_ts = await world.handoff(conversation_id="va-escalate-dm", queue="billing")

        await _sweep_after(world.baton, clock, 16)

        dm = await world.slack.wait_for(lambda s: s.of("chat.postMessage", channel="U0SUPER"))
        assert card_ts.replace(".", "") in json.dumps(dm[0].args["blocks"])


async def test_slack_an_escalate_to_channel_baton_is_not_in_does_not_repeat_the_thread_line(database_url):
    clock = Clock()
    async with slack_baton(database_url, clock=clock, routing={"billing": QueueRoute(escalate_to="C0NOTINVITED")}) as world:
        world.slack.not_in.add("C0NOTINVITED")
        _, card_ts = await world.handoff(conversation_id="va-escalate-closed", queue="billing")

        await _sweep_after(world.baton, clock, 16)

        await world.slack.wait_for(lambda s: [c for c in s.calls if c.args.get("channel") == "C0NOTINVITED"])
        await world.baton.worker.drain()
        clock.at += timedelta(minutes=10)  # past any backoff: a failed sync would run again now
        await world.baton.worker.drain()
        lines = [c for c in world.slack.of("chat.postMessage", thread_ts=card_ts) if "Escalated" in json.dumps(c.args)]
        assert len(lines) == 1


# --------------------------------------------------------------------------- Teams


async def _teams_handoff(baton, connector) -> tuple[str, str]:
    status, body = await baton.post_signed("/handoff", make_generic_payload(conversation_id="va-teams-timer"))
    assert status == 202, body
    created = await connector.wait_for(lambda c: c.ok("create_conversation"))
    return created[-1].response["id"], created[-1].response["activityId"]


def _link(root: str) -> str:
    return f"https://teams.microsoft.com/l/message/{quote(CHANNEL, safe='')}/{root}?parentMessageId={root}&tenantId={TENANT}"


async def test_teams_a_reminder_without_notify_is_a_channel_post_linking_the_thread(database_url):
    clock = Clock()
    async with teams_baton(database_url, clock=clock) as (baton, connector):
        await install_and_route(baton, connector)
        thread, root = await _teams_handoff(baton, connector)

        await _sweep_after(baton, clock, 6)

        posts = await connector.wait_for(lambda c: [x for x in c.ok("create_conversation") if "Still waiting" in x.text])
        assert len(posts) == 1
        post = posts[0]
        assert post.body["channelData"]["channel"]["id"] == CHANNEL
        assert f"[Open the thread]({_link(root)})" in post.text
        # The thread has the line too, for whoever reads it later.
        assert [x for x in connector.in_conversation(thread) if "Still waiting" in x.text]


async def test_teams_a_reminder_mentions_the_queues_tag(database_url):
    clock = Clock()
    async with teams_baton(database_url, clock=clock, routing={"billing": QueueRoute(notify="Billing leads")}) as (baton, connector):
        await install_and_route(baton, connector)
        thread, _ = await _teams_handoff(baton, connector)

        await _sweep_after(baton, clock, 6)

        line = (await connector.wait_for(
            lambda c: [x for x in c.in_conversation(thread) if "Still waiting" in x.text]))[0]
        assert line.text.startswith("<at>Billing leads</at> ")
        assert line.activity["entities"] == [{"type": "mention", "text": "<at>Billing leads</at>",
                                              "mentioned": {"id": "Billing leads", "name": "Billing leads", "type": "tag"}}]
        assert not [x for x in connector.ok("create_conversation") if "Still waiting" in x.text]


async def test_teams_an_escalation_is_posted_in_escalate_to_with_a_link(database_url):
    clock = Clock()
    async with teams_baton(database_url, clock=clock,
                           routing={"billing": QueueRoute(escalate_to=SUPERVISORS_TEAMS)}) as (baton, connector):
        await install_and_route(baton, connector)
        _, root = await _teams_handoff(baton, connector)

        await _sweep_after(baton, clock, 16)

        posts = await connector.wait_for(lambda c: [x for x in c.ok("create_conversation") if "Escalated" in x.text])
        assert len(posts) == 1
        assert posts[0].body["channelData"]["channel"]["id"] == SUPERVISORS_TEAMS
        assert _link(root) in posts[0].text


async def test_teams_an_escalation_without_escalate_to_is_posted_in_the_threads_channel(database_url):
    clock = Clock()
    async with teams_baton(database_url, clock=clock) as (baton, connector):
        await install_and_route(baton, connector)
        _, root = await _teams_handoff(baton, connector)

        await _sweep_after(baton, clock, 16)

        posts = await connector.wait_for(lambda c: [x for x in c.ok("create_conversation") if "Escalated" in x.text])
        assert posts[0].body["channelData"]["channel"]["id"] == CHANNEL and _link(root) in posts[0].text


# --------------------------------------------------------------------------- the decision, per platform


@pytest.mark.parametrize("platform, kind, route, expected", [
    ("slack", "reminder", {}, dict(broadcast=True)),
    ("slack", "reminder", {"notify": "S0123"}, dict(mention="S0123")),
    ("teams", "reminder", {"notify": "S0123"}, dict(broadcast=True)),  # a Slack group means nothing in Teams
    ("teams", "reminder", {"notify": "Leads"}, dict(mention="Leads")),
    ("slack", "reminder", {"notify": "Leads"}, dict(broadcast=True)),  # a Teams tag means nothing in Slack
    ("slack", "escalation", {"escalate_to": "U0SUPER"}, dict(elsewhere="U0SUPER")),  # a supervisor's DM
    ("slack", "escalation", {"escalate_to": "S0SUPERS"}, dict(broadcast=True, mention="S0SUPERS")),
    ("teams", "escalation", {"escalate_to": "C0SUPERS", "notify": "Leads"}, dict(broadcast=True, mention="Leads")),
    ("teams", "escalation", {"escalate_to": SUPERVISORS_TEAMS}, dict(elsewhere=SUPERVISORS_TEAMS)),
])
def test_who_a_timer_reaches_on_each_platform(platform, kind, route, expected):
    settings = Settings(routing={"billing": QueueRoute(**route)})

    alert = routing.alert_for(platform, kind, "billing", settings)

    assert (alert.broadcast, alert.mention, alert.elsewhere) == (
        expected.get("broadcast", False), expected.get("mention"), expected.get("elsewhere"))
    assert routing.alert_for(platform, "text", "billing", settings) is None

"""Socket Mode: with SLACK_APP_TOKEN Baton connects out to Slack and handles the same payloads without HTTP."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from bot.slack.poster import SlackPoster
from storage.models import Message
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.harness import running_baton
from tests.slack_signing import AGENTS, command_body, event_body, mention


async def test_socket_mode_connects_and_answers_a_slash_command_envelope(database_url):
    async with FakeSlack(users=AGENTS) as slack:
        settings = dict(slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN, slack_api_url=slack.api_url,
                        slack_channel="C0HANDOFF")
        poster = SlackPoster(api_url=slack.api_url, bot_token=BOT_TOKEN, default_channel="C0HANDOFF", rate=50.0)
        async with running_baton(database_url, posters={"slack": poster}, run_worker=True, **settings) as baton:
            await slack.wait_for(lambda s: s.sockets)
            payload = dict(parse_qsl(command_body("help", response_url=slack.response_url()).decode()))

            await slack.send_envelope({"envelope_id": "env-1", "type": "slash_commands", "payload": payload,
                                       "accepts_response_payload": True})

            await slack.wait_for(lambda s: any(a.get("envelope_id") == "env-1" for a in s.socket_acks))
            answer = await slack.wait_for(lambda s: next((r for r in s.responses if "/baton lookup" in json.dumps(r)), None))
            assert answer["response_type"] == "ephemeral"
            status, _ = await baton.post_raw("/slack/events", b"{}", {"Content-Type": "application/json"})
            assert status == 404  # no signing secret: no HTTP endpoint at all


async def test_socket_mode_events_are_deduplicated_like_http_ones(database_url):
    async with FakeSlack(users=AGENTS) as slack:
        settings = dict(slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN, slack_api_url=slack.api_url,
                        slack_channel="C0HANDOFF")
        poster = SlackPoster(api_url=slack.api_url, bot_token=BOT_TOKEN, default_channel="C0HANDOFF", rate=50.0)
        async with running_baton(database_url, posters={"slack": poster}, run_worker=True, **settings):
            await slack.wait_for(lambda s: s.sockets)
            body = event_body(mention("sessions", user="W111", channel="C0ROOT", ts="1800000000.000001"), event_id="EvSOCK")

            for attempt, envelope_id in enumerate(("env-a", "env-b")):
                await slack.send_envelope({"envelope_id": envelope_id, "type": "events_api", "payload": body,
                                           "accepts_response_payload": False, "retry_attempt": attempt,
                                           "retry_reason": "timeout" if attempt else ""})
            await slack.wait_for(lambda s: {"env-a", "env-b"} <= {a.get("envelope_id") for a in s.socket_acks})

            await slack.wait_for(lambda s: s.of("chat.postEphemeral"))
            assert len(slack.of("chat.postEphemeral")) == 1
            assert await Message.all().count() == 0

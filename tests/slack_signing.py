"""Requests signed exactly as Slack signs them, and a Baton wired to the fake Slack Web API.

Slack's v0 scheme (PROTOCOLS 1.3): X-Slack-Signature = "v0=" + hex HMAC-SHA256(signing secret,
"v0:<X-Slack-Request-Timestamp>:<raw body>"). Payload shapes come from tests/data/fixtures/slack_*.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import urlencode

from bot.slack.poster import SlackPoster
from tests.fakes.slack_api import BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlack
from tests.handoff_factory import make_generic_payload
from tests.harness import RunningBaton, running_baton

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
HANDOFF_CHANNEL = "C0HANDOFF"
FIXTURES = Path(__file__).parent / "data" / "fixtures"
AGENTS = {"W111": "Ana Agent", "W222": "Ben Backup", "W333": "Sam Supervisor"}


def load(name: str) -> Any:
    text = (FIXTURES / name).read_text("utf-8")
    return json.loads(text) if name.endswith(".json") else text.strip()


def slack_signature(secret: str, timestamp: str | int, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_headers(secret: str, body: bytes, *, timestamp: int | None = None, content_type: str) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack_signature(secret, ts, body)}


# --------------------------------------------------------------------------- payloads from the fixtures


def command_body(text: str, *, user: str = "W111", channel: str = "C0ROOT", response_url: str, trigger_id: str = "111.111.xxx") -> bytes:
    fields = dict(pair.split("=", 1) for pair in load("slack_slash_command.txt").split("&"))
    from urllib.parse import unquote_plus

    fields = {k: unquote_plus(v) for k, v in fields.items()}
    fields.update(command="/baton", text=text, user_id=user, user_name=AGENTS.get(user, user).split()[0].lower(),
                  channel_id=channel, response_url=response_url, trigger_id=trigger_id, team_id=TEAM_ID)
    return urlencode(fields).encode()


def event_body(event: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    body = copy.deepcopy(load("slack_event_callback_message.json"))
    body["event"] = event
    body["event_id"] = event_id
    body["team_id"] = TEAM_ID
    body["authorizations"] = [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True,
                               "is_enterprise_install": False}]
    return body


def thread_message(text: str, *, user: str, channel: str, thread_ts: str, ts: str, **extra: Any) -> dict[str, Any]:
    event = copy.deepcopy(load("slack_event_callback_message_in_thread.json")["event"])
    event.update(user=user, text=text, channel=channel, thread_ts=thread_ts, ts=ts, event_ts=ts, channel_type="channel",
                 team=TEAM_ID, user_team=TEAM_ID, source_team=TEAM_ID, **extra)
    return event


def mention(text: str, *, user: str, channel: str, ts: str, thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts, "channel": channel,
             "event_ts": ts, "team": TEAM_ID}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def block_action(action_id: str, value: str, *, user: str, channel: str, message_ts: str, kind: str = "button",
                 response_url: str = "", trigger_id: str = "111.222.valid") -> dict[str, Any]:
    body = copy.deepcopy(load("slack_block_actions.json"))
    body["user"] = {"id": user, "username": AGENTS.get(user, user), "name": AGENTS.get(user, user), "team_id": TEAM_ID}
    body["team"]["id"] = TEAM_ID
    body["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False}
    body["channel"] = {"id": channel, "name": "support"}
    body["trigger_id"] = trigger_id
    body["response_url"] = response_url
    action = body["actions"][0]
    action.update(action_id=action_id, block_id="baton_card_actions", type=kind)
    if kind in ("static_select", "overflow"):
        action.pop("value", None)
        action.pop("text", None)
        action["selected_option"] = {"text": {"type": "plain_text", "text": "choice"}, "value": value}
    else:
        action["value"] = value
    return body


def view_submission(view: dict[str, Any], values: dict[str, Any], *, user: str) -> dict[str, Any]:
    """What Slack sends when `user` submits the modal Baton opened (`view` as recorded by the fake)."""
    body = copy.deepcopy(load("slack_view_submission.json"))
    body["user"] = {"id": user, "username": AGENTS.get(user, user), "name": AGENTS.get(user, user), "team_id": TEAM_ID}
    body["team"]["id"] = TEAM_ID
    state: dict[str, Any] = {}
    for block_id, value in values.items():
        if isinstance(value, dict):
            state[block_id] = {block_id: value}
        else:
            state[block_id] = {block_id: {"type": "plain_text_input", "value": value}}
    body["view"].update(blocks=view["blocks"], callback_id=view["callback_id"], private_metadata=view.get("private_metadata", ""),
                        title=view["title"], state={"values": state})
    return body


def card_button(payload_conv: str, verb: str, *, customer: int | None = None, filter: str | None = None) -> tuple[str, str]:
    """The action_id and value Baton's card gives a button (bot/cards/actions.py)."""
    from bot.cards.actions import ActionPayload

    action_id = "baton_" + verb + (f".{filter}" if filter else "")
    return action_id, ActionPayload(conversation=payload_conv, customer=customer, filter=filter).to_value()


async def click(world: "SlackWorld", conv: str, verb: str, *, user: str, card_ts: str, **kw: Any):
    """An agent clicks a card button in the handoff channel (a signed block_actions request)."""
    action_id, value = card_button(conv, verb, **kw)
    return await world.interaction(block_action(action_id, value, user=user, channel=HANDOFF_CHANNEL, message_ts=card_ts))


def selected(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}


def checked(*values: str) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values]}


def message_shortcut(callback_id: str, *, user: str, channel: str, message: dict[str, Any]) -> dict[str, Any]:
    shape = load("slack_message_shortcut.shape.json")
    body = {key: shape[key] for key in ("type", "callback_id", "trigger_id", "message_ts", "response_url", "token", "action_ts")}
    body.update(callback_id=callback_id, trigger_id="333.444.valid", message_ts=message["ts"], response_url="",
                token="verification_token", action_ts="1700000100.000001")
    body["message"] = {"type": "message", "user": message.get("user", user), "text": message["text"], "ts": message["ts"]}
    if message.get("thread_ts"):
        body["message"]["thread_ts"] = message["thread_ts"]
    body["team"] = {"id": TEAM_ID, "domain": "test"}
    body["user"] = {"id": user, "name": AGENTS.get(user, user), "team_id": TEAM_ID}
    body["channel"] = {"id": channel, "name": "support"}
    body["is_enterprise_install"] = False
    return body


# --------------------------------------------------------------------------- a Baton talking to the fake Slack


@dataclass
class SlackWorld:
    baton: RunningBaton
    slack: FakeSlack
    secret: str = SIGNING_SECRET
    _event_seq: int = 0
    _ts_seq: int = 0

    async def post(self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None,
                   timestamp: int | None = None, secret: str | None = None) -> tuple[int, Any]:
        signed = slack_headers(secret or self.secret, body, timestamp=timestamp, content_type=content_type)
        return await self.baton.post_raw("/slack/events", body, {**signed, **(headers or {})})

    async def command(self, text: str, *, user: str = "W111", channel: str = "C0ROOT", name: str = "1") -> tuple[int, Any]:
        body = command_body(text, user=user, channel=channel, response_url=self.slack.response_url(name))
        return await self.post(body, "application/x-www-form-urlencoded")

    async def interaction(self, payload: dict[str, Any]) -> tuple[int, Any]:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        status, answer = await self.post(body, "application/x-www-form-urlencoded")
        if isinstance(answer, dict) and isinstance(answer.get("view"), dict):
            self.slack.responses.append({"view": answer["view"]})  # modal updates travel in the HTTP answer
        return status, answer

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None) -> tuple[int, Any]:
        if event_id is None:
            self._event_seq += 1
            event_id = f"Ev{self._event_seq:06d}"
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else None
        return await self.post(json.dumps(event_body(event, event_id=event_id)).encode(), "application/json", headers=headers)

    def next_ts(self) -> str:
        self._ts_seq += 1
        return f"1800000000.{self._ts_seq:06d}"

    # --- handoffs ------------------------------------------------------------------------------

    async def handoff(self, **overrides: Any) -> tuple[int, str]:
        """POST /handoff and wait for its card in the fake Slack; returns (conversation id, card ts)."""
        overrides.setdefault("reply_url", self.slack.url + "/reply_url")
        status, body = await self.baton.post_signed("/handoff", make_generic_payload(**overrides))
        assert status in (200, 202), body
        from bot.domain import parse_public_id

        conversation_id = parse_public_id(body["conversation"])
        marker = f"#{body['conversation']}"
        card = await self.slack.wait_for(lambda s: next((c for c in s.of("chat.postMessage") if "thread_ts" not in c.args
                                                         and marker in json.dumps(c.args.get("blocks"))), None), timeout=20)
        ts = card.response["ts"]
        if make_generic_payload(**overrides).get("transcript"):
            # The first reply is posted after Baton recorded the thread root, so the thread is known from here on.
            await self.slack.wait_for(lambda s: s.of("chat.postMessage", thread_ts=ts), timeout=20)
        return conversation_id, ts

    async def card_updates(self, ts: str, count: int, timeout: float = 10.0) -> list:
        return await self.slack.wait_for(lambda s: (u := s.of("chat.update", ts=ts)) and len(u) >= count and u, timeout)

    def ephemerals(self, user: str) -> list[str]:
        return [json.dumps(c.args) for c in self.slack.of("chat.postEphemeral", user=user)]

    async def ephemeral_containing(self, user: str, text: str, timeout: float = 10.0) -> str:
        return await self.slack.wait_for(lambda s: next((e for e in self.ephemerals(user) if text in e), None), timeout)

    async def response_containing(self, text: str, timeout: float = 10.0) -> dict[str, Any]:
        return await self.slack.wait_for(lambda s: next((r for r in s.responses if text in json.dumps(r)), None), timeout)

    async def opened_view(self, callback_id: str, nth: int = 0, timeout: float = 10.0) -> dict[str, Any]:
        calls = await self.slack.wait_for(
            lambda s: (v := [c for c in s.of("views.open") if c.args["view"]["callback_id"] == callback_id]) and len(v) > nth and v,
            timeout)
        return calls[nth].args["view"]


def block_kit_problems(slack: FakeSlack) -> list[str]:
    """Every message and modal Baton sent, checked by slack_sdk's models and Slack's 50-block limit."""
    from slack_sdk.models.blocks import Block
    from slack_sdk.models.views import View

    problems: list[str] = []
    sent = [(c.method, c.args) for c in slack.calls if c.status == 200]
    sent += [("response_url", r) for r in slack.responses]
    for method, args in sent:
        if "view" in args and isinstance(args["view"], dict):
            try:
                View(**args["view"]).to_dict()
            except Exception as error:
                problems.append(f"{method} view {args['view'].get('callback_id')}: {error}")
        blocks = args.get("blocks")
        if blocks is None:
            continue
        if not isinstance(blocks, list) or len(blocks) > 50:
            problems.append(f"{method}: {len(blocks) if isinstance(blocks, list) else blocks!r} blocks")
            continue
        for block in blocks:
            parsed = Block.parse(block)
            if parsed is None:
                problems.append(f"{method}: unknown block {block.get('type')}")
                continue
            try:
                parsed.to_dict()
            except Exception as error:
                problems.append(f"{method} {block.get('type')}: {error}")
        if not args.get("text") and method != "response_url":
            problems.append(f"{method}: blocks without fallback text")
    return problems


@asynccontextmanager
async def slack_baton(database_url: str, *, rate: float = 50.0, clock: Any = None, **overrides: Any) -> AsyncIterator[SlackWorld]:
    """The real Baton app (worker running) with Slack on, talking to a fresh fake Slack Web API."""
    async with FakeSlack(users=AGENTS) as slack:
        settings = dict(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url,
                        slack_channel=HANDOFF_CHANNEL, role_assignments={"W333": "admin"}, outbox_poll_seconds=0.05)
        settings.update(overrides)
        poster = SlackPoster(api_url=slack.api_url, bot_token=settings["slack_bot_token"],
                             default_channel=settings["slack_channel"], rate=rate, burst=3)
        async with running_baton(database_url, posters={"slack": poster}, run_worker=True, clock=clock,
                                 **settings) as baton:
            world = SlackWorld(baton, slack)
            yield world
        assert not block_kit_problems(slack), block_kit_problems(slack)

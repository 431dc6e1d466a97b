"""Baton with Slack on (fake Slack Web API) and a customer channel on: SMS through a fake Twilio API, or
email through a real in-process SMTP server. Everything over real sockets, signed as the providers sign."""

from __future__ import annotations

import asyncio
import base64
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

import aiohttp

from bot.domain import parse_public_id
from storage.models import Conversation
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.slack_signing import HANDOFF_CHANNEL, SlackWorld, block_action, slack_baton, thread_message
from tests.twilio_webhooks import BATON_NUMBER, CUSTOMER, PUBLIC_URL, inbound_params, signed_post

__all__ = ["sms_world", "SmsWorld", "email_world", "EmailWorld", "BATON_NUMBER", "CUSTOMER", "PUBLIC_URL"]


@dataclass
class SmsWorld:
    world: SlackWorld
    twilio: FakeTwilio
    _sid: int = 0

    @property
    def baton(self):
        return self.world.baton

    @property
    def slack(self):
        return self.world.slack

    async def text(self, body: str, *, sender: str = CUSTOMER, to: str = BATON_NUMBER, path: str = "/inbound/sms",
                   **overrides: str) -> tuple[int, Any]:
        """Twilio posts the customer's text to Baton, signed for the public URL."""
        self._sid += 1
        sid = f"SM{self._sid:032x}"
        params = inbound_params(body, From=sender, To=to, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid, **overrides)
        raw, headers = signed_post(path, params)
        return await self.baton.post_raw(path, raw, headers)

    async def card_of(self, conversation_id: int) -> Any:
        marker = f"#c{conversation_id}"
        return await self.slack.wait_for(lambda s: next((c for c in s.of("chat.postMessage") if "thread_ts" not in c.args
                                                         and marker in json.dumps(c.args.get("blocks"))), None), timeout=20)

    async def thread_with(self, card_ts: str, text: str) -> Any:
        return await self.slack.wait_for(lambda s: next((c for c in s.of("chat.postMessage", thread_ts=card_ts)
                                                         if text in json.dumps(c.args)), None), timeout=20)

    async def claim(self, conversation_id: int, card_ts: str, user: str = "W111") -> None:
        await self.world.interaction(block_action("baton_claim", json.dumps({"conversation": f"c{conversation_id}"}),
                                                  user=user, channel=HANDOFF_CHANNEL, message_ts=card_ts))
        await self.world.ephemeral_containing(user, "You claimed")

    async def agent_says(self, card_ts: str, text: str, user: str = "W111") -> None:
        status, _ = await self.world.event(thread_message(text, user=user, channel=HANDOFF_CHANNEL, thread_ts=card_ts,
                                                          ts=self.world.next_ts()))
        assert status == 200


async def only_conversation(source: str) -> int:
    rows = await Conversation.filter(source=source).order_by("id").values_list("id", flat=True)
    assert len(rows) == 1, rows
    return rows[0]


def conversation_of(answer: Any) -> int:
    return parse_public_id(answer["conversation"])


@asynccontextmanager
async def sms_world(database_url: str, **overrides: Any) -> AsyncIterator[SmsWorld]:
    async with FakeTwilio() as twilio:
        settings = dict(public_url=PUBLIC_URL, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                        twilio_api_url=twilio.url)
        settings.update(overrides)
        async with slack_baton(database_url, **settings) as world:
            yield SmsWorld(world, twilio)


# --------------------------------------------------------------------------- email


@dataclass
class EmailWorld(SmsWorld):
    smtp: Any = None

    async def mail(self, raw: bytes, *, path: str = "/inbound/email", token: str | None = None) -> tuple[int, Any]:
        """An MTA pipes the raw message to Baton with Basic baton:<token> (docs/email.md)."""
        from tests.harness import WEBHOOK_TOKEN

        credentials = base64.b64encode(f"baton:{token or WEBHOOK_TOKEN}".encode()).decode()
        return await self.baton.post_raw(path, raw, {"Content-Type": "message/rfc822", "Authorization": f"Basic {credentials}"})

    async def form(self, path: str, fields: dict[str, bytes | str], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """A provider's multipart form post (SendGrid's `email`, Mailgun's `body-mime`)."""
        form = aiohttp.FormData()
        for name, value in fields.items():
            if isinstance(value, bytes):
                form.add_field(name, value, filename=f"{name}.eml", content_type="text/plain")
            else:
                form.add_field(name, value)
        async with self.baton.session.post(self.baton.base_url + path, data=form, headers=headers or {}) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def received(self, count: int = 1, timeout: float = 15.0) -> list:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.smtp.received) < count:  # the SMTP server runs in its own thread: poll its recorder
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"SMTP: {len(self.smtp.received)} of {count} messages arrived")
            await asyncio.sleep(0.02)
        return self.smtp.received


SUPPORT_FROM = "Acme Support <support@acme.example>"


@asynccontextmanager
async def email_world(database_url: str, **overrides: Any) -> AsyncIterator[EmailWorld]:
    from tests.smtp_server import smtp_server

    with smtp_server() as (recorder, port):
        settings = dict(smtp_url=f"smtp://127.0.0.1:{port}?starttls=false", email_from=SUPPORT_FROM,
                        public_url=PUBLIC_URL)
        settings.update(overrides)
        async with FakeTwilio() as twilio, slack_baton(database_url, **settings) as world:
            yield EmailWorld(world, twilio, smtp=recorder)

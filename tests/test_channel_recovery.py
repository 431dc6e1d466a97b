"""Customer-bound messages are durable outbox work (issue 11): Twilio or the mail server is down (500, 429,
connection refused), Baton is killed with `kill -9` in between, and once they heal every reply reaches the
customer exactly once — the real `baton serve` in a subprocess (as tests/test_delivery_recovery.py), a fake
Twilio API and a real SMTP server, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from benchmarks.procs import BatonProcess, free_port
from storage.models import Conversation, CustomerFile, Message, OutboxJob
from tests.email_messages import make_email
from tests.harness import post_and_read
from tests.fakes.slack_api import FakeSlack
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.slack_signing import AGENTS, HANDOFF_CHANNEL, SlackWorld, block_action, thread_message
from tests.smtp_server import smtp_server
from tests.twilio_webhooks import BATON_NUMBER, PUBLIC_URL, inbound_params, signed_post

AGENT = "W111"
TOKEN = "tok-recovery-5e1d"
LONG = " ".join(["The replacement ships from our Oakland warehouse tomorrow morning."] * 30)  # two SMS parts


@dataclass
class Remote:
    """A `baton serve` subprocess, posted to as the tests' SlackWorld posts to an in-process app."""

    session: aiohttp.ClientSession
    base_url: str

    async def post_raw(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        return await post_and_read(self.session, self.base_url + path, body, headers)


async def _until(predicate, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.1)  # the subprocess and the fakes move on their own; this only looks
    return await predicate()


async def _card_ts(slack: FakeSlack, conversation_id: int) -> str:
    async def found():
        return next((m["ts"] for m in slack.roots(HANDOFF_CHANNEL) if f"#c{conversation_id} " in str(m.get("text"))), None)

    ts = await _until(found, 30)
    assert ts, f"no card for c{conversation_id}"
    return ts


async def _claim_and_reply(world: SlackWorld, conversation_id: int, text: str) -> None:
    card_ts = await _card_ts(world.slack, conversation_id)
    claimed = sum("You claimed" in text for text in world.ephemerals(AGENT))
    await world.interaction(block_action("baton_claim", json.dumps({"conversation": f"c{conversation_id}"}),
                                         user=AGENT, channel=HANDOFF_CHANNEL, message_ts=card_ts))

    async def answered() -> bool:  # this claim's answer, not an earlier one's
        return sum("You claimed" in text for text in world.ephemerals(AGENT)) > claimed

    assert await _until(answered, 20), f"c{conversation_id} not claimed"
    status, _ = await world.event(thread_message(text, user=AGENT, channel=HANDOFF_CHANNEL, thread_ts=card_ts,
                                                 ts=world.next_ts()))
    assert status == 200


async def _failed_jobs(count: int, *, containing: str | None = None, attempts_over: int = 0):
    async def check():
        jobs = OutboxJob.filter(target="source", last_error__isnull=False, attempts__gt=attempts_over)
        if containing:
            jobs = jobs.filter(last_error__icontains=containing)
        return await jobs.count() >= count
    return check


async def _all_delivered() -> bool:
    jobs = await OutboxJob.filter(target="source").values("requested_rev", "done_rev", "dead")
    return bool(jobs) and all(j["done_rev"] >= j["requested_rev"] and not j["dead"] for j in jobs)


async def _sum_attempts() -> int:
    return sum(await OutboxJob.filter(target="source").values_list("attempts", flat=True))


def _said_once(log_path, *starts: str) -> None:
    """`baton serve` says once at start whether each channel is on."""
    lines = [line.split(": ", 1)[-1] for line in open(log_path, encoding="utf-8").read().splitlines()]
    for start in starts:
        assert sum(line.startswith(start) for line in lines) == 1, (start, [l for l in lines if " is " in l])


def _env(**extra: str) -> dict[str, str]:
    return {"BATON_SLACK_CHANNEL": HANDOFF_CHANNEL, "BATON_PUBLIC_URL": PUBLIC_URL, "BATON_WEBHOOK_TOKEN": TOKEN, **extra}


async def test_sms_replies_survive_twilio_429_500_and_refused_connections_with_a_kill_9_between(database, tmp_path):
    customers = ["+14155550101", "+14155550102", "+14155550103", "+14155550104"]
    replies = {customers[0]: LONG, **{c: f"Your new parcel to {c[-3:]} is on its way." for c in customers[1:]}}
    async with FakeSlack(users=AGENTS) as slack, FakeTwilio() as twilio:
        env = _env(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_API_URL=twilio.url)
        first = await BatonProcess(database, slack.api_url, log_path=str(tmp_path / "first.log"), extra_env=env).start()
        try:
            async with aiohttp.ClientSession() as session:
                world = SlackWorld(Remote(session, first.url), slack)
                for n, customer in enumerate(customers):
                    sid = f"SM{n + 1:032x}"
                    raw, headers = signed_post("/inbound/sms", inbound_params("my parcel arrived damaged", From=customer,
                                                                               MessageSid=sid, SmsSid=sid, SmsMessageSid=sid))
                    status, _ = await world.baton.post_raw("/inbound/sms", raw, headers)
                    assert status == 200
                conversations = dict(await Conversation.filter(source="baton:sms").values_list("external_id", "id"))
                assert len(conversations) == len(customers)

                twilio.fail_next(len(customers), code=20429, retry_after=1)  # too many requests, then an outage
                twilio.fail_next(10_000, code=20500)
                for customer in customers:
                    await _claim_and_reply(world, conversations[f"{BATON_NUMBER}|{customer}"], replies[customer])
                # In between: every reply has been tried and refused, and the worker holds its leases.
                assert await _until(await _failed_jobs(len(customers), attempts_over=1), 40), "replies not retried"
                assert not twilio.sent
        finally:
            first.kill9()

        await twilio.refuse_connections()
        twilio.heal()
        attempts = await _sum_attempts()
        second = await BatonProcess(database, slack.api_url, log_path=str(tmp_path / "second.log"), extra_env=env).start()
        try:
            async def refused_once_more() -> bool:  # the new process met the refused connections
                return await _sum_attempts() > attempts and await (await _failed_jobs(1, containing="unreachable"))()

            assert await _until(refused_once_more, 40)
            await twilio.accept_connections()
            assert await _until(_all_delivered, 60), "replies still pending after the heal"
            await asyncio.sleep(1.5)  # a duplicate would be a retry already under way: give it time to show
        finally:
            second.stop()

    _said_once(tmp_path / "first.log", "SMS is on: Twilio's webhook at /inbound/sms",
               "Email is on for incoming mail; replies are off")
    sent: dict[str, list[str]] = {}
    for call in twilio.sent:
        assert call.one("From") == BATON_NUMBER
        sent.setdefault(call.one("To"), []).append(call.one("Body"))
    assert sorted(sent) == sorted(customers), "0 lost"
    for customer in customers[1:]:
        assert sent[customer] == [replies[customer]], "0 sent twice"
    assert len(sent[customers[0]]) == 2 and [b[:6] for b in sent[customers[0]]] == ["(1/2) ", "(2/2) "], \
        "each part of the long reply once, in order"


async def test_email_replies_survive_a_mail_server_refusing_connections_with_a_kill_9_between(database, tmp_path):
    customers = [f"customer{n}@example.net" for n in range(1, 5)]
    port = free_port()  # nothing listens there until the mail server comes up
    async with FakeSlack(users=AGENTS) as slack:
        env = _env(BATON_SMTP_URL=f"smtp://127.0.0.1:{port}?starttls=false",
                   BATON_EMAIL_FROM="Acme Support <support@acme.example>")
        first = await BatonProcess(database, slack.api_url, log_path=str(tmp_path / "first.log"), extra_env=env).start()
        try:
            async with aiohttp.ClientSession() as session:
                world = SlackWorld(Remote(session, first.url), slack)
                basic = base64.b64encode(f"baton:{TOKEN}".encode()).decode()
                opened: dict[str, int] = {}
                for n, customer in enumerate(customers):
                    raw = make_email("My parcel arrived damaged.", subject=f"Order #{1040 + n}", sender=customer,
                                     message_id=f"<order-{n}@mail.example.net>", in_reply_to=None, references=None)
                    status, answer = await world.baton.post_raw(
                        "/inbound/email", raw, {"Content-Type": "message/rfc822", "Authorization": f"Basic {basic}"})
                    assert status == 202, answer
                    opened[customer] = int(answer["conversation"][1:])
                for customer in customers:
                    await _claim_and_reply(world, opened[customer], f"A new parcel for {customer} leaves today.")
                assert await _until(await _failed_jobs(len(customers), containing="unreachable"), 40), "replies not tried"
        finally:
            first.kill9()

        attempts = await _sum_attempts()
        second = await BatonProcess(database, slack.api_url, log_path=str(tmp_path / "second.log"), extra_env=env).start()
        try:
            async def tried_again() -> bool:  # the new process met the refused connections too
                return await _sum_attempts() > attempts

            assert await _until(tried_again, 40)
            with smtp_server(port=port) as (recorder, _):
                assert await _until(_all_delivered, 60), "replies still pending after the mail server came up"
                await asyncio.sleep(1.5)  # a duplicate would be a retry already under way: give it time to show
                received = list(recorder.received)
        finally:
            second.stop()

    _said_once(tmp_path / "second.log", "SMS is off: set TWILIO_ACCOUNT_SID", "Email is on: mail in at /inbound/email")
    by_customer: dict[str, list] = {}
    for mail in received:
        by_customer.setdefault(mail.rcpt_tos[0], []).append(mail.message)
    assert sorted(by_customer) == sorted(customers), "0 lost"
    for customer, messages in by_customer.items():
        assert len(messages) == 1, f"0 sent twice ({customer})"
        assert messages[0].get_content().strip() == f"A new parcel for {customer} leaves today."
    assert len({m["Message-ID"] for ms in by_customer.values() for m in ms}) == len(customers)


async def test_a_first_mails_attachments_are_stored_with_its_conversation_so_a_kill_9_right_after_loses_none(
        database, tmp_path):
    """Baton is killed with `kill -9` the moment the mail's conversation is committed (seen from another
    connection), before it could answer: the attachments are there already, and the provider's re-post (answered
    as a duplicate) finds nothing missing — the thread gets every file once."""
    scan = b"%PDF-1.7 " + bytes(range(256)) * 3500  # 900 KB (under the fake Slack's upload cap): read in the worker
    photo = b"\xff\xd8\xff" + b"2" * 40_000
    raw = make_email("The scan and a photo of the box.", subject="Order #1042", message_id="<scan-1@mail.example.net>",
                     in_reply_to=None, references=None,
                     attachments=[("scan.pdf", "application/pdf", scan), ("box.jpg", "image/jpeg", photo)])
    basic = base64.b64encode(f"baton:{TOKEN}".encode()).decode()
    headers = {"Content-Type": "message/rfc822", "Authorization": f"Basic {basic}"}
    async with FakeSlack(users=AGENTS) as slack, aiohttp.ClientSession() as session:
        first = await BatonProcess(database, slack.api_url, log_path=str(tmp_path / "first.log"), extra_env=_env()).start()
        try:
            posting = asyncio.create_task(Remote(session, first.url).post_raw("/inbound/email", raw, headers))
            deadline = time.monotonic() + 60
            while not await Conversation.filter(source="baton:email").exists():  # polled as fast as it answers
                assert time.monotonic() < deadline and not posting.done(), "the mail was never stored"
            first.kill9()  # committed, not answered: the provider will post the mail again
            with_files = sum(1 for a in await Message.filter(sender="customer").values_list("attachments", flat=True) if a)
            stored = sorted(await CustomerFile.filter().values_list("name", flat=True))
        finally:
            first.kill9()
        try:
            await posting
        except aiohttp.ClientError:
            pass  # the connection died with the process, as it would for the provider
        assert stored == ["box.jpg", "scan.pdf"] and with_files == 1, "the files were committed with the conversation"

        second = await BatonProcess(database, slack.api_url, log_path=str(tmp_path / "second.log"), extra_env=_env()).start()
        try:
            again = await Remote(session, second.url).post_raw("/inbound/email", raw, headers)
            assert again == (200, {"status": "duplicate"})
            [conversation_id] = await Conversation.filter(source="baton:email").values_list("id", flat=True)
            card_ts = await _card_ts(slack, conversation_id)
            shared = await _until(lambda: _ready(slack.shared_files, 2), 60)
            assert sorted((f["name"], f["thread_ts"]) for f in shared) == [("box.jpg", card_ts), ("scan.pdf", card_ts)]
            assert next(f["content"] for f in shared if f["name"] == "scan.pdf") == scan
            await asyncio.sleep(1.5)  # a second upload would be a retry already under way: give it time to show
            assert len(slack.shared_files) == 2, "each file once"
            assert await CustomerFile.filter().count() == 2
        finally:
            second.stop()


async def _ready(items: list, count: int) -> list | None:
    return list(items) if len(items) >= count else None

"""The durable outbox: every handoff reaches its thread once, in order, through retries and many workers."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from bot.core.intake import accept_handoff
from bot.delivery.poster import OutgoingMessage, RetryLater, ThreadRef, Unroutable
from bot.delivery.recording import RecordingPoster
from bot.delivery.worker import OutboxWorker
from bot.domain import Actor, ConversationFacts, CustomerSummary
from bot.intake.generic import parse_generic_handoff
from bot.settings import Settings
from storage import posts
from storage.conversations import claim
from bot.domain import parse_public_id
from storage.models import OutboxJob
from tests.handoff_factory import make_generic_payload

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class CountingPoster:
    """A platform double: records what a chat platform would have received, optionally refusing at first."""

    name = "chat"

    def __init__(self, *, refuse_first: int = 0, retry_after: float = 30, unroutable: bool = False) -> None:
        self.roots: list[str] = []
        self.replies: list[tuple[str, OutgoingMessage]] = []
        self.updates: list[CustomerSummary] = []
        self.refuse = refuse_first
        self.retry_after = retry_after
        self.unroutable = unroutable

    def _gate(self) -> None:
        if self.unroutable:
            raise Unroutable("no channel for queue billing")
        if self.refuse:
            self.refuse -= 1
            raise RetryLater(self.retry_after, "429 ratelimited")

    async def open_thread(self, conversation: ConversationFacts, summary: CustomerSummary | None) -> ThreadRef:
        self._gate()
        await asyncio.sleep(0)  # let a competing worker run in between
        self.roots.append(conversation.public_id)
        return ThreadRef(channel="C1", root_ref=f"root-{conversation.public_id}", thread_ref=f"root-{conversation.public_id}")

    async def post_reply(self, thread: ThreadRef, message: OutgoingMessage) -> None:
        self._gate()
        self.replies.append((thread.thread_ref, message))

    async def redact_reply(self, thread: ThreadRef, ref: str, message: OutgoingMessage) -> None:
        raise AssertionError("this platform keeps no message ids, so nothing is ever redacted on it")

    async def update_card(self, thread: ThreadRef, summary: CustomerSummary) -> None:
        self._gate()
        self.updates.append(summary)


async def _handoff(conversation_id: str = "va-1", targets=("chat",), now=T0, **overrides) -> int:
    handoff = parse_generic_handoff(make_generic_payload(conversation_id=conversation_id, **overrides))
    result = await accept_handoff(handoff, targets=list(targets), now=now)
    return parse_public_id(result.conversation_public_id)


async def test_a_handoff_becomes_one_thread_with_the_transcript_in_order(database):
    poster = CountingPoster()
    conversation_id = await _handoff()
    worker = OutboxWorker({"chat": poster}, Settings(), clock=Clock())

    await worker.drain()

    assert poster.roots == [f"c{conversation_id}"]
    assert [m.text for _, m in poster.replies] == [line["text"] for line in make_generic_payload()["transcript"]]
    assert await OutboxJob.filter(done_rev__lt=1).count() == 0


async def test_customer_lines_are_attributed_to_the_customer_by_name_not_to_a_bot(database):
    poster = CountingPoster()
    await _handoff(customer={"name": "Dana Whitfield", "email": "dana@example.com"})
    await OutboxWorker({"chat": poster}, Settings(), clock=Clock()).drain()

    labels = {m.sender: m.sender_label for _, m in poster.replies}
    assert labels["customer"] == "Dana Whitfield"
    assert labels["bot"] == make_generic_payload()["bot"]["name"]


async def test_the_recording_target_keeps_both_rendered_cards(database):
    conversation_id = await _handoff(targets=("record",))
    await OutboxWorker({"record": RecordingPoster()}, Settings(), clock=Clock()).drain()

    payload = await posts.root_payload("record", conversation_id)
    assert payload["slack"]["blocks"] and payload["slack"]["text"]
    assert payload["teams"]["type"] == "AdaptiveCard" and payload["teams"]["version"] == "1.5"


async def test_retry_after_delays_the_post_and_nothing_is_lost_or_doubled(database):
    clock = Clock()
    poster = CountingPoster(refuse_first=3, retry_after=30)
    await _handoff()
    worker = OutboxWorker({"chat": poster}, Settings(), clock=clock)

    await worker.drain()
    assert poster.roots == []  # refused, and not retried before Retry-After
    job = await OutboxJob.get(target="chat")
    assert job.available_at >= T0 + timedelta(seconds=30)

    for _ in range(3):
        clock.at += timedelta(minutes=10)
        await worker.drain()

    assert len(poster.roots) == 1
    assert len(poster.replies) == len(make_generic_payload()["transcript"])


async def test_a_card_change_is_edited_in_place_on_the_next_pass(database):
    poster = CountingPoster()
    conversation_id = await _handoff()
    worker = OutboxWorker({"chat": poster}, Settings(), clock=Clock())
    await worker.drain()

    await claim(conversation_id, Actor("slack", "U1", "Ana"), targets=["chat"], now=T0)
    await worker.drain()

    assert len(poster.roots) == 1
    assert poster.updates[-1].conversation.claimed_by == "Ana"


async def test_an_unroutable_handoff_waits_for_a_route_instead_of_being_dropped(database):
    clock = Clock()
    poster = CountingPoster(unroutable=True)
    await _handoff()
    worker = OutboxWorker({"chat": poster}, Settings(), clock=clock)
    await worker.drain()
    assert not poster.roots

    poster.unroutable = False
    clock.at += timedelta(minutes=5)
    await worker.drain()
    assert len(poster.roots) == 1


async def test_two_workers_sharing_the_database_post_each_thread_exactly_once(database):
    poster = CountingPoster()
    ids = [await _handoff(conversation_id=f"va-{n}") for n in range(12)]
    first = OutboxWorker({"chat": poster}, Settings(), clock=Clock())
    second = OutboxWorker({"chat": poster}, Settings(), clock=Clock())

    await asyncio.gather(first.drain(), second.drain(), first.drain(), second.drain())

    assert sorted(poster.roots) == sorted(f"c{i}" for i in ids)
    posted = [(thread, m.id) for thread, m in poster.replies]
    assert len(posted) == len(set(posted)) == 12 * len(make_generic_payload()["transcript"])


async def test_the_running_worker_delivers_within_a_second_of_a_change(database):
    poster = CountingPoster()
    worker = OutboxWorker({"chat": poster}, replace(Settings(), outbox_poll_seconds=5), clock=Clock())
    task = asyncio.create_task(worker.run())
    try:
        await _handoff()
        worker.wake()  # what the HTTP handler does after its commit
        for _ in range(100):
            if poster.roots:
                break
            await asyncio.sleep(0.01)
        assert poster.roots, "the woken worker did not deliver within a second"
    finally:
        worker.stop()
        await asyncio.wait_for(task, 5)


async def test_a_route_set_while_a_failing_sync_runs_is_not_lost(database):
    from storage import outbox

    class FixedDuringSync(CountingPoster):
        async def open_thread(self, conversation, summary):
            if self.unroutable:
                self.unroutable = False
                # `route here` lands while this sync is failing for lack of a route.
                await outbox.retry_now("chat", error_prefix="no channel", now=T0)
                raise Unroutable("no channel for queue billing")
            return await super().open_thread(conversation, summary)

    poster = FixedDuringSync(unroutable=True)
    await _handoff()
    worker = OutboxWorker({"chat": poster}, Settings(), clock=Clock())

    await worker.drain()  # no clock change: the retry must not wait the unroutable delay

    assert len(poster.roots) == 1


async def test_the_source_hears_a_claim_the_replies_and_the_wrap_up_in_the_order_they_happened(database_url):
    """All three happen before the relay runs once: it still tells them in order, each once."""
    from bot.core import actions
    from bot.domain import ThreadMessage
    from tests.fakes.slack_api import FakeSlack
    from tests.harness import running_baton

    async with FakeSlack() as receiver, running_baton(database_url) as baton:
        status, body = await baton.post_signed("/handoff", make_generic_payload(reply_url=receiver.url + "/reply_url"))
        conversation = parse_public_id(body["conversation"])
        from bot.web.app import services_of

        services = services_of(baton.app)
        ana = Actor("slack", "U_ANA", "Ana Agent")
        await actions.claim(services, ana, conversation)
        await actions.thread_message(services, ThreadMessage(ana, conversation, "first"))
        await actions.thread_message(services, ThreadMessage(ana, conversation, "second"))
        await actions.wrap_up(services, ana, conversation, "resolved", None)

        await baton.worker.drain()
        await baton.worker.drain()

        assert receiver.reply_url_order == ["status:accepted", "message", "message", "status:completed"]
        assert [body["text"] for _, body, _ in receiver.relayed] == ["first", "second"]

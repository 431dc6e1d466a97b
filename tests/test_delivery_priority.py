"""Card work first: a root card or a card edit never waits behind a transcript that waits for its channel.

Slack takes about one post a second per channel. Baton paces under that, gives each channel's slots to
root cards first, and puts a sync whose thread replies find no slot back in the outbox (`Paced`,
`outbox.defer`) behind every job with card work, instead of holding a worker slot while it sleeps.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

from bot.cards import actions as verbs
from bot.clock import utc_now
from bot.core import interactions
from bot.core.intake import accept_handoff
from bot.core.services import Services
from bot.delivery.worker import OutboxWorker
from bot.domain import Actor, CardAction, parse_public_id
from bot.intake.generic import parse_generic_handoff
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack.poster import Pace, SlackPoster
from storage import outbox
from storage.conversations import claim
from storage.models import OutboxJob
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.handoff_factory import make_generic_payload
from tests.test_delivery import T0, Clock

CHANNEL = "C0HANDOFF"


async def _handoff(n: int, *, now=T0) -> int:
    body = make_generic_payload(conversation_id=f"prio-{n}")
    body.pop("reply_url", None)  # nothing leaves this machine
    result = await accept_handoff(parse_generic_handoff(body), targets=["slack"], now=now)
    return parse_public_id(result.conversation_public_id)


def _worker(slack: FakeSlack, *, rate: float, burst: int = 2, clock=None) -> OutboxWorker:
    poster = SlackPoster(api_url=slack.api_url, bot_token=BOT_TOKEN, default_channel=CHANNEL, rate=rate, burst=burst)
    return OutboxWorker({"slack": poster}, Settings(slack_bot_token=BOT_TOKEN, outbox_poll_seconds=0.05),
                        clock=clock or Clock(), metrics=Metrics())


def _syncs(worker: OutboxWorker, outcome: str) -> float:
    return worker.metrics.deliveries.labels(target="slack", outcome=outcome)._value.get()


async def _close(*workers: OutboxWorker) -> None:
    for worker in workers:
        await worker.posters["slack"].poster.close()


def test_a_reply_leaves_a_slot_for_the_next_card_and_never_goes_before_a_waiting_one():
    pace = Pace(rate=0.5, burst=3)
    assert pace.take("C1") == 0.0  # 3 slots: a reply may take one and leave two
    assert pace.take("C1") == 0.0  # 2 left: it may take one and leave one for a card
    wait = pace.take("C1")
    assert 1.5 < wait <= 2.0  # 1 left: that one is the next card's; a reply is told to come back
    assert pace.take("C1", card=True) == 0.0  # a card takes the last slot
    assert pace.take("C1", card=True) > 1.5  # and the next card is told to come back when one is free
    pace._waiting["C1"] = 1  # a post is waiting for this channel's slot (what `Pace.wait` records)
    pace._buckets["C1"] = [3.0, time.monotonic()]
    assert pace.take("C1") > 0 and pace.take("C1", card=True) > 0  # nothing goes before it


async def test_a_card_edit_overtakes_a_transcript_waiting_for_its_channel(database):
    async with FakeSlack(channel_rate=1.0, channel_burst=3) as slack:
        # One slot every 10 s: after the root card, the channel has no slot for the transcript for a while.
        worker = _worker(slack, rate=0.1)
        try:
            conversation_id = await _handoff(1)
            await worker.drain()
            assert len(slack.roots()) == 1
            assert not [c for c in slack.of("chat.postMessage") if c.args.get("thread_ts")], "the transcript waited"
            job = await OutboxJob.get(target="slack")
            assert job.priority == outbox.REPLIES_ONLY and job.done_rev < job.requested_rev
            assert job.available_at > T0 and job.attempts == 0 and job.lease_owner is None

            # An agent claims it: the card edit goes now, ahead of the transcript still waiting for a slot.
            await claim(conversation_id, Actor("slack", "U1", "Ana"), targets=["slack"], now=T0)
            job = await OutboxJob.get(target="slack")
            assert job.priority == outbox.CARD_WORK and job.available_at == T0
            await worker.drain()
            updates = slack.of("chat.update")
            assert len(updates) == 1 and "Ana" in str(updates[0].args.get("blocks"))
            assert not [c for c in slack.of("chat.postMessage") if c.args.get("thread_ts")]
        finally:
            await _close(worker)

        # Later (here: another process, whose channel has slots): the transcript, once, in the same thread.
        later = _worker(slack, rate=0, clock=Clock(T0 + timedelta(seconds=30)))
        try:
            await later.drain()
        finally:
            await _close(later)
        replies = [c for c in slack.of("chat.postMessage") if c.args.get("thread_ts")]
        assert len(slack.roots()) == 1 and len(replies) == 1
        assert replies[0].args["thread_ts"] == slack.roots()[0]["ts"]
        order = [c.method for c in slack.calls if c.ok and c.method in ("chat.update", "chat.postMessage")]
        assert order == ["chat.postMessage", "chat.update", "chat.postMessage"]
        job = await OutboxJob.get(target="slack")
        assert job.done_rev == job.requested_rev


async def test_a_card_with_no_slot_in_its_channel_is_put_back_as_card_work_without_posting(database):
    async with FakeSlack() as slack:
        worker = _worker(slack, rate=0.1, burst=1)
        try:
            first = await _handoff(1)
            second = await _handoff(2)
            await worker.run_once()  # both leased: one card takes the channel's slot, the other waits
        finally:
            await _close(worker)
        assert len(slack.roots()) == 1 and len(slack.of("chat.postMessage")) == 1
        jobs = {job.conversation_id: job for job in await OutboxJob.all()}
        posted = first if slack.roots()[0]["text"].split("#c", 1)[1].split(" ", 1)[0] == str(first) else second
        waiting = jobs[second if posted == first else first]
        assert waiting.priority == outbox.CARD_WORK and waiting.available_at > T0
        assert waiting.attempts == 0 and waiting.last_error is None and waiting.done_rev == 0
        assert jobs[posted].priority == outbox.REPLIES_ONLY  # its transcript waits too, behind the cards


async def test_card_work_is_leased_before_older_jobs_left_with_only_replies(database):
    older = await _handoff(1)
    newer = await _handoff(2, now=T0 + timedelta(seconds=5))
    now = T0 + timedelta(seconds=10)

    [first] = await outbox.lease_due("w1", now=now, limit=1, targets=["slack"])
    assert first.conversation_id == older  # the oldest first among equals
    await outbox.defer(first, "w1", now=now, delay=0)  # its replies had no slot in their channel

    [second] = await outbox.lease_due("w1", now=now, limit=1, targets=["slack"])
    assert second.conversation_id == newer  # card work before the older job that only has replies left
    [third] = await outbox.lease_due("w1", now=now, limit=1, targets=["slack"])
    assert third.conversation_id == older and not third.suspect  # deferred before posting: nothing to check

    # Deferred far ahead, then new card work for it: due at once, as card work.
    await outbox.defer(third, "w1", now=now, delay=600)
    assert await outbox.lease_due("w1", now=now, limit=5, targets=["slack"]) == []
    await outbox.enqueue("slack", older, now=now)
    [again] = await outbox.lease_due("w1", now=now, limit=5, targets=["slack"], skip=frozenset({second.job_id}))
    assert again.conversation_id == older
    assert (await OutboxJob.get(id=again.job_id)).priority == outbox.CARD_WORK


async def test_a_lease_that_ran_out_is_taken_once_and_marked_for_a_check(database):
    await _handoff(1)
    [held] = await outbox.lease_due("dead", now=T0, limit=5, targets=["slack"])
    # Two processes reach for it once the lease has run out: exactly one gets it, told to check first.
    later = T0 + outbox.LEASE + timedelta(seconds=1)
    won = await asyncio.gather(*(outbox.lease_due(f"w{n}", now=later, limit=5, targets=["slack"]) for n in range(4)))
    leases = [lease for batch in won for lease in batch]
    assert [lease.job_id for lease in leases] == [held.job_id]
    assert leases[0].suspect and not held.suspect


async def test_two_workers_pacing_on_their_own_post_every_card_and_transcript_exactly_once(database):
    async with FakeSlack() as slack:
        workers = [_worker(slack, rate=8.0, burst=2, clock=utc_now) for _ in range(2)]
        ids = [await _handoff(n, now=utc_now()) for n in range(16)]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            def replies() -> list:
                return [c for c in slack.of("chat.postMessage") if c.args.get("thread_ts")]

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(replies()) < len(ids):
                await asyncio.sleep(0.05)  # the workers and the fake Slack run in this loop
        finally:
            for w in workers:
                w.stop()
            await asyncio.wait_for(asyncio.gather(*tasks), 10)
            await _close(*workers)

        roots = Counter(str(m["text"]).split("#", 1)[1].split(" ", 1)[0] for m in slack.roots())
        assert roots == Counter({f"c{i}": 1 for i in ids})
        threads = Counter(c.args["thread_ts"] for c in replies())
        assert len(threads) == len(ids) and set(threads.values()) == {1}
        assert sum(_syncs(w, "paced") for w in workers) > 0, "no reply was deferred: the test proves nothing"
        assert sum(_syncs(w, "error") + _syncs(w, "retry") for w in workers) == 0
        assert await OutboxJob.filter(dead=False).count() == len(ids)
        assert all(job.done_rev == job.requested_rev for job in await OutboxJob.all())


async def test_work_asked_for_during_a_sync_that_is_then_paced_stays_due_at_once_as_card_work(database):
    conversation_id = await _handoff(1)
    now = T0 + timedelta(seconds=10)
    [lease] = await outbox.lease_due("w1", now=now, limit=1, targets=["slack"])
    # While that sync runs, an agent adds a note (a card edit) ...
    await outbox.enqueue("slack", conversation_id, now=now)
    # ... and then the sync's transcript finds no slot in its channel.
    await outbox.defer(lease, "w1", now=now, delay=5)
    job = await OutboxJob.get(id=lease.job_id)
    assert job.available_at == now and job.priority == outbox.CARD_WORK and job.lease_owner is None
    [again] = await outbox.lease_due("w1", now=now, limit=1, targets=["slack"])
    assert again.job_id == lease.job_id and again.revision == lease.revision + 1

    # Without new work the same deferral waits for the slot, behind card work.
    await outbox.defer(again, "w1", now=now, delay=5)
    job = await OutboxJob.get(id=lease.job_id)
    assert job.available_at == now + timedelta(seconds=5) and job.priority == outbox.REPLIES_ONLY
    assert await outbox.lease_due("w1", now=now, limit=1, targets=["slack"]) == []


async def test_a_card_edit_an_agent_asked_for_is_leased_first_and_its_sync_runs_ahead_of_the_queue(database):
    """An agent's click (bot.core.interactions) makes its card edit the next job leased, ahead of older card
    work, and marks the lease urgent (its statements go first on SQLite: storage.lanes). Once synced the job
    is ordinary card work again."""
    waiting = await _handoff(1)
    clicked = await _handoff(2, now=T0 + timedelta(seconds=5))
    now = T0 + timedelta(seconds=10)
    [opened] = await outbox.lease_due("w1", now=now, limit=1, targets=["slack"])
    assert opened.conversation_id == waiting and not opened.urgent  # the oldest card first, as before
    await outbox.defer(opened, "w1", now=now, delay=0, card=True)
    [opened] = await outbox.lease_due("w1", now=now, limit=1, targets=["slack"], skip=frozenset({opened.job_id}))
    await outbox.complete(opened, "w1")  # the second card is posted

    services = Services(settings=Settings(), clock=lambda: now, targets=["slack"])
    outcome = await interactions.card_action(services, CardAction(actor=Actor("slack", "U1", "Ana"), verb=verbs.CLAIM,
                                                                  conversation_id=clicked))
    assert outcome.ok, outcome.text

    [first] = await outbox.lease_due("w1", now=now, limit=1, targets=["slack"])
    assert (first.conversation_id, first.urgent) == (clicked, True)  # before the older card still waiting
    [second] = await outbox.lease_due("w1", now=now, limit=1, targets=["slack"], skip=frozenset({first.job_id}))
    assert (second.conversation_id, second.urgent) == (waiting, False)
    await outbox.complete(first, "w1")
    assert (await OutboxJob.get(id=first.job_id)).priority == outbox.CARD_WORK

    # Ordinary work asked for after that (a customer's message) is ordinary card work.
    await outbox.enqueue("slack", clicked, now=now)
    [again] = await outbox.lease_due("w1", now=now, limit=1, targets=["slack"], skip=frozenset({second.job_id}))
    assert again.conversation_id == clicked and not again.urgent

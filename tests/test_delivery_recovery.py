"""Recovery: a `kill -9` mid-delivery costs seconds, not minutes, and nothing reaches Slack twice.

The crash test runs the real `baton serve` in a subprocess against the fake Slack and kills it with
SIGKILL; the at-least-once tests make Slack take a post and lose its answer, as a crash right after a
post would.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import aiohttp

from benchmarks.procs import WEBHOOK_SECRET, BatonProcess
from bot.core.intake import accept_handoff
from bot.delivery.worker import OutboxWorker
from bot.domain import parse_public_id
from bot.intake.generic import parse_generic_handoff
from bot.settings import Settings
from bot.signing import signed_headers
from bot.slack.poster import SlackPoster
from storage import outbox, routes
from storage.db import dialect, unit_of_work
from storage.models import OutboxJob
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.handoff_factory import make_generic_payload
from tests.test_delivery import T0, Clock

CHANNEL = "C0HANDOFF"
QUEUES = 10  # Slack takes about one post a second per channel: 30 cards and their transcripts in one channel need a minute


def _payload(n: int) -> dict:
    body = make_generic_payload(conversation_id=f"crash-{n}", queue=f"q{n % QUEUES}")
    body.pop("reply_url", None)  # nothing leaves this machine
    return body


def _cards(slack: FakeSlack) -> dict[str, int]:
    """Cards posted per conversation ("Handoff #c12 from …" is the root's text)."""
    counts: dict[str, int] = {}
    for message in slack.roots():
        public = str(message["text"]).split("#", 1)[1].split(" ", 1)[0]
        counts[public] = counts.get(public, 0) + 1
    return counts


async def _until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)  # the fake Slack and the subprocess move on their own; this only looks
    return predicate()


async def test_after_kill_9_and_a_restart_every_card_arrives_once_within_20_seconds(database, tmp_path):
    for q in range(QUEUES):
        await routes.set_route("slack", f"q{q}", f"C0Q{q}", reference=None, by="test", now=T0)
    async with FakeSlack(channel_rate=1.0, channel_burst=3) as slack:
        slack.down = True  # Slack answers 500 to everything
        env = {"BATON_SLACK_CHANNEL": CHANNEL}
        first = await BatonProcess(database, slack.api_url, log_path=str(tmp_path / "first.log"), extra_env=env).start()
        try:
            async with aiohttp.ClientSession() as session:
                for n in range(30):
                    raw = json.dumps(_payload(n)).encode()
                    headers = {"Content-Type": "application/json", **signed_headers(WEBHOOK_SECRET, int(time.time()), raw)}
                    async with session.post(first.url + "/handoff", data=raw, headers=headers) as response:
                        assert response.status == 202
            # Mid-delivery: the worker holds leases and keeps failing against the outage.
            assert await _until(lambda: sum(n for (_, status), n in slack.counts.items() if status == 500) >= 30, 20)
        finally:
            first.kill9()

        slack.down = False
        healed = time.monotonic()
        second = await BatonProcess(database, slack.api_url, log_path=str(tmp_path / "second.log"), extra_env=env).start()
        try:
            assert await _until(lambda: len(_cards(slack)) == 30, 20), f"cards after 20 s: {len(_cards(slack))}"
            took = time.monotonic() - healed
            assert await _until(lambda: sum(map(len, slack.posted.values())) >= 60, 20)  # each card's transcript reply
        finally:
            second.stop()
    cards = _cards(slack)
    assert sorted(cards.values()) == [1] * 30, "each card exactly once"
    replies: dict[str, int] = {}
    for message in (m for posted in slack.posted.values() for m in posted):
        if message.get("thread_ts"):
            replies[message["thread_ts"]] = replies.get(message["thread_ts"], 0) + 1
    assert sorted(replies.values()) == [1] * 30, "each transcript exactly once"
    assert took < 20


async def _one_handoff() -> int:
    result = await accept_handoff(parse_generic_handoff(_payload(1)), targets=["slack"], now=T0)
    return parse_public_id(result.conversation_public_id)


async def _deliver_with_a_lost_answer(database, *, nth_post: int) -> FakeSlack:
    """Slack takes the `nth_post` post but its answer is a 500; the retry must not post it again."""
    clock = Clock()
    slack = await FakeSlack().start()
    poster = SlackPoster(api_url=slack.api_url, bot_token=BOT_TOKEN, default_channel=CHANNEL, rate=0)
    worker = OutboxWorker({"slack": poster}, Settings(slack_bot_token=BOT_TOKEN), clock=clock)
    try:
        await _one_handoff()
        def lose_next_answer() -> None:
            slack.fail_next(1, status=500, method="chat.postMessage", applied=True)

        if nth_post == 1:
            lose_next_answer()
        else:  # after the (n-1)th post was answered
            slack.listeners.append(lambda call: call.method == "chat.postMessage" and call.ok
                                   and len(slack.of("chat.postMessage")) == nth_post - 1 and lose_next_answer())
        await worker.run_once()
        job = await OutboxJob.get(target="slack")
        assert job.last_error and job.done_rev < job.requested_rev, "the lost answer failed the sync"
        clock.at = T0 + timedelta(seconds=400)  # past the backoff
        await worker.drain()
        job = await OutboxJob.get(target="slack")
        assert job.done_rev == job.requested_rev and job.last_error is None
    finally:
        await poster.close()
        await slack.stop()
    return slack


async def test_a_card_that_reached_slack_before_its_answer_was_lost_is_not_posted_twice(database):
    slack = await _deliver_with_a_lost_answer(database, nth_post=1)

    assert len(slack.roots(CHANNEL)) == 1
    replies = [m for m in slack.posted[CHANNEL] if m.get("thread_ts")]
    assert len(replies) == 1 and replies[0]["thread_ts"] == slack.roots(CHANNEL)[0]["ts"]
    assert slack.of("conversations.history"), "the retry looked before posting"


async def test_a_transcript_reply_that_reached_slack_before_its_answer_was_lost_is_not_posted_twice(database):
    slack = await _deliver_with_a_lost_answer(database, nth_post=2)

    assert len(slack.roots(CHANNEL)) == 1
    replies = [m for m in slack.posted[CHANNEL] if m.get("thread_ts")]
    assert len(replies) == 1
    assert slack.of("conversations.replies"), "the retry read the thread before posting"


async def test_a_lease_whose_process_died_is_free_within_seconds(database):
    await _one_handoff()
    dead = await outbox.lease_due("dead-worker", now=T0, limit=10, targets=["slack"])
    assert len(dead) == 1

    assert await outbox.lease_due("alive", now=T0 + timedelta(seconds=1), limit=10, targets=["slack"]) == []
    taken = await outbox.lease_due("alive", now=T0 + outbox.LEASE + timedelta(seconds=1), limit=10, targets=["slack"])
    assert len(taken) == 1 and taken[0].suspect, "an expired lease makes the next sync check the platform first"
    assert outbox.LEASE <= timedelta(seconds=10)


async def test_a_renewed_lease_is_not_taken_by_another_process(database):
    await _one_handoff()
    held = await outbox.lease_due("one", now=T0, limit=10, targets=["slack"])
    later = T0 + outbox.LEASE - timedelta(seconds=1)
    assert await outbox.renew_all("one", [held[0].job_id], now=later) == {held[0].job_id}

    assert await outbox.lease_due("two", now=T0 + outbox.LEASE + timedelta(seconds=1), limit=10, targets=["slack"]) == []


async def test_the_heartbeat_renews_while_every_pooled_connection_is_busy(database):
    """The worker's renewals use a connection of their own (PostgreSQL): syncs holding the whole shared
    pool must not delay them past the lease, or another process takes and posts the same work."""
    await _one_handoff()
    held = await outbox.lease_due("one", now=T0, limit=10, targets=["slack"])
    renewer = outbox.LeaseRenewer()
    later = T0 + outbox.LEASE - timedelta(seconds=1)
    release = asyncio.Event()

    async def busy() -> None:
        async with unit_of_work():
            await OutboxJob.filter(id=0).count()
            await release.wait()  # holds a pooled connection, as a running sync does

    if dialect() == "postgres":
        holders = [asyncio.create_task(busy()) for _ in range(20)]
        await asyncio.sleep(0.5)  # let them take every pooled connection (nothing to wait on)
    else:
        holders = []
    try:
        renewed = await asyncio.wait_for(renewer.renew_all("one", [held[0].job_id], now=later), timeout=5)
        assert renewed == {held[0].job_id}
        assert await renewer.renew_all("two", [held[0].job_id], now=later) == set(), "only the holder renews"
    finally:
        release.set()
        await asyncio.gather(*holders)
        await renewer.close()

    assert await outbox.lease_due("two", now=T0 + outbox.LEASE + timedelta(seconds=1), limit=10, targets=["slack"]) == []


async def test_a_sync_that_just_finished_is_not_taken_for_lost(database):
    """Only a lease another process holds stops a sync; one this worker just completed is not 'lost'."""
    await _one_handoff()
    [mine] = await outbox.lease_due("one", now=T0, limit=10, targets=["slack"])
    renewer = outbox.LeaseRenewer()
    try:
        await outbox.complete(mine, "one")
        assert await renewer.renew_all("one", [mine.job_id], now=T0) == set()
        assert await renewer.taken("one", [mine.job_id]) == set()

        await _one_handoff()  # the same conversation id: its job is due again
        await OutboxJob.filter(id=mine.job_id).update(requested_rev=mine.revision + 1)
        [theirs] = await outbox.lease_due("two", now=T0, limit=10, targets=["slack"])
        assert await renewer.taken("one", [theirs.job_id]) == {theirs.job_id}
    finally:
        await renewer.close()

"""How long Slack waits for Baton's answer to a thread reply, now that the reply is stored before the 200
(issue 15.6). Slack gives 3 seconds; the target is "well inside".

`python -m benchmarks.bench_slack_events [--database sqlite|postgres|both] [--events N]`

Measured: signed `POST /slack/events` → HTTP answer, for a reply in a claimed handoff thread (stored, with
its event id, in one transaction before the answer). Baseline, same run, same app: a message Baton ignores
(a channel message outside any handoff thread), which pays bolt's signature check, parsing and the event-id
record but stores nothing. Sequential and with 8 in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time

from benchmarks.common import Latency, banner, table, temp_database
from tests.slack_signing import HANDOFF_CHANNEL, block_action, slack_baton, thread_message


async def _timed(world, events: list[dict], concurrency: int) -> list[float]:
    queue = list(events)
    took: list[float] = []

    async def one() -> None:
        while queue:
            event = queue.pop()
            started = time.perf_counter()
            status, _ = await world.event(event)
            took.append(time.perf_counter() - started)
            assert status == 200, status

    await asyncio.gather(*(one() for _ in range(concurrency)))
    return took


async def _measure(url: str, count: int) -> list[tuple]:
    rows = []
    async with slack_baton(url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="bench-ack")
        await world.interaction(block_action("baton_claim", json.dumps({"conversation": f"c{conversation_id}"}),
                                             user="W111", channel=HANDOFF_CHANNEL, message_ts=card_ts))
        await world.ephemeral_containing("W111", "You claimed")
        for concurrency in (1, 8):
            replies = [thread_message(f"reply {i}", user="W111", channel=HANDOFF_CHANNEL, thread_ts=card_ts,
                                      ts=world.next_ts()) for i in range(count)]
            ignored = [thread_message(f"chatter {i}", user="W111", channel="C0OTHER", thread_ts=None,
                                      ts=world.next_ts()) for i in range(count)]
            baseline = Latency.of(await _timed(world, ignored, concurrency))
            stored = Latency.of(await _timed(world, replies, concurrency))
            rows.append((f"{concurrency} in flight", stored.p50_ms, stored.p99_ms, baseline.p50_ms, baseline.p99_ms,
                         stored.p99_ms / max(baseline.p99_ms, 1e-9)))
    return rows


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_slack_events")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    for kind in kinds:
        async with temp_database(kind) as url:
            rows = await _measure(url, args.events)
        print(banner(f"Slack thread reply: signed POST /slack/events → answer ({kind}, {args.events} events)"))
        print(table(("load", "stored p50 ms", "stored p99 ms", "baseline p50 ms", "baseline p99 ms", "p99 ×"), rows))


if __name__ == "__main__":
    asyncio.run(main())

"""Where a card's time goes: cProfile of the outbox worker delivering N queued handoffs to the fake Slack.

`python -m benchmarks.profile_delivery [--database sqlite|postgres] [--handoffs N]`: accepts N handoffs
(one transaction each, no worker), then drains them with the real worker and Slack poster against the
fake Slack with no pacing, under cProfile, and prints the wall time, CPU time per card, the SQL
statements per card and the top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import time

from benchmarks.bench_delivery import handoff_payload
from benchmarks.common import temp_database
from bot.clock import utc_now
from bot.core.intake import accept_handoff
from bot.delivery.worker import OutboxWorker
from bot.intake.generic import parse_generic_handoff
from bot.settings import Settings
from bot.slack.poster import SlackPoster
from storage import db, routes
from storage.querycount import count_queries
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack


async def profile(kind: str, handoffs: int, channels: int = 200) -> None:
    async with temp_database(kind) as url:
        await db.connect(url, migrate=True)
        try:
            for i in range(channels):
                await routes.set_route("slack", f"q{i}", f"C{i:05d}", reference=None, by="bench", now=utc_now())
            rng = random.Random(3)
            for i in range(handoffs):
                handoff = parse_generic_handoff(handoff_payload(i, "prof", channels, rng))
                await accept_handoff(handoff, targets=["slack", "source"], now=utc_now())
            async with FakeSlack(keep_calls=False) as fake:
                poster = SlackPoster(api_url=fake.api_url, bot_token=BOT_TOKEN, rate=0)
                worker = OutboxWorker({"slack": poster}, Settings(slack_bot_token=BOT_TOKEN))
                profiler = cProfile.Profile()
                wall, cpu = time.perf_counter(), time.process_time()
                async with count_queries(keep_sql=False) as counter:
                    profiler.enable()
                    await worker.drain(max_passes=100_000)
                    profiler.disable()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                await poster.close()
                posts = sum(v for (m, s), v in fake.counts.items() if m == "chat.postMessage" and s == 200)
            print(f"{kind}: {handoffs} cards in {wall:.2f} s wall ({handoffs / wall:.0f} cards/s, one worker, no pacing); "
                  f"{cpu / handoffs * 1000:.1f} ms CPU per card (this process: worker + fake Slack); "
                  f"{counter.count / handoffs:.1f} SQL statements and {posts / handoffs:.1f} posts per card")
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
            print(out.getvalue())
        finally:
            await db.disconnect()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_delivery")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--handoffs", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(profile(args.database, args.handoffs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where a card's time goes: cProfile of the outbox worker delivering N queued handoffs to the fake Slack.

`python -m benchmarks.profile_delivery [--database sqlite|postgres] [--handoffs N] [--warmup W] [--no-profile]`:
accepts N handoffs (one transaction each, no worker), then drains them with the real worker and Slack
poster against the fake Slack with no pacing, under cProfile, and prints the wall time, CPU time per
card, the SQL statements per card and the top functions by cumulative and by own time.

`--warmup W` first delivers W other handoffs, unmeasured, so that one-time costs (the user-agent
parser's tables, first-use imports, the SQL caches) are not spread over the measured cards: a running
`baton serve` paid them long ago. `--no-profile` measures CPU without cProfile's own overhead. `--customers C` first seeds C customers
(`baton seed`'s generator) and names one of them in every other handoff, as `bench_intake` does, so
those cards show a matched customer's summary (profile, identities, cases, timeline) instead of "no data".
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
from benchmarks.bench_intake import _payload
from benchmarks.common import temp_database
from bot.clock import utc_now
from bot.core.intake import accept_handoff
from bot.delivery.worker import OutboxWorker
from bot.intake.generic import parse_generic_handoff
from bot.seed import seed
from bot.settings import Settings
from bot.slack.poster import SlackPoster
from storage import db, routes
from storage.seeding import contacts_of, customer_id_range
from storage.querycount import count_queries
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack


async def profile(kind: str, handoffs: int, channels: int = 200, *, warmup: int = 0, use_profiler: bool = True,
                  dump: str | None = None, customers: int = 0) -> None:
    async with temp_database(kind) as url:
        await db.connect(url, migrate=True)
        try:
            for i in range(channels):
                await routes.set_route("slack", f"q{i}", f"C{i:05d}", reference=None, by="bench", now=utc_now())
            rng = random.Random(3)
            contacts: list = []
            if customers:
                await seed(customers, now=utc_now(), rng=random.Random(7), featured=False)
                low, high = await customer_id_range()
                contacts = await contacts_of(rng.sample(range(low, high + 1), min(customers, high - low + 1)))

            def payload(i: int, tag: str) -> dict:
                if not contacts or i % 2:
                    return handoff_payload(i, tag, channels, rng)
                body = _payload(i, tag, contacts.pop(), rng)  # a known customer: a matched card
                body["queue"] = f"q{i % channels}"
                return body

            async def accept(count: int, tag: str) -> None:
                for i in range(count):
                    handoff = parse_generic_handoff(payload(i, tag))
                    await accept_handoff(handoff, targets=["slack", "source"], now=utc_now())

            async with FakeSlack(keep_calls=False) as fake:
                poster = SlackPoster(api_url=fake.api_url, bot_token=BOT_TOKEN, rate=0)
                worker = OutboxWorker({"slack": poster}, Settings(slack_bot_token=BOT_TOKEN))
                if warmup:
                    await accept(warmup, "warm")
                    await worker.drain(max_passes=100_000)
                await accept(handoffs, "prof")
                before = sum(v for (m, s), v in fake.counts.items() if m == "chat.postMessage" and s == 200)
                profiler = cProfile.Profile()
                wall, cpu = time.perf_counter(), time.process_time()
                async with count_queries(keep_sql=False) as counter:
                    if use_profiler:
                        profiler.enable()
                    await worker.drain(max_passes=100_000)
                    if use_profiler:
                        profiler.disable()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                await poster.close()
                posts = sum(v for (m, s), v in fake.counts.items() if m == "chat.postMessage" and s == 200) - before
            how = "under cProfile" if use_profiler else "no profiler"
            print(f"{kind}: {handoffs} cards in {wall:.2f} s wall ({handoffs / wall:.0f} cards/s, one worker, no pacing, "
                  f"{warmup} warm-up cards, {how}, {'half' if customers else 'none'} of them matched); "
                  f"{cpu / handoffs * 1000:.1f} ms CPU per card (this process: worker + fake Slack); "
                  f"{counter.count / handoffs:.1f} SQL statements and {posts / handoffs:.1f} posts per card")
            if use_profiler and dump:
                profiler.dump_stats(dump)
            if use_profiler:
                for order in ("cumulative", "tottime"):
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(35)
                    print(out.getvalue())
        finally:
            await db.disconnect()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_delivery")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--handoffs", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=0, help="handoffs delivered first, not measured")
    parser.add_argument("--no-profile", action="store_true", help="CPU per card without cProfile's overhead")
    parser.add_argument("--customers", type=int, default=0, help="seed this many; every other handoff names one")
    parser.add_argument("--dump", help="write the cProfile stats to this file (pstats, snakeviz)")
    args = parser.parse_args()
    asyncio.run(profile(args.database, args.handoffs, warmup=args.warmup, use_profiler=not args.no_profile,
                        dump=args.dump, customers=args.customers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

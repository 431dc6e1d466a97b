"""Soak: 10,000 handoffs with transcripts through two `baton serve` processes on one PostgreSQL.

`python -m benchmarks.bench_soak [--handoffs N] [--rate R] [--channels C]`. While it runs, the fake
Slack (paced per channel) answers a share of calls with 429 + Retry-After and 500 — some 500s after
taking the post (a lost answer) — and one process is killed with `kill -9` and restarted twice. At the
end it prints lost, duplicated and out-of-order counts for cards and transcript lines (all must be 0)
and the time to drain. Bounded: the load stops after N handoffs and the drain waits at most 15 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import tempfile
import time

import aiohttp

from benchmarks.bench_delivery import _routes, handoff_payload
from benchmarks.common import banner, temp_database
from benchmarks.procs import WEBHOOK_SECRET, BatonProcess
from bot.signing import signed_headers
from tests.fakes.slack_api import FakeSlack

ROOT_TEXT = re.compile(r"Handoff #(\S+) from")
LINE = re.compile(r"soak-(\d+)-(\d+)")
LINES = 6


def payload(index: int, channels: int, rng: random.Random) -> dict:
    body = handoff_payload(index, "soak", channels, rng)
    body.pop("reply_url", None)
    body["transcript"] = [{"from": "customer" if k % 2 == 0 else "bot", "text": f"soak-{index}-{k}"} for k in range(LINES)]
    return body


async def chaos(fake: FakeSlack, stop: asyncio.Event, rng: random.Random) -> None:
    """Every half second: a few 429s, a few 500s, and now and then a post taken whose answer is lost."""
    while not stop.is_set():
        fake.fail_next(rng.randint(1, 4), status=429, retry_after=1, method="chat.postMessage")
        fake.fail_next(rng.randint(0, 2), status=500, method="chat.postMessage")
        if rng.random() < 0.5:
            fake.fail_next(1, status=500, method="chat.postMessage", applied=True)
        await asyncio.sleep(0.5)  # the chaos schedule


async def load(urls: list[str], payloads: list[dict], rate: float, accepted: dict[int, str]) -> None:
    """Open loop at `rate`; a request to a dead process goes to the other one."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def one(index: int, body: dict) -> None:
            raw = json.dumps(body).encode()
            for attempt in range(20):
                url = urls[(index + attempt) % len(urls)]
                headers = {"Content-Type": "application/json", **signed_headers(WEBHOOK_SECRET, int(time.time()), raw)}
                try:
                    async with session.post(url + "/handoff", data=raw, headers=headers) as response:
                        answer = await response.json(content_type=None)
                        if response.status in (200, 202):  # 200: a retry of one the dead process had stored
                            accepted[index] = answer["conversation"]
                            return
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.2)  # the other process may be restarting

        started = time.monotonic()
        tasks = []
        for index, body in enumerate(payloads):
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # the load's schedule
            tasks.append(asyncio.create_task(one(index, body)))
        await asyncio.gather(*tasks)


def tally(fake: FakeSlack, handoffs: int) -> dict[str, int]:
    """From what the fake Slack holds: cards and transcript lines lost, duplicated, out of order."""
    cards: dict[str, int] = {}
    for channel, messages in fake.posted.items():
        for m in messages:
            if not m.get("thread_ts"):
                found = ROOT_TEXT.search(str(m.get("text")))
                if found:
                    cards[found.group(1)] = cards.get(found.group(1), 0) + 1
    seen: dict[int, list[int]] = {}
    for channel, messages in fake.posted.items():
        for m in messages:
            if m.get("thread_ts"):
                for index, k in LINE.findall(json.dumps(m.get("blocks"))):
                    seen.setdefault(int(index), []).append(int(k))
    lines_lost = sum(LINES - len(set(seen.get(i, []))) for i in range(handoffs))
    lines_dup = sum(len(v) - len(set(v)) for v in seen.values())
    out_of_order = sum(1 for v in seen.values() if v != sorted(v))
    return {"cards": len(cards), "cards lost": handoffs - len(cards), "cards duplicated": sum(n - 1 for n in cards.values()),
            "lines lost": lines_lost, "lines duplicated": lines_dup, "threads out of order": out_of_order}


async def run(handoffs: int, rate: float, channels: int) -> dict:
    logs = tempfile.mkdtemp(prefix="baton-soak-")
    async with temp_database("postgres") as url:
        await _routes(url, channels)
        fake = FakeSlack(channel_rate=1.0, channel_burst=3, keep_calls=False)
        await fake.start()
        rng = random.Random(17)
        one = await BatonProcess(url, fake.api_url, log_path=f"{logs}/one.log").start()
        two = await BatonProcess(url, fake.api_url, log_path=f"{logs}/two-0.log").start()
        urls = [one.url, two.url]
        stop = asyncio.Event()
        chaos_task = asyncio.create_task(chaos(fake, stop, rng))
        accepted: dict[int, str] = {}
        payloads = [payload(i, channels, rng) for i in range(handoffs)]
        started = time.monotonic()
        loader = asyncio.create_task(load(urls, payloads, rate, accepted))
        kills = []
        try:
            duration = handoffs / rate
            for n, at in enumerate((duration * 0.3, duration * 0.7)):
                await asyncio.sleep(max(0.0, started + at - time.monotonic()))  # the kills' schedule
                two.kill9()
                kills.append(round(time.monotonic() - started, 1))
                print(f"  kill -9 of process two at {kills[-1]} s; restarting", flush=True)
                two = await BatonProcess(url, fake.api_url, log_path=f"{logs}/two-{n + 1}.log").start()
                urls[1] = two.url
            await loader
            load_seconds = time.monotonic() - started
            print(f"  {len(accepted):,} handoffs accepted in {load_seconds:.0f} s; draining", flush=True)
            stop.set()
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                t = tally(fake, handoffs)
                if t["cards"] >= len(accepted) and t["lines lost"] == 0:
                    break
                await asyncio.sleep(0.5)  # the fake Slack fills in this loop
            drained = time.monotonic() - started
            await asyncio.sleep(5)  # anything posted late (a duplicate) shows up now
            result = tally(fake, handoffs)
            result.update(accepted=len(accepted), load_seconds=round(load_seconds, 1), drain_seconds=round(drained, 1),
                          kills=kills, **{f"slack {m} {s}": n for (m, s), n in sorted(fake.counts.items())
                                          if m.startswith(("chat.", "conversations."))})
            return result
        finally:
            stop.set()
            chaos_task.cancel()
            loader.cancel()
            one.stop()
            two.stop()
            await fake.stop()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_soak")
    parser.add_argument("--handoffs", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--channels", type=int, default=500)
    args = parser.parse_args()
    print(banner(f"soak: {args.handoffs:,} handoffs at {args.rate:.0f}/s over {args.channels} channels, "
                 "two processes on PostgreSQL, 429s and 500s, two kill -9"), flush=True)
    result = asyncio.run(run(args.handoffs, args.rate, args.channels))
    for key, value in result.items():
        print(f"  {key}: {value}")
    bad = sum(result[k] for k in ("cards lost", "cards duplicated", "lines lost", "lines duplicated", "threads out of order"))
    print("  all zero: " + ("yes" if bad == 0 else "NO"))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

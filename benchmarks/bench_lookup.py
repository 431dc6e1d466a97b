"""`/baton lookup` at scale (issue 13 target 5): the answer's p99 with N customers seeded by `baton seed`.

`python -m benchmarks.bench_lookup [--database sqlite|postgres|both] [--customers 10000,1000000] [--requests 300]`

For each scale: a fresh database filled by the real `python -m bot.cli seed --customers N` (its `rich`
progress bar, seeding time and database size are printed), then the real `baton serve` against the fake
Slack; signed `/baton lookup <email | phone | name>` slash commands for random seeded customers, one at
a time. `ack` is the HTTP answer to Slack's POST (Bolt acks first); `answer` is the time until the
lookup's reply reaches its `response_url`, which is the part that reads the database. Target (issue 13.5):
ack p99 ≤ 100 ms at the largest scale and ≤ 1.3× the p99 at the smallest; the answer is held to the same.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from benchmarks.common import banner, percentile, temp_database
from benchmarks.procs import ROOT, SIGNING_SECRET, BatonProcess, free_port
from storage import db
from storage.seeding import contacts_of, customer_id_range, database_size_bytes
from tests.fakes.slack_api import FakeSlack
from tests.slack_signing import slack_headers

KINDS = ("email", "phone", "name")


def seed_with_cli(url: str, customers: int) -> float:
    """`baton seed` as a user runs it (its progress bar goes to this terminal); returns its wall seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env["BATON_DATABASE_URL"] = url
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot.cli", "seed", "--customers", str(customers)], cwd=ROOT, env=env,
                   check=True)
    return time.perf_counter() - started


async def queries(url: str, requests: int, rng: random.Random) -> tuple[list[tuple[str, str]], int]:
    await db.connect(url, migrate=False)
    try:
        low, high = await customer_id_range()
        contacts = await contacts_of(rng.sample(range(low, high + 1), min(requests, high - low + 1)))
        size = await database_size_bytes()
    finally:
        await db.disconnect()
    picked = []
    for n, (_, email, phone, name) in enumerate(contacts):
        kind = KINDS[n % len(KINDS)]
        picked.append((kind, {"email": email, "phone": phone, "name": name}[kind] or email))
    return picked, size


class Answers:
    """A response_url server of our own: the arrival time of each request's answer, by request id."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.events: dict[str, asyncio.Event] = {}
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def start(self) -> "Answers":
        app = web.Application()
        app.router.add_post("/r/{id}", self._answer)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def _answer(self, request: web.Request) -> web.Response:
        name = request.match_info["id"]
        await request.read()
        self.arrived.setdefault(name, time.perf_counter())
        self.events.setdefault(name, asyncio.Event()).set()
        return web.json_response({"ok": True})

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/r/{name}"

    async def wait(self, name: str, timeout: float = 10.0) -> float:
        await asyncio.wait_for(self.events.setdefault(name, asyncio.Event()).wait(), timeout)
        return self.arrived[name]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def command_body(text: str, response_url: str) -> bytes:
    return urlencode({
        "token": "x", "team_id": "T0BATON", "team_domain": "acme", "channel_id": "C0ROOT", "channel_name": "support",
        "user_id": "W111", "user_name": "ana", "command": "/baton", "text": text, "api_app_id": "A0BATON",
        "is_enterprise_install": "false", "response_url": response_url, "trigger_id": "111.111.xxx",
    }).encode()


async def measure(url: str, picked: list[tuple[str, str]]) -> dict[str, list[float]]:
    fake = await FakeSlack(keep_calls=False).start()
    answers = await Answers().start()
    baton = await BatonProcess(url, fake.api_url).start()
    timings: dict[str, list[float]] = {"ack": [], "answer": [], **{k: [] for k in KINDS}}
    try:
        async with aiohttp.ClientSession() as session:
            for n, (kind, value) in enumerate([("email", picked[0][1])] * 5 + picked):  # 5 warm-ups
                name = f"q{n}"
                body = command_body(f"lookup {value}", answers.url(name))
                headers = slack_headers(SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded")
                sent = time.perf_counter()
                async with session.post(baton.url + "/slack/events", data=body, headers=headers) as response:
                    await response.read()
                    acked = time.perf_counter()
                    assert response.status == 200, response.status
                answered = await answers.wait(name)
                if n >= 5:
                    timings["ack"].append((acked - sent) * 1000)
                    timings["answer"].append((answered - sent) * 1000)
                    timings[kind].append((answered - sent) * 1000)
    finally:
        baton.stop()
        await answers.stop()
        await fake.stop()
    return timings


async def one_scale(kind: str, customers: int, requests: int) -> dict:
    async with temp_database(kind) as url:
        seconds = seed_with_cli(url, customers)
        picked, size = await queries(url, requests, random.Random(customers))
        timings = await measure(url, picked)
    return {"customers": customers, "seed_s": seconds, "size_mb": size / 1e6, **{
        k: (percentile(v, 50), percentile(v, 99)) for k, v in timings.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_lookup")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--customers", default="10000,1000000", help="comma-separated scales, smallest first")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    scales = [int(x) for x in args.customers.split(",")]
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    failed = False
    for kind in kinds:
        print(banner(f"/baton lookup on {kind}: {', '.join(f'{n:,}' for n in scales)} customers, {args.requests} lookups"))
        rows = [asyncio.run(one_scale(kind, n, args.requests)) for n in scales]
        print(f"  {'customers':>10} {'seed s':>8} {'size MB':>9} {'ack p50/p99 ms':>16} {'answer p50/p99 ms':>18} "
              + " ".join(f"{k + ' p50/p99':>14}" for k in KINDS))
        for r in rows:
            print(f"  {r['customers']:>10,} {r['seed_s']:>8.1f} {r['size_mb']:>9.1f} "
                  f"{r['ack'][0]:>7.1f}/{r['ack'][1]:<8.1f} {r['answer'][0]:>8.1f}/{r['answer'][1]:<9.1f} "
                  + " ".join(f"{r[k][0]:>6.1f}/{r[k][1]:<7.1f}" for k in KINDS))
        for what in ("ack", "answer"):  # the target is the ack; the answer is the stricter reading
            small, large = rows[0][what][1], rows[-1][what][1]
            ok = large <= 100 and large <= 1.3 * small
            failed |= not ok
            print(f"  {what} p99 at {rows[-1]['customers']:,}: {large:.1f} ms ({large / small:.2f}× the p99 at "
                  f"{rows[0]['customers']:,}); target ≤ 100 ms and ≤ 1.3×: {'met' if ok else 'NOT met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

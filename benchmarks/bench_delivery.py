"""Delivery: `POST /handoff` → the card's `chat.postMessage`, Baton's real `baton serve` against a fake Slack.

Baton runs as `python -m bot.cli serve` (its real app and outbox worker) on this machine; the fake Slack
(tests/fakes/slack_api.py, real HTTP) runs in this process and paces `chat.postMessage` per channel like
Slack (1 a second, bursts of 3, a 429 with Retry-After past that). Figures:

- paced: 100 handoffs/s over 200 channels for `--seconds`; p50/p99 handoff → card, beside a baseline
  (a minimal server + worker that stores a row and posts it) under the same load in the same run;
- card edit: `!note` thread messages (signed Slack events) sent during that load → `chat.update`;
- saturation: a burst of handoffs over 2,000 channels (so Baton's own costs bind, not Slack's limit);
  intake handoffs/s vs delivered cards/s, and the Baton process's peak RSS;
- PostgreSQL: the same burst through two `baton serve` processes, cards counted (exactly once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field

import aiohttp

from benchmarks.bench_intake import _payload
from benchmarks.common import Latency, banner, table, temp_database
from benchmarks.cpu import CpuCap, CpuLedger, CpuShare
from benchmarks.procs import ROOT, SIGNING_SECRET, WEBHOOK_SECRET, BatonProcess
from bot.signing import signed_headers
from tests.fakes.slack_api import FakeSlack

ROOT_TEXT = re.compile(r"Handoff #(\S+) from")
CLIENT_TIMEOUT = 300


def channel_of(index: int, channels: int) -> str:
    return f"C{index % channels:05d}"


def handoff_payload(index: int, tag: str, channels: int, rng: random.Random) -> dict:
    body = _payload(index, tag, None, rng)
    body["queue"] = f"q{index % channels}"
    return body


# --------------------------------------------------------------------------- what the fake Slack saw


@dataclass
class Observed:
    roots: dict[str, list[float]] = field(default_factory=dict)  # public id -> arrival of each root post
    root_ts: dict[str, tuple[str, str]] = field(default_factory=dict)  # public id -> (channel, ts)
    updates: dict[str, list[float]] = field(default_factory=dict)  # root ts -> arrivals of chat.update
    replies: int = 0

    def listen(self, call) -> None:
        if call.method == "chat.postMessage" and call.ok:
            if call.args.get("thread_ts"):
                self.replies += 1
                return
            found = ROOT_TEXT.search(str(call.args.get("text") or ""))
            if found:
                self.roots.setdefault(found.group(1), []).append(call.at)
                self.root_ts.setdefault(found.group(1), (str(call.args.get("channel")), call.response["ts"]))
        elif call.method == "chat.update" and call.ok:
            self.updates.setdefault(str(call.args.get("ts")), []).append(call.at)

    async def wait_roots(self, ids: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(i in self.roots for i in ids):
                return True
            await asyncio.sleep(0.05)  # the fake Slack runs in this loop; checking it costs nothing
        return False


# --------------------------------------------------------------------------- load


async def paced_load(url: str, payloads: list[dict], rate: float,
                     accepted: list[str] | None = None) -> list[tuple[str, float, int, float]]:
    """Open loop: request i leaves at start + i/rate whatever the answers; (public id, sent at, status,
    answered at).
    `accepted`, when given, gets each 202's public id as it arrives (for a sampler running alongside)."""
    results: list[tuple[str, float, int, float]] = []
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def one(body: dict) -> None:
            raw = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **signed_headers(WEBHOOK_SECRET, int(time.time()), raw)}
            sent = time.time()
            async with session.post(url + "/handoff", data=raw, headers=headers) as response:
                answer = await response.json(content_type=None)
            public = str(answer.get("conversation"))
            results.append((public, sent, response.status, time.time()))
            if accepted is not None and response.status == 202:
                accepted.append(public)

        started = time.monotonic()
        tasks = []
        for index, body in enumerate(payloads):
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # the schedule of an open-loop load
            tasks.append(asyncio.create_task(one(body)))
        await asyncio.gather(*tasks)
    return results


async def burst(urls: list[str], payloads: list[dict], concurrency: int = 16) -> tuple[float, dict[str, int]]:
    """Every payload as fast as the servers take them, from child processes (bench_intake's client)."""
    parts = [payloads[i::len(urls)] for i in range(len(urls))]
    specs = []
    for url, part in zip(urls, parts):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
            json.dump({"url": url + "/handoff", "warmup": [], "payloads": part, "concurrency": concurrency,
                       "secret": WEBHOOK_SECRET}, handle)
            specs.append(handle.name)
    try:
        started = time.perf_counter()
        procs = [await asyncio.create_subprocess_exec(sys.executable, "-m", "benchmarks.bench_intake", "--client", spec,
                                                      stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT)
                 for spec in specs]
        outs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), CLIENT_TIMEOUT)
        statuses: dict[str, int] = {}
        seconds = 0.0
        for out, err in outs:
            if not out:
                raise RuntimeError(err.decode()[-2000:])
            result = json.loads(out)
            seconds = max(seconds, result["seconds"])
            for k, v in result["statuses"].items():
                statuses[k] = statuses.get(k, 0) + v
        return (seconds or time.perf_counter() - started), statuses
    finally:
        for spec in specs:
            os.unlink(spec)


async def send_notes(url: str, observed: Observed, ids: list[str], *, count: int, every: float,
                     sent: list[tuple[str, float]]) -> None:
    """`!note` thread messages from an agent, signed as Slack signs events, on cards already posted."""
    from tests.slack_signing import event_body, slack_headers, thread_message

    async with aiohttp.ClientSession() as session:
        for n in range(count):
            await asyncio.sleep(every)  # the notes' own schedule
            posted = [i for i in ids if i in observed.root_ts]
            if not posted:
                continue
            channel, ts = observed.root_ts[random.choice(posted[-200:])]
            event = thread_message(f"!note bench note {n}", user="W111", channel=channel, thread_ts=ts,
                                   ts=f"{time.time():.6f}")
            raw = json.dumps(event_body(event, event_id=f"EvBench{os.getpid()}{n}{time.time_ns()}")).encode()
            at = time.time()
            async with session.post(url + "/slack/events", data=raw,
                                    headers=slack_headers(SIGNING_SECRET, raw, content_type="application/json")) as r:
                await r.read()
            sent.append((ts, at))


def note_latencies(observed: Observed, sent: list[tuple[str, float]]) -> list[float]:
    out = []
    for ts, at in sent:
        after = [u for u in observed.updates.get(ts, []) if u >= at]
        if after:
            out.append(min(after) - at)
    return out


# --------------------------------------------------------------------------- the baseline


def _baseline_main(database_url: str, port: int, slack_api: str) -> None:
    """A minimal server + worker: store a row, read it back, post it. What any delivery must do."""
    from aiohttp import web
    from tortoise import connections

    from storage import db

    async def main() -> None:
        await db.connect(database_url, migrate=False)
        conn = connections.get("default")
        pg = db.dialect() != "sqlite"
        serial = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        await conn.execute_script(f"CREATE TABLE IF NOT EXISTS bench_baseline (id {serial}, channel VARCHAR(40), posted INT DEFAULT 0)")
        mark = "$1" if pg else "?"
        wake = asyncio.Event()
        http = aiohttp.ClientSession()
        inflight: set[int] = set()

        async def handoff(request: web.Request) -> web.Response:
            body = json.loads(await request.read())
            channel = "C" + str(body["queue"])[1:].zfill(5)
            # execute_query_dict: asyncpg's execute_query does not fetch an INSERT's RETURNING rows.
            rows = await conn.execute_query_dict(f"INSERT INTO bench_baseline (channel) VALUES ({mark}) RETURNING id", [channel])
            wake.set()
            return web.json_response({"conversation": f"b{rows[0]['id']}", "status": "queued"}, status=202)

        async def post(row_id: int, channel: str) -> None:
            while True:
                async with http.post(slack_api + "chat.postMessage", json={"channel": channel, "text": f"Handoff #b{row_id} from baseline"},
                                     headers={"Authorization": "Bearer xoxb-test-baton"}) as r:
                    if r.status == 429:
                        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                        continue
                    await r.read()
                    break
            await conn.execute_query(f"UPDATE bench_baseline SET posted = 1 WHERE id = {mark}", [row_id])
            inflight.discard(row_id)

        async def worker() -> None:
            while True:
                _, rows = await conn.execute_query("SELECT id, channel FROM bench_baseline WHERE posted = 0 ORDER BY id LIMIT 500")
                fresh = [r for r in rows if r["id"] not in inflight]
                for r in fresh:
                    inflight.add(r["id"])
                    asyncio.create_task(post(r["id"], r["channel"]))
                if not fresh:
                    wake.clear()
                    try:
                        await asyncio.wait_for(wake.wait(), 0.25)
                    except asyncio.TimeoutError:
                        pass

        app = web.Application()
        app.router.add_post("/handoff", handoff)
        app.router.add_get("/readyz", lambda r: web.json_response({"ok": True}))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await worker()

    asyncio.run(main())


class BaselineProcess(BatonProcess):
    async def start(self, *, timeout: float = 60.0) -> "BaselineProcess":
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_delivery", "--baseline", self.database_url, str(self.port), self.slack_api_url],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(self.log_path, "ab"), start_new_session=True)
        return await _ready(self, timeout)


async def _ready(proc: BatonProcess, timeout: float):
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(proc.url + "/readyz") as r:
                    if r.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)  # waiting for a port to open
    raise RuntimeError("baseline not ready")


# --------------------------------------------------------------------------- the run


@dataclass
class Paced:
    name: str
    handoffs: int
    latency: Latency
    missing: int
    statuses: dict[str, int]
    accept: Latency | None = None  # request sent -> its 202 (intake's share of handoff -> card)
    thirds: tuple[float, ...] = ()  # p99 ms of handoff -> card for the first, second and last third sent
    rate_limited: int = 0  # chat.postMessage answered 429 during the phase


@dataclass
class Saturation:
    processes: int
    handoffs: int
    intake_per_second: float
    cards_per_second: float
    drain_seconds: float
    cards: int
    duplicates: int
    peak_rss_mb: float
    statuses: dict[str, int]
    cpu: CpuShare | None = None
    cap: float | None = None  # cores each Baton process was allowed (None: uncapped)


@dataclass
class DeliveryBench:
    database: str
    paced: list[Paced] = field(default_factory=list)
    notes: Latency | None = None
    saturation: list[Saturation] = field(default_factory=list)


async def _routes(url: str, channels: int) -> None:
    from bot.clock import utc_now
    from storage import db, routes

    await db.connect(url, migrate=True)
    try:
        for i in range(channels):
            await routes.set_route("slack", f"q{i}", f"C{i:05d}", reference=None, by="bench", now=utc_now())
    finally:
        await db.disconnect()


async def _paced(name: str, proc: BatonProcess, observed: Observed, *, rate: float, seconds: float, channels: int,
                 tag: str, notes: list | None = None) -> Paced:
    rng = random.Random(11)
    payloads = [handoff_payload(i, tag, channels, rng) for i in range(int(rate * seconds))]
    note_task = None
    if notes is not None:
        note_task = asyncio.create_task(send_notes(proc.url, observed, [], count=int(seconds * 4), every=0.25, sent=notes))
    results = await paced_load(proc.url, payloads, rate)
    ids = [r[0] for r in results if r[2] == 202]
    if note_task is not None:
        # Notes go to cards of this run: the list they pick from is filled once the answers are in.
        note_task.cancel()
        await asyncio.gather(note_task, return_exceptions=True)
    await observed.wait_roots(ids, timeout=120)
    sent = {r[0]: r[1] for r in results}
    latencies = [observed.roots[i][0] - sent[i] for i in ids if i in observed.roots]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r[2])] = statuses.get(str(r[2]), 0) + 1
    return Paced(name, len(payloads), Latency.of(latencies), len(ids) - len(latencies), statuses,
                 Latency.of([r[3] - r[1] for r in results]))


async def _paced_with_notes(proc: BatonProcess, observed: Observed, *, rate: float, seconds: float, channels: int,
                            tag: str, sent_notes: list) -> Paced:
    rng = random.Random(11)
    payloads = [handoff_payload(i, tag, channels, rng) for i in range(int(rate * seconds))]
    ids: list[str] = []
    # The notes pick cards of this run: ids whose answers are in, as they come.
    loader = asyncio.create_task(paced_load(proc.url, payloads, rate, ids))
    notes = asyncio.create_task(send_notes(proc.url, observed, ids, count=int(seconds * 4) - 4, every=0.25, sent=sent_notes))
    results = await loader
    await notes
    accepted = [r[0] for r in results if r[2] == 202]
    await observed.wait_roots(accepted, timeout=120)
    sent = {r[0]: r[1] for r in results}
    latencies = [observed.roots[i][0] - sent[i] for i in accepted if i in observed.roots]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r[2])] = statuses.get(str(r[2]), 0) + 1
    by_time = [observed.roots[i][0] - sent[i] for i in sorted((i for i in accepted if i in observed.roots), key=sent.get)]
    third = max(1, len(by_time) // 3)
    thirds = tuple(Latency.of(by_time[k * third:(k + 1) * third]).p99_ms for k in range(3))
    return Paced("Baton", len(payloads), Latency.of(latencies), len(accepted) - len(latencies), statuses,
                 Latency.of([r[3] - r[1] for r in results]), thirds)


async def _saturate(procs: list[BatonProcess], observed: Observed, *, handoffs: int, channels: int, tag: str) -> Saturation:
    rng = random.Random(13)
    payloads = [handoff_payload(i, tag, channels, rng) for i in range(handoffs)]
    before = set(observed.roots)
    peak = [0.0]

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], sum(p.rss_mb() for p in procs) / len(procs))
            await asyncio.sleep(0.2)  # a sampling period

    sampler = asyncio.create_task(sample())
    ledger = CpuLedger([p.pid for p in procs])
    started = time.time()
    intake_seconds, statuses = await burst([p.url for p in procs], payloads)
    accepted = statuses.get("202", 0)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(set(observed.roots) - before) < accepted:
        await asyncio.sleep(0.05)  # the fake Slack counts cards in this loop
    cpu = ledger.stop()
    sampler.cancel()
    new = {k: v for k, v in observed.roots.items() if k not in before}
    last = max((v[0] for v in new.values()), default=started)
    drain = last - started
    return Saturation(
        processes=len(procs), handoffs=handoffs, intake_per_second=handoffs / intake_seconds,
        cards_per_second=len(new) / drain if drain else 0.0, drain_seconds=drain, cards=len(new),
        duplicates=sum(len(v) - 1 for v in new.values()), peak_rss_mb=peak[0], statuses=statuses, cpu=cpu,
    )


async def _scaling_capped(url: str, fake: FakeSlack, observed: Observed, *, cores: float, handoffs: int,
                          channels: int, log_dir: str, kind: str) -> list[Saturation]:
    """One, then two `baton serve` processes, each held to `cores` of CPU by its own cgroup."""
    results: list[Saturation] = []
    procs: list[BatonProcess] = []
    caps: list[CpuCap] = []
    try:
        for count in (1, 2):
            while len(procs) < count:
                n = len(procs) + 1
                proc = await BatonProcess(url, fake.api_url, log_path=f"{log_dir}/{kind}-capped-{n}.log").start()
                cap = CpuCap(f"baton-bench-{os.getpid()}-{n}", cores)
                cap.add(proc.pid)
                procs.append(proc)
                caps.append(cap)
            await asyncio.sleep(4)  # Slack's per-channel buckets refill; the new process settles
            print(f"  saturation: {count} process(es) held to {cores:g} core each, {handoffs:,} handoffs", flush=True)
            measured = await _saturate(procs, observed, handoffs=handoffs, channels=channels,
                                       tag=f"c{count}{os.getpid()}")
            measured.cap = cores
            results.append(measured)
    finally:
        for proc in procs:
            proc.stop()
        for cap in caps:
            cap.close()
    return results


async def run(kind: str, *, seconds: float = 20.0, rate: float = 100.0, channels: int = 200,
              burst_handoffs: int = 3000, burst_channels: int = 2000, log_dir: str | None = None,
              cap: float | None = None, scaling_only: bool = False) -> DeliveryBench:
    result = DeliveryBench(kind)
    log_dir = log_dir or tempfile.mkdtemp(prefix="baton-bench-logs-")
    async with temp_database(kind) as url:
        await _routes(url, max(channels, burst_channels))
        fake = FakeSlack(channel_rate=1.0, channel_burst=3, keep_calls=False)
        observed = Observed()
        fake.listeners.append(observed.listen)
        await fake.start()
        procs: list[BatonProcess] = []
        try:
            if scaling_only:
                result.saturation.extend(await _scaling_capped(
                    url, fake, observed, cores=cap or 1.0, handoffs=burst_handoffs, channels=burst_channels,
                    log_dir=log_dir, kind=kind))
                return result
            baton = await BatonProcess(url, fake.api_url, log_path=f"{log_dir}/{kind}-baton-1.log").start()
            procs.append(baton)
            notes: list[tuple[str, float]] = []
            print(f"  paced: Baton, {rate:.0f}/s for {seconds:.0f} s over {channels} channels, with !notes at 4/s", flush=True)
            limited = fake.counts.get(("chat.postMessage", 429), 0)
            result.paced.append(await _paced_with_notes(baton, observed, rate=rate, seconds=seconds, channels=channels,
                                                        tag=f"p{os.getpid()}", sent_notes=notes))
            result.paced[-1].rate_limited = fake.counts.get(("chat.postMessage", 429), 0) - limited
            result.notes = Latency.of(note_latencies(observed, notes))
            await asyncio.sleep(4)  # Slack's per-channel buckets refill before the baseline's turn
            baseline = await BaselineProcess(url, fake.api_url, log_path=f"{log_dir}/{kind}-baseline.log").start()
            procs.append(baseline)
            print("  paced: baseline", flush=True)
            result.paced.append(await _paced("baseline", baseline, observed, rate=rate, seconds=seconds,
                                             channels=channels, tag=f"x{os.getpid()}"))
            baseline.stop()
            print(f"  saturation: 1 process, {burst_handoffs:,} handoffs over {burst_channels:,} channels", flush=True)
            result.saturation.append(await _saturate([baton], observed, handoffs=burst_handoffs, channels=burst_channels,
                                                     tag=f"s1{os.getpid()}"))
            if kind == "postgres":
                second = await BatonProcess(url, fake.api_url, log_path=f"{log_dir}/{kind}-baton-2.log").start()
                procs.append(second)
                await asyncio.sleep(4)
                print(f"  saturation: 2 processes, {burst_handoffs:,} handoffs", flush=True)
                result.saturation.append(await _saturate([baton, second], observed, handoffs=burst_handoffs,
                                                         channels=burst_channels, tag=f"s2{os.getpid()}"))
                if cap:
                    baton.stop()
                    second.stop()
                    result.saturation.extend(await _scaling_capped(
                        url, fake, observed, cores=cap, handoffs=burst_handoffs, channels=burst_channels,
                        log_dir=log_dir, kind=kind))
        finally:
            for p in procs:
                p.stop()
            await fake.stop()
    return result


def _cpu_lines(runs: list[Saturation]) -> list[str]:
    """What each card cost whom, and the cards/s this machine's cores allow at that cost."""
    lines = []
    for s in runs:
        if s.cpu is None:
            continue
        cost = s.cpu.per_card_ms(s.cards)
        held = f", each held to {s.cap:g} core" if s.cap else ""
        lines.append(
            f"  {s.processes} process(es){held}: CPU ms per card " + ", ".join(f"{k} {v:.1f}" for k, v in cost.items())
            + f"; cores busy {s.cpu.total / s.cpu.wall:.2f} of {s.cpu.machine_cores}"
            + f" (Baton {s.cpu.baton / s.cpu.wall:.2f}); this machine's ceiling at that cost "
            + f"{s.cpu.ceiling_cards_per_second(s.cards):.0f} cards/s")
    return lines


def _ratio_line(one: Saturation, two: Saturation) -> str:
    held = f", each held to {one.cap:g} core" if one.cap else ""
    line = (f"two processes{held}: {two.cards_per_second / one.cards_per_second:.2f}x one "
            f"(target >= 1.7x), {two.duplicates} duplicate cards")
    if one.cpu is not None and not one.cap:
        ceiling = one.cpu.ceiling_cards_per_second(one.cards) / one.cards_per_second
        line += f"; this machine allows at most {ceiling:.2f}x at one process's CPU cost per card"
    return line


def report(result: DeliveryBench) -> str:
    rows = [(p.name, p.handoffs, p.latency.p50_ms, p.latency.p99_ms, p.accept.p50_ms if p.accept else 0.0,
             p.accept.p99_ms if p.accept else 0.0, p.missing,
             " ".join(f"{k}x{v}" for k, v in sorted(p.statuses.items()))) for p in result.paced]
    lines = [table(("handoff -> card (paced)", "handoffs", "p50 ms", "p99 ms", "202 p50 ms", "202 p99 ms", "no card",
                    "statuses"), rows)]
    for p in result.paced:
        if p.thirds:
            lines.append(f"{p.name}: p99 by thirds of the run {' / '.join(f'{t:.0f}' for t in p.thirds)} ms; "
                         f"{p.rate_limited} chat.postMessage answered 429")
    if result.notes:
        lines.append(f"card edit (!note -> chat.update) under that load: p50 {result.notes.p50_ms:.0f} ms, "
                     f"p99 {result.notes.p99_ms:.0f} ms over {result.notes.n} notes (target p99 <= 200 ms)")
    sat = [(s.processes, s.handoffs, s.intake_per_second, s.cards_per_second, s.drain_seconds, s.cards, s.duplicates,
            s.peak_rss_mb) for s in result.saturation]
    lines.append(table(("saturation: processes", "handoffs", "intake/s", "cards/s", "drain s", "cards", "dupes",
                        "peak RSS MB"), sat))
    lines.extend(_cpu_lines(result.saturation))
    uncapped = [s for s in result.saturation if not s.cap]
    capped = [s for s in result.saturation if s.cap]
    if uncapped:
        one = uncapped[0]
        lines.append(f"delivery {one.cards_per_second:.0f} cards/s = {one.cards_per_second / one.intake_per_second:.0%} "
                     f"of intake {one.intake_per_second:.0f}/s (target >= 50 %)")
    for group in (uncapped, capped):
        if len(group) > 1:
            lines.append(_ratio_line(group[0], group[1]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_delivery")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--cap", type=float, default=None, metavar="CORES",
                        help="also run one and two processes each held to CORES of CPU (a cgroup each; root)")
    parser.add_argument("--scaling-only", action="store_true",
                        help="only the one- and two-process saturation runs (held to --cap, default 1 core)")
    args = parser.parse_args(argv)
    if args.cap or args.scaling_only:
        why_not = CpuCap.available()
        if why_not:
            parser.error(f"--cap needs a CPU cgroup: {why_not}")
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    for kind in kinds:
        print(banner(f"{kind}: delivery"), flush=True)
        result = asyncio.run(run(kind, seconds=args.seconds, rate=args.rate, burst_handoffs=args.burst,
                                 cap=args.cap, scaling_only=args.scaling_only))
        print(report(result), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--baseline":
        _baseline_main(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        raise SystemExit(main())

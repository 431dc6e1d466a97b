"""Web chat latency and memory (SPEC 3.5), each beside a baseline measured in the same run.

1. **Visitor message → Slack thread reply.** Baton's real app (Slack on, the outbox worker running, a
   fake Slack Web API on loopback): the time from `POST /inbound/webchat` (a message) to the fake Slack
   recording the `chat.postMessage` in the chat's thread. Baseline: a bare aiohttp endpoint that calls
   `chat.postMessage` on the same fake Slack inside its handler (no database, no outbox).
2. **Agent reply → visitor, with N visitors connected** (1,000 by default). N chats are started and
   claimed, and N event streams stay open on the one Baton process. A child process (so the clients do
   not share the server's interpreter) holds the streams and, one at a time, posts a signed Slack thread
   message for a random chat and times until that visitor's stream delivers it: Slack edge, core, outbox
   `source` target, the visitor's event row, the stream. Baseline: a bare aiohttp SSE echo server with N
   streams, where a POST is written to one stream. RSS of this process (servers and fake Slack, not the
   clients) is read before and after the streams open.

`python -m benchmarks.bench_webchat [--database sqlite|postgres] [--visitors N] [--samples N]`.
Targets (issue 10): agent reply → visitor p99 ≤ 200 ms and RSS ≤ 200 MB with 1,000 streams open.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from benchmarks.common import Latency, banner, table, temp_database
from bot.cli import freeze_startup_heap
from bot.config import Webchat
from bot.core import actions
from bot.domain import Actor, parse_public_id
from bot.settings import Settings
from bot.slack.poster import SlackPoster
from bot.web.app import create_app, services_of
from storage import db, outbox, posts

SIGNING_SECRET = "bench-signing-secret"
CHANNEL = "C0BENCH"
PRECHAT = [{"question": "Your name", "answer": "Bench Visitor"}, {"question": "Your email", "answer": "bench@example.com"},
           {"question": "How can we help?", "answer": "benchmarking"}]


def raise_file_limit() -> None:
    """1,000 streams are 1,000 sockets on each side, past the usual soft limit of 1,024 descriptors."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65_536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


async def _baton(url: str, slack) -> tuple[web.AppRunner, str, Any]:
    settings = replace(Settings(database_url=url), slack_bot_token="xoxb-test-baton", slack_signing_secret=SIGNING_SECRET,
                       slack_api_url=slack.api_url, slack_channel=CHANNEL, outbox_poll_seconds=0.05,
                       webchat=Webchat(starts_per_minute=10_000, messages_per_minute=10_000))
    poster = SlackPoster(api_url=slack.api_url, bot_token="xoxb-test-baton", default_channel=CHANNEL, rate=0)
    app = create_app(settings, posters={"slack": poster}, run_worker=True, manage_database=False)
    app.on_startup.append(freeze_startup_heap)  # as `baton serve` does
    runner, base = await _serve(app)
    return runner, base, app


async def _start(session: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with session.post(base + "/inbound/webchat", json={"type": "start", "prechat": PRECHAT}) as response:
        assert response.status == 201, await response.text()
        return await response.json()


# --------------------------------------------------------------------------- 1. visitor → thread


async def visitor_to_thread(url: str, samples: int, slack) -> list[tuple]:
    from slack_sdk.web.async_client import AsyncWebClient

    rows = []
    runner, base, _ = await _baton(url, slack)
    session = aiohttp.ClientSession()
    try:
        chat = await _start(session, base)
        token = {"Authorization": f"Bearer {chat['token']}"}
        await slack.wait_for(lambda s: s.of("chat.postMessage"), timeout=30)

        async def baton_once(i: int) -> float:
            text = f"visitor line {i}"
            started = time.perf_counter()
            async with session.post(base + "/inbound/webchat", headers=token,
                                    json={"type": "message", "text": text, "client_id": f"b{i}"}) as response:
                assert response.status == 200
            await slack.wait_for(lambda s: any(c.method == "chat.postMessage" and text in json.dumps(c.args)
                                               for c in s.calls[-5:]), timeout=30)
            return time.perf_counter() - started

        client = AsyncWebClient(token="xoxb-test-baton", base_url=slack.api_url)

        async def bare(request: web.Request) -> web.Response:
            body = await request.json()
            await client.chat_postMessage(channel=CHANNEL, thread_ts="1700000000.000001", text=body["text"])
            return web.json_response({"ok": True})

        bare_app = web.Application()
        bare_app.router.add_post("/send", bare)
        bare_runner, bare_base = await _serve(bare_app)

        async def bare_once(i: int) -> float:
            text = f"bare line {i}"
            started = time.perf_counter()
            async with session.post(bare_base + "/send", json={"text": text}) as response:
                assert response.status == 200
            await slack.wait_for(lambda s: any(c.args.get("text") == text for c in s.calls[-5:]), timeout=30)
            return time.perf_counter() - started

        for name, once in (("Baton visitor message → thread", baton_once), ("baseline: handler posts to Slack", bare_once)):
            for i in range(5):
                await once(-i - 1)
            times = [await once(i) for i in range(samples)]
            figure = Latency.of(times)
            rows.append((name, figure.n, figure.p50_ms, figure.p99_ms))
        await bare_runner.cleanup()
    finally:
        await session.close()
        await runner.cleanup()
    return rows


# --------------------------------------------------------------------------- 2. agent → N visitors


async def agent_to_visitors(url: str, visitors: int, samples: int, slack) -> list[tuple]:
    rows = []
    runner, base, app = await _baton(url, slack)
    services = services_of(app)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    try:
        cards_before = len(slack.roots())
        chats = []
        for _ in range(visitors):
            chats.append(await _start(session, base))
        agent = Actor(platform="slack", user_id="W111", display_name="Ana Agent")
        for chat in chats:
            await actions.claim(services, agent, parse_public_id(chat["conversation"]))
        await slack.wait_for(lambda s: len(s.roots()) >= cards_before + visitors, timeout=600)
        # The claims' card edits and "joined" relays are done before anything is timed.
        deadline = time.monotonic() + 600
        while sum((await outbox.pending_counts()).values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        targets = []
        for chat in chats:
            root = await posts.get_root("slack", parse_public_id(chat["conversation"]))
            targets.append({"token": chat["token"], "thread_ts": root.thread_ref,
                            "conversation": parse_public_id(chat["conversation"])})
        before = rss_mb()
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
            json.dump(targets, spec)  # 1,000 tokens are too long for one command-line argument
        baton = await _child(["baton", base, spec.name, str(samples)], lambda: rss_mb(),
                             lambda lost: _diagnose(lost, targets, app), count=True)
        os.unlink(spec.name)
        rows.append(("Baton agent reply → visitor", *baton[0], before, baton[1], *baton[2]))
    finally:
        await session.close()
        await runner.cleanup()

    streams: list[web.StreamResponse | None] = [None] * visitors

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        index = int(request.query["i"])
        streams[index] = response
        done = asyncio.Event()
        request.app.setdefault("done", []).append(done)
        await done.wait()
        return response

    async def send(request: web.Request) -> web.Response:
        body = await request.json()
        data = json.dumps({"from": "agent", "name": "Ana Agent", "text": body["text"]})
        await streams[int(body["i"])].write(f"id: 1\nevent: message\ndata: {data}\n\n".encode())
        return web.json_response({"ok": True})

    echo = web.Application()
    echo.router.add_get("/events", stream)
    echo.router.add_post("/send", send)

    async def release(app: web.Application) -> None:
        for done in app.get("done", []):
            done.set()

    echo.on_shutdown.append(release)
    echo_runner, echo_base = await _serve(echo)
    try:
        before = rss_mb()
        bare = await _child(["echo", echo_base, str(visitors), str(samples)], lambda: rss_mb())
        rows.append(("baseline: bare aiohttp SSE echo", *bare[0], before, bare[1], *bare[2]))
    finally:
        await echo_runner.cleanup()
    return rows


async def _diagnose(lost: dict[str, Any], targets: list[dict[str, Any]], app) -> None:
    """A reply the client did not see: where it stopped (stored? relayed? in the visitor's stream? is the
    stream still subscribed?), printed to stderr, so a lost reply is a finding with a place."""
    from storage.models import Message, PlatformPost, WebchatEvent

    conversation = targets[lost["stream"]]["conversation"]
    message = await Message.filter(text=lost["text"]).first()
    roots = await PlatformPost.filter(target="slack", thread_ref=targets[lost["stream"]]["thread_ts"]).values_list(
        "conversation_id", "channel", "item")
    events = await WebchatEvent.filter(conversation_id=conversation).order_by("id").values_list("id", "kind", "payload")
    hub = next((c.hub for c in services_of(app).customer_channels if getattr(c, "name", "") == "webchat"), None)
    waiters = len(hub._waiters.get(conversation, ())) if hub is not None else None
    print(json.dumps({
        **lost, "conversation": conversation,
        "thread_roots": roots,
        "message": message and {"id": message.id, "conversation": message.conversation_id, "sender": message.sender,
                                "internal": message.internal,
                                "relayed_at": str(message.relayed_at)},
        "events": [(i, k, (p or {}).get("text")) for i, k, p in events],
        "stream_subscribed": waiters, "outbox_pending": await outbox.pending_counts(),
    }, default=str), file=sys.stderr, flush=True)


# The streams open, settle (their first reads), then idle for longer than a keepalive period, before the
# replies: the CPU of this process and the event streams' statements a second are measured then.
SETTLE_SECONDS = 3.0
IDLE_SECONDS = 20.0


def _event_statements(counter) -> int:
    """Statements of the visitors' event streams (the event table, its lock and NOTIFY), not the rest of
    Baton (the outbox worker's own poll runs in the same process)."""
    return sum(1 for _, sql in counter.statements if "webchat_event" in sql or "pg_notify" in sql or "pg_advisory" in sql)


async def _child(args: list[str], measure, diagnose=None, *, count: bool = False) -> tuple[tuple, float, tuple]:
    """Run the clients in a child process; returns ((n, lost, p50, p99), RSS here while the streams were
    open, (idle CPU % of one core, event statements a second while idle, event statements per reply))."""
    from storage.querycount import count_queries

    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "benchmarks.bench_webchat", "--client", *args,
                                                   stdout=asyncio.subprocess.PIPE)
    rss_open = float("nan")
    assert process.stdout is not None
    result = None
    counting = count_queries(keep_sql=True) if count else None
    pauses: list[float] = []  # this process's full (generation 2) collections during the replies, seconds
    started_gc = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            started_gc[0] = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - started_gc[0])

    counter = None
    idle = ("-", "-")
    cpu_start = wall_start = 0.0
    try:
        while line := await process.stdout.readline():
            text = line.decode().strip()
            if text == "streams open":
                rss_open = measure()
            elif text == "idle start":
                if counting is not None:
                    counter = await counting.__aenter__()
                cpu_start, wall_start = time.process_time(), time.perf_counter()
            elif text == "idle done":
                wall = time.perf_counter() - wall_start
                cpu = f"{100 * (time.process_time() - cpu_start) / wall:.1f}"
                idle = (cpu, f"{_event_statements(counter) / wall:.1f}" if counter is not None else "-")
                if counter is not None:
                    counter.reset()
                gc.callbacks.append(on_gc)
            elif text.startswith('{"lost"'):
                if diagnose is not None:
                    await diagnose(json.loads(text))
            elif text.startswith("{"):
                result = json.loads(text)
    finally:
        if on_gc in gc.callbacks:
            gc.callbacks.remove(on_gc)
        if counting is not None and counter is not None:
            per_reply = _event_statements(counter)
            await counting.__aexit__(None, None, None)
    await process.wait()
    print(f"{args[0]}: {len(pauses)} full garbage collections in this process during the replies, longest "
          f"{max(pauses, default=0) * 1000:.0f} ms", flush=True)
    figure = Latency.of(result["seconds"])
    replies = len(result["seconds"]) + result["lost"] + 5
    extra = (*idle, f"{per_reply / replies:.1f}" if counter is not None else "-")
    return (figure.n, result["lost"], figure.p50_ms, figure.p99_ms), rss_open, extra


async def _client_main(kind: str, base: str, spec: str, samples: int) -> None:
    from tests.slack_signing import event_body, slack_headers, thread_message

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None))
    queues: list[asyncio.Queue] = []
    tasks = []
    if kind == "baton":
        targets = json.loads(Path(spec).read_text())
        urls = [(base + "/inbound/webchat/events", {"Authorization": f"Bearer {t['token']}"}) for t in targets]
    else:
        targets = [None] * int(spec)
        urls = [(f"{base}/events?i={i}", {}) for i in range(len(targets))]
    opened = asyncio.Semaphore(0)
    seen_ids: list[list[str]] = [[] for _ in urls]  # the SSE ids each stream delivered, for a lost reply's report

    async def read(index: int, url: str, headers: dict[str, str]) -> None:
        async with session.get(url, headers=headers) as response:
            opened.release()
            data = None
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("id:"):
                    seen_ids[index].append(line[3:].strip())
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif not line and data:
                    queues[index].put_nowait(json.loads(data))
                    data = None

    for index, (url, headers) in enumerate(urls):
        queues.append(asyncio.Queue())
        tasks.append(asyncio.create_task(read(index, url, headers)))
    for _ in urls:
        await opened.acquire()
    print("streams open", flush=True)
    await asyncio.sleep(SETTLE_SECONDS)
    print("idle start", flush=True)
    await asyncio.sleep(IDLE_SECONDS)
    print("idle done", flush=True)
    rng = random.Random(11)
    seconds = []
    lost = 0
    for k in range(samples + 5):
        index = rng.randrange(len(urls))
        text = f"agent reply {k}"
        while not queues[index].empty():
            queues[index].get_nowait()
        started = time.perf_counter()
        if kind == "baton":
            event = thread_message(text, user="W111", channel=CHANNEL, thread_ts=targets[index]["thread_ts"],
                                   ts=f"1800000000.{k:06d}")
            body = json.dumps(event_body(event, event_id=f"EvB{k:06d}")).encode()
            headers = slack_headers(SIGNING_SECRET, body, content_type="application/json")
            async with session.post(base + "/slack/events", data=body, headers=headers) as response:
                assert response.status == 200
        else:
            async with session.post(base + "/send", json={"i": index, "text": text}) as response:
                assert response.status == 200
        try:
            while True:
                got = await asyncio.wait_for(queues[index].get(), 120)
                if got.get("from") == "agent" and got.get("text") == text:
                    break
        except asyncio.TimeoutError:  # counted, never hidden: a lost reply is a finding
            alive = sum(not t.done() for t in tasks)
            task = tasks[index]
            ended = task.done() and (repr(task.exception()) if task.exception() else "ended")
            print(json.dumps({"lost": k, "stream": index, "text": text, "streams_alive": alive,
                              "this_stream_ended": ended, "ids_seen": seen_ids[index][-10:]}), flush=True)
            lost += 1
            continue
        if k >= 5:  # warm-up left out
            seconds.append(time.perf_counter() - started)
    print(json.dumps({"seconds": seconds, "lost": lost}), flush=True)
    for task in tasks:
        task.cancel()
    await session.close()


async def run(kind: str, visitors: int, samples: int) -> None:
    from tests.fakes.slack_api import FakeSlack

    # One fake Slack for both parts, as one workspace: a second fake would count its ts from 1 again, and
    # its first card would share the thread ts of the first part's chat in the same channel (a reply to it
    # went to that older chat as an internal line: the "lost" reply of the 1,000-stream runs).
    async with temp_database(kind) as url, FakeSlack(users={"W111": "Ana Agent"}) as slack:
        await db.connect(url, migrate=True)
        try:
            print(banner(f"{kind}: visitor message → Slack thread reply ({samples} messages, one at a time)"), flush=True)
            print(table(("what", "n", "p50 ms", "p99 ms"), await visitor_to_thread(url, samples, slack)), flush=True)
            print(banner(f"{kind}: agent reply → visitor, {visitors:,} streams open ({samples} replies)"), flush=True)
            rows = await agent_to_visitors(url, visitors, samples, slack)
            print(table(("what", "n", "lost", "p50 ms", "p99 ms", "RSS MB before", "RSS MB streams open",
                         "idle CPU %", "event SQL/s idle", "event SQL/reply"), rows), flush=True)
        finally:
            await db.disconnect()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_webchat", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    raise_file_limit()
    for kind in ("sqlite", "postgres") if args.database == "both" else (args.database,):
        asyncio.run(run(kind, args.visitors, args.samples))
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--client":
        raise_file_limit()
        asyncio.run(_client_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
    else:
        raise SystemExit(main())

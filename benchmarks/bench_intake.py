"""Handoff intake throughput: Baton's real `POST /handoff` against a one-SELECT-one-INSERT endpoint.

Both servers run in this process on 127.0.0.1 ephemeral ports (aiohttp `AppRunner` + `TCPSite`)
and share its open database connection. Baton is the real app (`create_app` with a recording
poster, no delivery worker, a webhook secret): signature check, JSON schema validation, identity
normalization, sentiment, and one transaction that stores the conversation, its transcript, the
customer match, a timeline entry and the outbox work. The baseline does only what any handoff
endpoint must: parse the JSON, one indexed SELECT (conversation by source + external id) and one
INSERT, on the same database.

The load generator runs in a child process (so it does not share the servers' interpreter) and
sends signed requests with distinct conversation ids at a fixed concurrency, after a warm-up.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import aiohttp
from aiohttp import web

from benchmarks.common import Latency, Run, table
from bot.delivery.recording import RecordingPoster
from bot.settings import Settings
from bot.signing import signed_headers
from bot.web.app import create_app
from storage.seeding import baseline_handoff, contacts_of, customer_id_range

SECRET = "bench-secret-3c1f"
CONCURRENCY = 16
WARMUP = 50
CLIENT_TIMEOUT_SECONDS = 120

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
)
CONVERSATIONS = (
    ("Damaged item", ["hi, my parcel arrived damaged", "two of the plates are broken, can I get a replacement?"]),
    ("Refund status", ["I sent the lamp back two weeks ago", "still no refund, this is frustrating"]),
    ("Order status", ["where is my order? it was due monday", "tracking says it is late"]),
    ("Product question", ["does the oak table come in a bigger size?", "great, thanks!"]),
)


@dataclass(frozen=True)
class IntakeBench:
    baton: Run
    baseline: Run

    @property
    def ratio(self) -> float:
        return self.baton.per_second / self.baseline.per_second if self.baseline.per_second else 0.0


# --------------------------------------------------------------------------- payloads


def _payload(index: int, tag: str, contact: tuple[int, str | None, str | None, str] | None, rng: random.Random) -> dict:
    topic, said = CONVERSATIONS[index % len(CONVERSATIONS)]
    customer: dict[str, Any]
    if contact is not None:
        _, email, phone, name = contact
        customer = {"name": name, "email": (email or "").upper() if index % 3 == 0 else email}
        if phone and index % 2 == 0:
            customer["phone"] = f"{phone[:2]} {phone[2:5]} {phone[5:8]} {phone[8:]}"  # "+1 512 555 0199"
    else:
        customer = {"name": f"Visitor {index}", "email": f"visitor.{tag}.{index}@example.net"}
    at = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {
        "source": "bench-virtual-agent",
        "conversation_id": f"{tag}-{index}",
        "channel": "webchat",
        "kind": "customer",
        "queue": "support",
        "customer": customer,
        "prechat": [{"question": "What is your order number?", "answer": f"SO-{100000 + index}"}],
        "visitor": {
            "user_agent": rng.choice(USER_AGENTS),
            "ip": f"203.0.113.{index % 250 + 1}",
            "locale": "en-US",
            "location": "Austin, US",
            "page_url": "https://shop.example.com/orders",
            "referrer": None,
        },
        "bot": {"name": "Acme Assistant", "last_topic": topic, "topics": ["Greeting", topic],
                "reason": "customer asked for a human"},
        "transcript": [
            {"from": "customer", "text": said[0], "at": at},
            {"from": "bot", "text": "I'm sorry to hear that. Let me get a person.", "at": at},
            {"from": "customer", "text": said[1], "at": at},
            {"from": "bot", "text": "Connecting you now.", "at": at},
        ],
    }


async def build_payloads(count: int, tag: str, rng: random.Random) -> list[dict]:
    """Half the handoffs name a seeded customer (some by upper-cased email, some by formatted phone)."""
    low, high = await customer_id_range()
    picked = rng.sample(range(low, high + 1), min(count, max(0, high - low + 1))) if high else []
    contacts = await contacts_of(picked[: count // 2]) if picked else []
    payloads = []
    for index in range(count):
        contact = contacts[index // 2] if index % 2 == 0 and index // 2 < len(contacts) else None
        payloads.append(_payload(index, tag, contact, rng))
    return payloads


# --------------------------------------------------------------------------- servers


def _baseline_app() -> web.Application:
    async def handoff(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        conversation_id = await baseline_handoff(
            body["source"], body["conversation_id"], customer_input=body.get("customer") or {},
            now=datetime.now(timezone.utc),
        )
        return web.json_response({"conversation": f"c{conversation_id}", "status": "queued"}, status=202)

    app = web.Application()
    app.router.add_post("/handoff", handoff)
    return app


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- the load generator (child process)


async def fire(url: str, payloads: list[dict], *, concurrency: int, secret: str | None) -> dict:
    """Send every payload once at `concurrency`; returns wall seconds, per-request latencies, statuses."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    queue = list(reversed(payloads))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while queue:
                body = json.dumps(queue.pop()).encode()
                headers = {"Content-Type": "application/json"}
                if secret:
                    headers.update(signed_headers(secret, int(time.time()), body))
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = str(response.status)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {"seconds": wall, "latencies": latencies, "statuses": statuses}


async def _client_main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    warm = await fire(spec["url"], spec["warmup"], concurrency=spec["concurrency"], secret=spec["secret"])
    measured = await fire(spec["url"], spec["payloads"], concurrency=spec["concurrency"], secret=spec["secret"])
    measured["warmup_statuses"] = warm["statuses"]
    sys.stdout.write(json.dumps(measured))


async def _load(name: str, url: str, warmup: list[dict], payloads: list[dict], *, concurrency: int, secret: str | None) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump({"url": url, "warmup": warmup, "payloads": payloads, "concurrency": concurrency, "secret": secret}, handle)
        spec_path = handle.name
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.bench_intake", "--client", spec_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), CLIENT_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise RuntimeError(f"{name}: the load generator took longer than {CLIENT_TIMEOUT_SECONDS} s") from None
        if process.returncode:
            raise RuntimeError(f"{name}: load generator failed: {err.decode()[-2000:]}")
    finally:
        os.unlink(spec_path)
    result = json.loads(out)
    return Run(name, len(payloads), result["seconds"], Latency.of(result["latencies"]), result["statuses"])


async def run(*, requests: int = 2000, concurrency: int = CONCURRENCY, seed: int = 5) -> IntakeBench:
    """Needs an open, seeded connection."""
    rng = random.Random(seed)
    tag = f"b{os.getpid()}-{int(time.time())}"
    settings = Settings(webhook_secret=SECRET)
    baton_app = create_app(settings, posters={"record": RecordingPoster()}, run_worker=False, manage_database=False)
    baton_runner, baton_url = await _serve(baton_app)
    base_runner, base_url = await _serve(_baseline_app())
    try:
        baton = await _load(
            "Baton", baton_url + "/handoff",
            await build_payloads(WARMUP, f"{tag}-bw", rng), await build_payloads(requests, f"{tag}-b", rng),
            concurrency=concurrency, secret=SECRET,
        )
        baseline = await _load(
            "baseline", base_url + "/handoff",
            await build_payloads(WARMUP, f"{tag}-xw", rng), await build_payloads(requests, f"{tag}-x", rng),
            concurrency=concurrency, secret=SECRET,
        )
    finally:
        await baton_runner.cleanup()
        await base_runner.cleanup()
    return IntakeBench(baton=baton, baseline=baseline)


def report(result: IntakeBench, *, database: str) -> str:
    rows = [
        (r.name, r.requests, r.per_second, r.latency.p50_ms, r.latency.p99_ms, " ".join(f"{k}x{v}" for k, v in sorted(r.statuses.items())))
        for r in (result.baton, result.baseline)
    ]
    lines = [table(("POST /handoff", "requests", "handoffs/s", "p50 ms", "p99 ms", "statuses"), rows)]
    ok = result.ratio >= 0.5
    lines.append(
        f"Baton reaches {result.ratio:.0%} of the baseline's throughput at concurrency {CONCURRENCY} "
        f"(target >= 50 %: {'met' if ok else 'NOT met'})"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        asyncio.run(_client_main(sys.argv[2]))
    else:
        from benchmarks.run import main

        raise SystemExit(main(["--bench", "intake", *sys.argv[1:]]))

"""Inbound SMS and email throughput against `POST /handoff`, in the same run (issue 11: target ≥ 70 %).

One Baton app (the real `create_app`, a recording poster, no delivery worker) on a loopback port, on a fresh
database. Each endpoint gets the same number of first contacts (every request a new customer thread, so each
opens a conversation: the costly path), at the same concurrency, from a load generator in a child process,
in `--rounds` interleaved rounds (handoff, SMS, email, handoff, …) so that a shared machine's changing load
falls on all three alike; each round's share of /handoff is printed beside the totals:
- `/handoff`: signed generic JSON with a two-line transcript;
- `/inbound/sms`: Twilio's form (every parameter of the real webhook), signed as Twilio signs;
- `/inbound/email`: a raw RFC 5322 reply with quoted history and a signature, Basic `baton:<token>`.

    .venv/bin/python -m benchmarks.bench_inbound [--database sqlite|postgres|both] [--requests N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
from email.message import EmailMessage
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from benchmarks.common import Latency, Run, table, temp_database
from bot.delivery.recording import RecordingPoster
from bot.settings import Settings
from bot.signing import signed_headers
from bot.web.app import create_app
from storage import db

SECRET = "bench-secret-3c1f"
TOKEN = "bench-token-77aa"
TWILIO_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
PUBLIC_URL = "https://baton.example.com"
CONCURRENCY = 16
WARMUP = 50
TARGET = 0.70
CLIENT_TIMEOUT_SECONDS = 300


# --------------------------------------------------------------------------- requests (body, headers)


def handoff_request(index: int, tag: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({
        "source": "bench-va", "conversation_id": f"{tag}-{index}", "channel": "webchat",
        "customer": {"name": f"Visitor {index}", "phone": f"+1415555{index % 10000:04d}"},
        "transcript": [{"from": "customer", "text": "hi, my parcel arrived damaged"},
                       {"from": "bot", "text": "I'm sorry to hear that. Let me get a person."}],
    }).encode()
    return body, {"Content-Type": "application/json", **signed_headers(SECRET, int(time.time()), body)}


def sms_request(index: int, tag: str) -> tuple[bytes, dict[str, str]]:
    sid = f"SM{tag}{index:020d}"[:34]
    params = [
        ("ToCountry", "US"), ("ToState", "CA"), ("SmsMessageSid", sid), ("NumMedia", "0"), ("ToCity", "SAN FRANCISCO"),
        ("FromZip", "94105"), ("SmsSid", sid), ("FromState", "CA"), ("SmsStatus", "received"),
        ("FromCity", "SAN FRANCISCO"), ("Body", "hi, my parcel arrived damaged"), ("FromCountry", "US"),
        ("To", "+14155559876"), ("ToZip", "94105"), ("NumSegments", "1"), ("MessageSid", sid),
        ("AccountSid", "AC3f2b8c9d0e1f2a3b4c5d6e7f8a9b0c1d"), ("From", f"+1{2000000000 + hash(tag) % 1000 * 100000 + index}"),
        ("ApiVersion", "2010-04-01"),
    ]
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/inbound/sms", MultiDict(params))
    return urlencode(params).encode(), {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}


def email_request(index: int, tag: str) -> tuple[bytes, dict[str, str]]:
    message = EmailMessage()
    message["From"] = f"Visitor {index} <visitor.{tag}.{index}@example.net>"
    message["To"] = "Acme Support <support@acme.example>"
    message["Subject"] = "Re: My order"
    message["Message-ID"] = f"<{tag}.{index}@mail.example.net>"
    message["In-Reply-To"] = f"<unknown.{tag}.{index}@acme.example>"
    message.set_content("Yes, it arrived broken. The box was crushed.\n\nThanks,\nDana\n\n--\nDana Whitfield\n\n"
                        "On Tue, 3 Mar 2026 at 09:00, Acme Support <support@acme.example> wrote:\n"
                        "> Hello, did your parcel arrive?\n")
    basic = base64.b64encode(f"baton:{TOKEN}".encode()).decode()
    return message.as_bytes(), {"Content-Type": "message/rfc822", "Authorization": f"Basic {basic}"}


BUILDERS = {"/handoff": handoff_request, "/inbound/sms": sms_request, "/inbound/email": email_request}


# --------------------------------------------------------------------------- load generator (child process)


async def fire(url: str, requests: list[tuple[str, dict[str, str]]], concurrency: int) -> dict:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    queue = list(reversed(requests))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            while queue:
                body, headers = queue.pop()
                started = time.perf_counter()
                async with session.post(url, data=base64.b64decode(body), headers=headers) as response:
                    await response.read()
                    statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return {"seconds": time.perf_counter() - started, "latencies": latencies, "statuses": statuses}


async def _client_main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    await fire(spec["url"], spec["warmup"], spec["concurrency"])
    sys.stdout.write(json.dumps(await fire(spec["url"], spec["requests"], spec["concurrency"])))


def _encoded(items: list[tuple[bytes, dict[str, str]]]) -> list[tuple[str, dict[str, str]]]:
    return [(base64.b64encode(body).decode("ascii"), headers) for body, headers in items]


async def _load(path: str, base_url: str, count: int, tag: str) -> dict:
    build = BUILDERS[path]
    built_at = time.process_time()
    spec = {"url": base_url + path, "concurrency": CONCURRENCY,
            "warmup": _encoded([build(i, f"{tag}w") for i in range(WARMUP)]),
            "requests": _encoded([build(i, tag) for i in range(count)])}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(spec, handle)
    built = time.process_time() - built_at
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.bench_inbound", "--client", handle.name,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        out, err = await asyncio.wait_for(process.communicate(), CLIENT_TIMEOUT_SECONDS)
        if process.returncode:
            raise RuntimeError(f"{path}: load generator failed: {err.decode()[-2000:]}")
    finally:
        os.unlink(handle.name)
    return {**json.loads(out), "build_seconds": built}


def _cpu_seconds() -> float:
    """CPU time of this process (the server, its database thread) and of the mail parsing workers."""
    total = time.process_time()
    from bot.email import parsing  # noqa: PLC0415

    pool = parsing._pool
    for pid in list(getattr(pool, "_processes", None) or {}):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
    return total


def _combined(path: str, results: list[dict]) -> Run:
    statuses: dict[str, int] = {}
    for result in results:
        for status, n in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    latencies = [x for result in results for x in result["latencies"]]
    return Run(path, len(latencies), sum(r["seconds"] for r in results), Latency.of(latencies), statuses)


async def run(database_url: str, *, requests: int, rounds: int = 3) -> tuple[list[Run], list[list[float]], list[float]]:
    """The totals per endpoint, each round's requests per second per endpoint (in BUILDERS order), and the
    server's CPU milliseconds per request of each endpoint (the server process with its database thread, and
    the mail parsing workers)."""
    await db.connect(database_url, migrate=True)
    try:
        settings = Settings(database_url=database_url, webhook_secret=SECRET, webhook_token=TOKEN, public_url=PUBLIC_URL,
                            twilio_account_sid="AC3f2b8c9d0e1f2a3b4c5d6e7f8a9b0c1d", twilio_auth_token=TWILIO_TOKEN)
        app = create_app(settings, posters={"record": RecordingPoster()}, run_worker=False, manage_database=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        tag = f"b{os.getpid()}{int(time.time()) % 100000}"
        per_round = max(1, requests // rounds)
        results: dict[str, list[dict]] = {path: [] for path in BUILDERS}
        try:
            for n, path in enumerate(BUILDERS):  # started once (the mail parsing worker), not in the figures
                await _load(path, base_url, 1, f"{tag}s{n}")
            for r in range(rounds):
                for n, path in enumerate(BUILDERS):
                    cpu = _cpu_seconds()
                    result = await _load(path, base_url, per_round, f"{tag}r{r}e{n}")
                    # The requests were built before the load started: only serving them (and the warm-up) counts.
                    result["cpu_seconds"] = _cpu_seconds() - cpu - result.pop("build_seconds", 0.0)
                    result["cpu_requests"] = per_round + WARMUP
                    results[path].append(result)
        finally:
            await runner.cleanup()
    finally:
        await db.disconnect()
    rates = [[len(results[path][r]["latencies"]) / results[path][r]["seconds"] for path in BUILDERS] for r in range(rounds)]
    cpu_ms = [1000 * sum(r["cpu_seconds"] for r in results[path]) / sum(r["cpu_requests"] for r in results[path])
              for path in BUILDERS]
    return [_combined(path, results[path]) for path in BUILDERS], rates, cpu_ms


def report(runs: list[Run], rates: list[list[float]], cpu_ms: list[float], *, database: str) -> str:
    baseline = runs[0].per_second
    rows = [(r.name, r.requests, f"{r.per_second:.0f}", f"{r.per_second / baseline:.0%}" if baseline else "-",
             f"{r.latency.p50_ms:.1f}", f"{r.latency.p99_ms:.1f}", f"{cpu:.2f}",
             " ".join(f"{k}x{v}" for k, v in sorted(r.statuses.items())))
            for r, cpu in zip(runs, cpu_ms)]
    lines = [f"{database}: first contacts at concurrency {CONCURRENCY}",
             table(("endpoint", "requests", "per s", "of /handoff", "p50 ms", "p99 ms", "CPU ms/req", "statuses"), rows)]
    for r in runs[1:]:
        ratio = r.per_second / baseline if baseline else 0.0
        lines.append(f"{r.name} reaches {ratio:.0%} of /handoff (target >= {TARGET:.0%}: {'met' if ratio >= TARGET else 'NOT met'})")
    for n, r in enumerate(runs[1:], start=1):
        lines.append(f"  {r.name} each round: " + " ".join(f"{row[n] / row[0]:.0%}" for row in rates if row[0])
                     + (f"; by server CPU per request: {cpu_ms[0] / cpu_ms[n]:.0%} of /handoff" if cpu_ms[n] else ""))
    return "\n".join(lines)


async def _main(args: argparse.Namespace) -> int:
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for kind in kinds:
        async with temp_database(kind) as url:
            runs, rates, cpu_ms = await run(url, requests=args.requests, rounds=args.rounds)
            print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
            print(report(runs, rates, cpu_ms, database=kind), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        asyncio.run(_client_main(sys.argv[2]))
    else:
        raise SystemExit(main())

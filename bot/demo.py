"""`baton demo`: sample data, one real signed handoff through the HTTP pipeline, the card in the terminal."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
from aiohttp import web
from rich.console import Console

from bot.cards.terminal import render_terminal
from bot.clock import utc_now
from bot.core.summary import summary_for_conversation
from bot.delivery.recording import RecordingPoster
from bot.core.roles import channel_view
from bot.settings import Settings
from bot.signing import signed_headers
from bot.web.app import WORKER, create_app
from storage import posts
from bot.domain import parse_public_id

DEMO_CUSTOMERS = 500


def demo_handoff(conversation_id: str) -> dict:
    """The SPEC 3.1 example, as a Copilot-style virtual agent would send it."""
    return {
        "source": "acme-virtual-agent",
        "conversation_id": conversation_id,
        "channel": "webchat",
        "kind": "customer",
        "queue": "billing",
        "customer": {
            "name": "Dana Whitfield",
            "email": "Dana.W@Example.com",
            "phone": "+1 415 555 0123",
            "external_ids": {"crm": "C-1042"},
        },
        "prechat": [{"question": "What is your order number?", "answer": "SO-99812"}],
        "visitor": {
            "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Safari/605.1.15",
            "ip": "203.0.113.7",
            "locale": "en-US",
            "location": "Austin, US",
            "page_url": "https://shop.example.com/orders",
            "referrer": None,
        },
        "bot": {
            "name": "Acme Assistant",
            "last_topic": "Order status",
            "topics": ["Greeting", "Order status"],
            "reason": "customer asked for a human",
            "agent_message": "Customer says the parcel arrived damaged.",
        },
        "transcript": [
            {"from": "customer", "text": "my parcel arrived damaged", "at": "2026-11-22T10:01:00Z"},
            {"from": "bot", "text": "I'm sorry to hear that. Let me get a person.", "at": "2026-11-22T10:01:02Z"},
        ],
        "case": {"number": "CAS-01234"},
    }


async def _has_sample_data(database_url: str) -> bool:
    from storage import db
    from storage.customers import find_by_identities

    await db.connect(database_url, migrate=True)
    try:
        return bool(await find_by_identities([("email", "dana.w@example.com")]))
    finally:
        await db.disconnect()


async def _ensure_sample_data(settings: Settings, console: Console) -> None:
    from bot.seed import run_seed

    if await _has_sample_data(settings.database_url):
        console.print("[dim]Sample data already present.[/dim]")
        return
    with console.status(f"Creating {DEMO_CUSTOMERS} sample customers with cases, orders and history…"):
        report = await run_seed(settings.database_url, DEMO_CUSTOMERS)
    console.print(f"[green]✓[/green] {report}")


async def run_demo(settings: Settings, *, output_dir: str = "baton-demo") -> int:
    console = Console()
    console.rule("[bold]Baton demo")
    console.print(f"Database: {settings.database_url}")
    await _ensure_sample_data(settings, console)

    secret = secrets.token_hex(16)
    settings = replace(settings, webhook_secret=secret)
    app = create_app(settings, posters={"record": RecordingPoster()}, run_worker=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # the ephemeral port the OS picked
    try:
        body = json.dumps(demo_handoff(f"demo-{int(time.time())}")).encode()
        headers = {"Content-Type": "application/json", **signed_headers(secret, int(time.time()), body)}
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{port}/handoff", data=body, headers=headers) as response:
                answer = await response.json()
        console.print(f"[green]✓[/green] POST /handoff (signed) → {response.status} {answer}")
        await app[WORKER].drain()
        conversation_id = parse_public_id(answer["conversation"])
        summary = await summary_for_conversation(conversation_id, now=utc_now(), **channel_view(settings))
        payload = await posts.root_payload("record", conversation_id)
    finally:
        await runner.cleanup()

    console.print(render_terminal(summary))
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.slack.json").write_text(json.dumps(payload["slack"], indent=2, ensure_ascii=False))
    (folder / "summary.teams.json").write_text(json.dumps(payload["teams"], indent=2, ensure_ascii=False))
    console.print(
        f"Block Kit: [bold]{folder / 'summary.slack.json'}[/bold] (paste into Slack's Block Kit Builder)\n"
        f"Adaptive Card: [bold]{folder / 'summary.teams.json'}[/bold] (paste into adaptivecards.io/designer)"
    )
    console.print("Next: [bold]baton serve[/bold] — see README.md for Slack and Teams setup.")
    console.print(
        f"Then open [bold]http://{settings.host}:{settings.port}/chat[/bold] and chat as a customer: the card and your "
        "messages appear in Slack or Teams (or, with neither set up, in the database: target 'record')."
    )
    return 0

"""Baton's web chat over real HTTP (SPEC 3.5): a visitor starts a chat, their messages reach the agents'
Slack thread under their name, the claiming agent's replies reach them live, files go both ways, and the
chat ends with a rating. Slack is the fake Web API; every Slack request is signed."""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import pytest
from aiohttp import web

from bot.config import Webchat
from bot.delivery.recording import RecordingPoster

from bot.core import actions, webchat
from bot.domain import Actor, Reply, parse_public_id
from bot.web.app import create_app, services_of
from storage.customers import create_customer
from storage.db import unit_of_work
from storage.summary import load_conversation
from storage.models import Conversation, CustomerFile, Message, Survey, WebchatSession
from tests.slack_signing import HANDOFF_CHANNEL, block_action, slack_baton, thread_message
from tests.webchat_client import Visitor, messages, statuses


def visitor_of(world, **headers) -> Visitor:
    return Visitor(world.baton.base_url, world.baton.session, headers=headers)


async def card_of(world, conversation: str) -> str:
    marker = f"#{conversation}"
    card = await world.slack.wait_for(lambda s: next((c for c in s.of("chat.postMessage") if "thread_ts" not in c.args
                                                      and marker in json.dumps(c.args.get("blocks"))), None), timeout=20)
    return card.response["ts"]


async def claim(world, conversation: str, card_ts: str, user: str = "W111") -> None:
    await world.interaction(block_action("baton_claim", json.dumps({"conversation": conversation}), user=user,
                                         channel=HANDOFF_CHANNEL, message_ts=card_ts))
    await world.ephemeral_containing(user, "You claimed")


async def test_a_visitor_starts_a_chat_and_their_message_lands_in_the_thread_under_their_name(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)

        status, answer = await visitor.start()
        card_ts = await card_of(world, answer["conversation"])
        sent, _ = await visitor.say("Hello, the box was crushed")
        reply = await world.slack.wait_for(lambda s: next((c for c in s.of("chat.postMessage", thread_ts=card_ts)
                                                           if "box was crushed" in json.dumps(c.args)), None))

        assert status == 201 and answer["token"] and answer["conversation"].startswith("c")
        assert sent == 200
        assert reply.args["username"] == "Dana Whitfield"
        row = await Conversation.get(id=parse_public_id(answer["conversation"]))
        assert (row.source, row.channel) == ("baton:webchat", "webchat")
        assert {"question": "How can we help?", "answer": "My parcel arrived damaged"} in row.prechat
        assert row.visitor["page_url"] == "https://shop.example.com/orders"
        assert row.visitor["ip"] == "127.0.0.1" and row.visitor["location"] == "America/Chicago (time zone)"
        assert row.visitor["user_agent"].startswith("Python")  # from the request itself
        card = json.dumps((await world.slack.wait_for(lambda s: s.of("chat.postMessage")))[0].args)
        assert "My parcel arrived damaged" in card


async def test_a_known_email_in_the_survey_gives_the_matched_card(database_url):
    async with slack_baton(database_url) as world:
        await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                              email="dana.w@example.com", now=datetime.now(timezone.utc))
        visitor = visitor_of(world)

        _, answer = await visitor.start()
        await card_of(world, answer["conversation"])

        row = await Conversation.get(id=parse_public_id(answer["conversation"]))
        assert row.customer_id is not None


async def test_the_survey_is_checked_on_the_server(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)

        missing = await visitor.start(prechat=[{"question": "Your name", "answer": "Dana"}])
        bad_email = await visitor.start(prechat=[{"question": "Your name", "answer": "Dana"},
                                                 {"question": "Your email", "answer": "not-an-email"},
                                                 {"question": "How can we help?", "answer": "help"}])
        status, body, _ = await visitor.post(None, raw=b"{not json")

        assert missing[0] == 422 and missing[1]["field"] == "prechat[1]"
        assert bad_email[0] == 422 and bad_email[1]["field"] == "prechat[1]"
        assert status == 400 and body["error"] == "malformed"
        assert await Conversation.all().count() == 0


async def test_the_claiming_agent_reply_reaches_the_visitor_live_and_notes_stay_internal(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)
        _, answer = await visitor.start()
        card_ts = await card_of(world, answer["conversation"])

        await claim(world, answer["conversation"], card_ts)
        await world.event(thread_message("!note sounds upset", user="W111", channel=HANDOFF_CHANNEL,
                                         thread_ts=card_ts, ts=world.next_ts()))
        await world.event(thread_message("So sorry! A new one ships today.", user="W111", channel=HANDOFF_CHANNEL,
                                         thread_ts=card_ts, ts=world.next_ts()))
        events = await visitor.events(lambda es: messages(es, "agent"))

        assert statuses(events)[:2] == ["waiting", "claimed"]
        joined = [e for e in events if e["event"] == "status" and e["status"] == "claimed"][0]
        assert joined["text"] == "Ana Agent joined"
        [reply] = messages(events, "agent")
        assert (reply["name"], reply["text"]) == ("Ana Agent", "So sorry! A new one ships today.")
        assert "upset" not in json.dumps(events)
        assert [e["sse_id"] for e in events] == sorted(e["sse_id"] for e in events)


async def test_a_reconnect_with_last_event_id_replays_only_what_was_missed(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)
        _, answer = await visitor.start()
        card_ts = await card_of(world, answer["conversation"])
        await visitor.say("first")
        first = await visitor.events(lambda es: messages(es, "visitor"))
        cursor = first[-1]["sse_id"]

        await claim(world, answer["conversation"], card_ts)  # while the visitor is away
        await world.event(thread_message("Welcome back", user="W111", channel=HANDOFF_CHANNEL,
                                         thread_ts=card_ts, ts=world.next_ts()))
        await world.slack.wait_for(lambda s: True)
        missed = await visitor.events(lambda es: messages(es, "agent"), after=cursor)
        replay = await visitor.events(lambda es: messages(es, "agent"), after=0)

        assert [e["event"] for e in missed] == ["status", "message"]
        assert messages(missed)[0]["text"] == "Welcome back"
        assert len(replay) == len(first) + len(missed)


async def test_a_visitor_message_that_commits_after_a_later_reply_still_reaches_the_open_stream(database_url):
    """Event ids come from one sequence, but transactions commit in any order (PostgreSQL): a visitor
    message whose transaction is still open while an agent's reply is relayed must not fall behind the
    stream's cursor (its Last-Event-ID), or the page never shows it. The visitor's message is the real
    `webchat.send`, its commit held back by the caller's transaction (a busy pool, a slow disk); the reply
    is relayed meanwhile by the web chat's channel, as the outbox's `source` target does. On SQLite one
    writer at a time keeps this in order by itself; on PostgreSQL one writer per conversation at a time."""
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)
        _, answer = await visitor.start()
        card_ts = await card_of(world, answer["conversation"])
        await claim(world, answer["conversation"], card_ts)
        services = services_of(world.baton.app)
        session = await webchat.verify(services, visitor.token)
        [channel] = [c for c in services.customer_channels if c.name == "webchat"]
        listening = asyncio.create_task(visitor.events(
            lambda es: messages(es, "agent") and messages(es, "visitor"), timeout=20))
        await visitor.events(lambda es: "claimed" in statuses(es))
        record = await load_conversation(session.conversation_id)
        stored, commit = asyncio.Event(), asyncio.Event()

        async def slow_visitor_message() -> None:
            async with unit_of_work():
                await webchat.send(services, session, "Typed before the answer", client_id="slow-1")
                stored.set()
                await commit.wait()

        writer = asyncio.create_task(slow_visitor_message())
        await asyncio.wait_for(stored.wait(), 10)
        relayed = asyncio.create_task(channel.send_reply(
            record, Reply(0, "Ana Agent", "Here is the answer", (), datetime.now(timezone.utc), "slack"), []))
        await asyncio.sleep(1.5)  # the relay and the stream run meanwhile (or wait for the open transaction)
        commit.set()
        await writer
        await relayed
        events = await listening

        assert [m["text"] for m in messages(events)] == ["Typed before the answer", "Here is the answer"]
        assert [e["sse_id"] for e in events] == sorted(e["sse_id"] for e in events)


async def test_a_resend_with_the_same_client_id_is_one_message(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)
        _, answer = await visitor.start()
        card_ts = await card_of(world, answer["conversation"])

        first = await visitor.say("only once", client_id="b7c1c8e2-0000-4000-8000-000000000001")
        again = await visitor.say("only once", client_id="b7c1c8e2-0000-4000-8000-000000000001")
        await visitor.say("after")
        await world.slack.wait_for(lambda s: any("after" in json.dumps(c.args) for c in s.of("chat.postMessage", thread_ts=card_ts)))

        assert first[1]["status"] == "sent" and again[1]["status"] == "duplicate"
        posted = [c for c in world.slack.of("chat.postMessage", thread_ts=card_ts) if "only once" in json.dumps(c.args)]
        assert len(posted) == 1
        assert await Message.filter(text="only once").count() == 1


async def test_a_token_opens_its_own_conversation_only(database_url):
    async with slack_baton(database_url) as world:
        dana, eve = visitor_of(world), visitor_of(world)
        await dana.start()
        await eve.start()
        await dana.say("private to dana")
        forged = Visitor(world.baton.base_url, world.baton.session, token=eve.token[:-3] + "AAA")

        eve_events = await eve.events(lambda es: any(e["event"] == "status" for e in es))
        refused, body, _ = await forged.post({"type": "message", "text": "hi"})
        none, _, _ = await Visitor(world.baton.base_url, world.baton.session).post({"type": "message", "text": "hi"})

        assert "private to dana" not in json.dumps(eve_events)
        assert refused == 401 and none == 401


async def test_a_long_message_is_cut_never_refused(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)
        await visitor.start()

        status, answer = await visitor.say("x" * 5000)

        assert status == 200 and answer["warnings"][0]["field"] == "text"
        stored = await Message.get(sender="customer")
        assert len(stored.text) == 4000 and stored.text.endswith("…")


async def test_starts_and_messages_are_rate_limited_with_retry_after(database_url):
    async with slack_baton(database_url, webchat=Webchat(starts_per_minute=2, messages_per_minute=3)) as world:
        visitor = visitor_of(world)
        results = [await visitor.start() for _ in range(3)]
        sends = [await visitor.post({"type": "message", "text": f"m{i}"}) for i in range(4)]

        assert [s for s, _ in results] == [201, 201, 429]
        assert [s for s, _, _ in sends] == [200, 200, 200, 429]
        assert int(sends[-1][2]["Retry-After"]) >= 1


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20


async def test_a_visitor_upload_lands_in_the_slack_thread_as_a_real_file(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)
        _, answer = await visitor.start()
        card_ts = await card_of(world, answer["conversation"])

        status, body = await visitor.upload("crushed box.png", PNG, "image/png", text="here is a photo")
        shared = await world.slack.wait_for(lambda s: s.shared_files)
        events = await visitor.events(lambda es: messages(es, "visitor"))

        assert status == 200 and body["status"] == "sent"
        [file] = shared
        assert (file["name"], file["content"], file["channel"], file["thread_ts"]) == ("crushed box.png", PNG, HANDOFF_CHANNEL, card_ts)
        [line] = [c for c in world.slack.of("chat.postMessage", thread_ts=card_ts) if "here is a photo" in json.dumps(c.args)]
        assert line.args["username"] == "Dana Whitfield" and "crushed box.png" in json.dumps(line.args)
        assert messages(events, "visitor")[0]["files"] == [{"name": "crushed box.png", "content_type": "image/png", "size": len(PNG)}]


async def test_a_failed_upload_is_retried_without_posting_the_line_or_the_file_twice(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)
        _, answer = await visitor.start()
        card_ts = await card_of(world, answer["conversation"])
        world.slack.fail_next(1, status=429, retry_after=0, method="files.completeUploadExternal")

        await visitor.upload("label.pdf", b"%PDF-1.7 label", "application/pdf", text="the label")
        await world.slack.wait_for(lambda s: s.shared_files, timeout=15)
        await visitor.say("and then this")
        await world.slack.wait_for(lambda s: any("and then this" in json.dumps(c.args) for c in s.of("chat.postMessage")))

        assert len(world.slack.shared_files) == 1
        lines = [c for c in world.slack.of("chat.postMessage", thread_ts=card_ts) if "the label" in json.dumps(c.args)]
        assert len(lines) == 1


async def test_uploads_of_other_types_or_over_10_mb_are_refused(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)
        await visitor.start()

        html = await visitor.upload("page.html", b"<script>alert(1)</script>", "text/html")
        big = await visitor.upload("big.png", b"\x89PNG" + b"0" * (10 * 1024 * 1024), "image/png")

        assert html[0] == 415 and html[1]["field"] == "file"
        assert big[0] == 413
        assert world.slack.shared_files == []


async def test_the_visitor_ends_the_chat_and_the_rating_moves_the_cards_satisfaction(database_url):
    async with slack_baton(database_url) as world:
        customer_id = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                                            email="dana.w@example.com", now=datetime.now(timezone.utc))
        visitor = visitor_of(world)
        _, answer = await visitor.start()
        card_ts = await card_of(world, answer["conversation"])

        early, _ = await visitor.rate(5)
        ended, body = await visitor.end()
        events = await visitor.events(lambda es: "ended" in statuses(es))
        rated, _ = await visitor.rate(5, "Quick and kind")
        again, _ = await visitor.rate(1)
        update = await world.slack.wait_for(lambda s: next((c for c in s.of("chat.update", ts=card_ts)
                                                            if "CSAT 5.0 / 5" in json.dumps(c.args)), None), timeout=15)
        written, _ = await visitor.say("hello?")

        assert early == 409
        assert ended == 200 and body == {"status": "ended", "csat": True}
        row = await Conversation.get(id=parse_public_id(answer["conversation"]))
        assert (row.status, row.wrapup_code) == ("wrapped", "visitor_ended")
        assert [e for e in events if e["event"] == "status"][-1]["text"] == "You ended the chat."
        assert (rated, again) == (200, 409)
        survey = await Survey.get(customer_id=customer_id)
        assert (survey.score, survey.comment, survey.conversation_id) == (5, "Quick and kind", row.id)
        assert update is not None
        assert written == 409


async def test_an_agents_wrap_up_ends_the_chat_for_the_visitor(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)
        _, answer = await visitor.start()
        card_ts = await card_of(world, answer["conversation"])
        await claim(world, answer["conversation"], card_ts)

        await world.command(f"wrapup #{answer['conversation']} resolved", user="W111")
        events = await visitor.events(lambda es: "ended" in statuses(es))

        ended = [e for e in events if e["event"] == "status"][-1]
        assert (ended["text"], ended["csat"]) == ("The agent ended the chat.", True)


async def test_a_token_dies_a_day_after_the_chat_ended(database_url):
    async with slack_baton(database_url) as world:
        visitor = visitor_of(world)
        _, answer = await visitor.start()
        await visitor.end()
        await WebchatSession.filter(conversation_id=parse_public_id(answer["conversation"])).update(
            ended_at=datetime.now(timezone.utc) - timedelta(hours=25))

        status, body, _ = await visitor.post({"type": "csat", "score": 4})

        assert status == 401 and body["error"] == "chat_expired"


async def test_an_agents_file_reaches_the_visitor_as_a_signed_baton_link(database_url):
    async with slack_baton(database_url, public_url="https://baton.example.com", link_secret="link-secret") as world:
        visitor = visitor_of(world)
        _, answer = await visitor.start()
        card_ts = await card_of(world, answer["conversation"])
        await claim(world, answer["conversation"], card_ts)
        shared = world.slack.share_file("return label.pdf", b"%PDF-1.7 label", "application/pdf")

        await world.event(thread_message("Here is your label", user="W111", channel=HANDOFF_CHANNEL, thread_ts=card_ts,
                                         ts=world.next_ts(), subtype="file_share", files=[shared]))
        events = await visitor.events(lambda es: messages(es, "agent"))

        [file] = messages(events, "agent")[0]["files"]
        assert file["name"] == "return label.pdf"
        assert file["url"].startswith("https://baton.example.com/files/")
        assert shared["url_private"] not in json.dumps(events)


def hub_of(app):
    [channel] = [c for c in services_of(app).customer_channels if c.name == "webchat"]
    return channel.hub


@asynccontextmanager
async def second_process(settings):
    """Another Baton on the same database, without a worker: it only serves visitors (its own hub)."""
    app = create_app(settings, posters={"record": RecordingPoster()}, run_worker=False, manage_database=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}", app
    finally:
        await runner.cleanup()


async def test_a_visitor_on_one_process_gets_the_reply_another_process_relayed(database_url):
    async with slack_baton(database_url) as world, second_process(world.baton.settings) as (other_url, other):
        relaying = visitor_of(world)
        _, answer = await relaying.start()
        card_ts = await card_of(world, answer["conversation"])
        # The same visitor, connected to the other process (a load balancer sent them there).
        visitor = Visitor(other_url, world.baton.session, token=relaying.token)
        listening = asyncio.create_task(visitor.events(lambda es: messages(es, "agent"), timeout=15))

        await claim(world, answer["conversation"], card_ts)
        await world.event(thread_message("Answered from elsewhere", user="W111", channel=HANDOFF_CHANNEL,
                                         thread_ts=card_ts, ts=world.next_ts()))
        events = await listening

        assert messages(events, "agent")[0]["text"] == "Answered from elsewhere"
        # PostgreSQL: heard through LISTEN/NOTIFY, nothing polled; SQLite: the one poll of the process.
        assert hub_of(other).listening is database_url.startswith("postgres")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has no LISTEN to drop
async def test_a_process_whose_listen_connection_dropped_connects_again_and_misses_nothing(database_url):
    import asyncpg

    async with slack_baton(database_url) as world, second_process(world.baton.settings) as (other_url, other):
        relaying = visitor_of(world)
        _, answer = await relaying.start()
        card_ts = await card_of(world, answer["conversation"])
        visitor = Visitor(other_url, world.baton.session, token=relaying.token)
        listening = asyncio.create_task(visitor.events(lambda es: messages(es, "agent"), timeout=20))
        await claim(world, answer["conversation"], card_ts)
        # The server ends every LISTEN connection (a failover, an idle-connection reaper) ...
        admin = await asyncpg.connect(database_url)
        try:
            ended = await admin.fetchval("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                         "WHERE application_name = 'baton-webchat' AND datname = current_database()")
        finally:
            await admin.close()
        assert ended >= 2  # both processes' listeners
        # ... and the reply is relayed while the other process has no listener.
        await world.event(thread_message("Answered across the gap", user="W111", channel=HANDOFF_CHANNEL,
                                         thread_ts=card_ts, ts=world.next_ts()))
        events = await listening

        assert messages(events, "agent")[0]["text"] == "Answered across the gap"
        for _ in range(100):
            if hub_of(other).listening:
                break
            await asyncio.sleep(0.05)
        assert hub_of(other).listening


async def test_the_visitor_ip_comes_from_x_forwarded_for_only_behind_a_trusted_proxy(database_url):
    import ipaddress

    async with slack_baton(database_url, trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),)) as world:
        trusted = visitor_of(world, **{"X-Forwarded-For": "198.51.100.9, 203.0.113.7"})
        _, behind = await trusted.start()
    async with slack_baton(database_url) as world:
        untrusted = visitor_of(world, **{"X-Forwarded-For": "203.0.113.7"})
        _, direct = await untrusted.start()

        ips = {c.id: c.visitor["ip"] for c in await Conversation.all()}
        assert ips[parse_public_id(behind["conversation"])] == "203.0.113.7"
        assert ips[parse_public_id(direct["conversation"])] == "127.0.0.1"


async def test_the_page_and_the_embed_script_are_served_by_baton_itself(database_url):
    async with slack_baton(database_url, webchat=Webchat(title="Chat with <Acme>", allowed_origins=["https://shop.example.com"])) as world:
        session, base = world.baton.session, world.baton.base_url
        async with session.get(base + "/chat?queue=billing") as response:
            page, headers = await response.text(), response.headers
        async with session.get(base + "/chat/widget.js") as response:
            widget = (response.status, response.content_type)
        async with session.get(base + "/chat/static/chat.js") as response:
            script = (response.status, response.content_type)
        async with session.options(base + "/inbound/webchat", headers={"Origin": "https://shop.example.com"}) as response:
            allowed = response.headers.get("Access-Control-Allow-Origin")
        async with session.options(base + "/inbound/webchat", headers={"Origin": "https://evil.example"}) as response:
            refused = response.headers.get("Access-Control-Allow-Origin")

        assert "<title>Chat with &lt;Acme&gt;</title>" in page
        assert '"queue": "billing"' in page and "<Acme>" not in page
        assert re.findall(r'(?:src|href)="([^"]+)"', page) == ["/chat/static/chat.css", "/chat/static/chat.js"], \
            "nothing from another origin"
        assert "frame-ancestors 'self' https://shop.example.com" in headers["Content-Security-Policy"]
        assert widget == (200, "application/javascript") and script == (200, "application/javascript")
        assert (allowed, refused) == ("https://shop.example.com", None)


async def test_the_chat_is_off_when_disabled(database_url):
    async with slack_baton(database_url, webchat=Webchat(enabled=False)) as world:
        status, _ = await world.baton.get("/chat")
        posted, _, _ = await visitor_of(world).post({"type": "start"})

        assert (status, posted) == (404, 404)


async def test_anonymizing_the_customer_removes_their_files_and_what_their_chat_page_replays(database_url):
    async with slack_baton(database_url) as world:
        customer_id = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                                            email="dana.w@example.com", now=datetime.now(timezone.utc))
        visitor = visitor_of(world)
        await visitor.start()
        await visitor.say("my address is 1 Main St")
        await visitor.upload("id card.png", PNG, "image/png")
        await world.slack.wait_for(lambda s: s.shared_files)

        await actions.anonymize(services_of(world.baton.app), Actor("slack", "W333", "Sam", role="admin"), customer_id)
        events = await visitor.events(lambda es: len(messages(es, "visitor")) >= 2)

        assert "1 Main St" not in json.dumps(events) and "id card" not in json.dumps(events)
        assert await CustomerFile.all().count() == 0

"""SPEC 5, privacy follows the data: anonymizing a customer also reaches what Baton already posted.

Slack: the customer's thread messages are deleted (their author name is the customer's, and
`chat.update` cannot change an author name); Teams: they are rewritten in place. In both, the card
is re-rendered without the customer, Baton's notice says what happened, and the bot's and agents'
lines stay.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

from bot.core import actions
from bot.core.intake import accept_handoff
from bot.intake import parse_generic_handoff
from bot.web.app import services_of
from storage import customer_admin, outbox, posts
from storage.customers import create_customer
from bot.domain import parse_public_id
from tests.handoff_factory import CUSTOMER_SAYS, make_generic_payload
from tests.slack_signing import slack_baton, view_submission
from tests.teams_activities import ADMIN as TEAMS_ADMIN
from tests.teams_activities import install_and_route, invoke, post_activity, teams_baton

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
SLACK_ADMIN = "W333"  # an admin in slack_baton's role assignments
NOTICE = "This customer was anonymized"


async def _dana() -> int:
    return await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                                 email="dana.w@example.com", now=NOW)


async def test_in_slack_the_customers_posted_messages_are_deleted_and_the_card_rewritten(database_url):
    async with slack_baton(database_url) as world:
        dana = await _dana()
        _, card_ts = await world.handoff(conversation_id="va-private")
        replies = await world.slack.wait_for(lambda s: s.of("chat.postMessage", thread_ts=card_ts))
        # The handoff's transcript is one reply holding her lines: that reply goes (docs/decisions.md).
        customer_ts = {r.response["ts"] for r in replies if CUSTOMER_SAYS in json.dumps(r.args)}
        assert customer_ts
        world.slack.fail_next(1, method="chat.delete")  # rate limited once: retried after Retry-After
        before = len(world.slack.calls)

        await world.command(f"anonymize {dana}", user=SLACK_ADMIN)
        await world.interaction(view_submission(await world.opened_view("baton_anonymize_modal"), {}, user=SLACK_ADMIN))

        await world.slack.wait_for(lambda s: {c.args["ts"] for c in s.of("chat.delete")} >= customer_ts, timeout=20)
        notice = await world.slack.wait_for(lambda s: next(
            (c for c in s.of("chat.postMessage", thread_ts=card_ts) if NOTICE in json.dumps(c.args)), None))
        card = await world.slack.wait_for(lambda s: next(
            (c for c in s.of("chat.update", ts=card_ts) if "Anonymized customer" in json.dumps(c.args)), None))
        await _outbox_idle()
        assert {c.args["ts"] for c in world.slack.of("chat.delete")} == customer_ts  # nothing else goes
        assert not {ts for _, ts in world.slack.messages} & customer_ts
        assert notice.args["username"] != "Dana Whitfield"
        sent_since = json.dumps([c.args for c in world.slack.calls[before:] if c.method.startswith("chat.")])
        assert "Dana" not in sent_since and CUSTOMER_SAYS not in sent_since, "nothing sent afterwards names her"
        assert "Dana" not in json.dumps(card.args)


async def test_in_teams_the_customers_posted_messages_are_rewritten_in_place(database_url):
    async with teams_baton(database_url, role_assignments={TEAMS_ADMIN["id"]: "admin"}) as (baton, connector):
        await install_and_route(baton, connector)
        dana = await _dana()
        status, _ = await baton.post_signed("/handoff", make_generic_payload(case=None))
        assert status == 202
        thread = (await connector.wait_for(lambda c: c.ok("create_conversation")))[-1].response["id"]
        lines = await connector.wait_for(lambda c: len(s := c.ok("send", conversation_id=thread)) >= 2 and s)
        customer_ids = {line.response["id"] for line in lines if line.text.startswith("**Dana Whitfield** (customer)")}
        assert len(customer_ids) == 1

        fetched = await post_activity(baton, invoke(connector.url, "task/fetch", {"data": {
            "form": "anonymize_confirm", "customer": dana}}, conversation=thread, user=TEAMS_ADMIN))
        data = fetched[1]["task"]["value"]["card"]["content"]["actions"][0]["data"]
        await post_activity(baton, invoke(connector.url, "task/submit", {"data": data}, conversation=thread, user=TEAMS_ADMIN))

        def rewrites(c):
            return [u for u in c.ok("update") if u.conversation_id == thread and u.activity_id in customer_ids]

        rewritten = await connector.wait_for(rewrites, timeout=20)
        await connector.wait_for(lambda c: any(NOTICE in s.text for s in c.ok("send", conversation_id=thread)))
        assert "Dana" not in rewritten[-1].text and CUSTOMER_SAYS not in rewritten[-1].text
        assert "removed: customer anonymized" in rewritten[-1].text
        card = await connector.wait_for(lambda c: next(
            (u for u in c.ok("update") if u.conversation_id == thread and "Anonymized customer" in str(u.cards)), None))
        assert "Dana" not in str(card.cards)


async def test_a_customer_message_posted_after_anonymizing_is_not_deleted(database_url):
    """Only what was posted before the anonymization is reached; the thread goes on afterwards."""
    async with slack_baton(database_url) as world:
        dana = await _dana()
        conversation_id, card_ts = await world.handoff(conversation_id="va-after")
        await world.slack.wait_for(lambda s: len(s.of("chat.postMessage", thread_ts=card_ts)) >= 1)
        await world.command(f"anonymize {dana}", user=SLACK_ADMIN)
        await world.interaction(view_submission(await world.opened_view("baton_anonymize_modal"), {}, user=SLACK_ADMIN))
        await world.slack.wait_for(lambda s: s.of("chat.delete"))
        deleted_before = len(world.slack.of("chat.delete"))

        await actions.customer_message(services_of(world.baton.app), conversation_id, "one more thing")
        later = await world.slack.wait_for(lambda s: next(
            (c for c in s.of("chat.postMessage", thread_ts=card_ts) if "one more thing" in json.dumps(c.args)), None))
        await _outbox_idle()

        assert later.args["username"] != "Dana Whitfield"
        assert len(world.slack.of("chat.delete")) == deleted_before
        assert (later.args["channel"], later.response["ts"]) in world.slack.messages


async def _recorded_thread():
    """A handoff whose thread root is recorded, and its customer line, not yet posted."""
    result = await accept_handoff(parse_generic_handoff(make_generic_payload(case=None)), targets=[], now=NOW)
    conversation_id = parse_public_id(result.conversation_public_id)
    root = await posts.record_root("record", conversation_id, channel="C1", ref="1.0", thread_ref="1.0",
                                   revision=0, payload=None, now=NOW)
    line = next(m for m in await posts.messages_after(conversation_id, 0, exclude_from="record") if m.sender == "customer")
    return conversation_id, root, line


async def _posted_customer_line(*, anonymized_before_recording: bool, sync_saw_it: bool = False) -> list:
    """A customer line the sync rendered and posted; maybe the customer is anonymized before the post is
    recorded; `sync_saw_it` says whether the sync already knew (so the line carried no name)."""
    dana = await _dana()
    conversation_id, root, line = await _recorded_thread()
    if anonymized_before_recording:
        await customer_admin.anonymize(dana, now=NOW, notice="anonymized")
    await posts.advance(root, line.id, now=NOW, posted_ref="1.1", saw_anonymized=sync_saw_it)
    return await posts.pending_redactions("record", conversation_id)


async def test_a_line_anonymized_while_it_was_being_posted_is_redacted_at_once(database):
    assert [p.ref for p in await _posted_customer_line(anonymized_before_recording=True)] == ["1.1"]


async def test_a_line_posted_as_it_stands_is_not_redacted(database):
    assert await _posted_customer_line(anonymized_before_recording=False) == []


async def test_a_line_rendered_after_the_anonymization_is_not_redacted(database):
    assert await _posted_customer_line(anonymized_before_recording=True, sync_saw_it=True) == []


async def _outbox_idle(timeout: float = 10.0) -> None:
    """Every queued sync has run, so nothing more will reach the fake platform."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await outbox.pending_counts():
        assert asyncio.get_running_loop().time() < deadline, "the outbox never went idle"
        await asyncio.sleep(0.05)



async def test_a_sync_recording_posts_and_a_wrap_up_of_the_same_conversation_do_not_deadlock(database):
    """PostgreSQL: a wrap-up key-locks its conversation row (`open_key` is unique), then inserts an Activity
    that references the customer; a sync recording a customer line's post locks the customer row (so that
    anonymizing serializes with it), then inserts a post that references the conversation. The sync's lock
    must not stop the wrap-up's reference: with FOR UPDATE the two waited on each other (deadlock detected,
    the wrap-up failed); with FOR NO KEY UPDATE the wrap-up commits and the sync follows."""
    import asyncpg
    import pytest

    if not database.startswith("postgres"):
        pytest.skip("SQLite has one writer at a time and no row locks: no deadlock to have")
    dana = await _dana()
    conversation_id, root, line = await _recorded_thread()

    wrap_up = await asyncpg.connect(database.replace("postgres://", "postgresql://", 1))
    try:
        async with wrap_up.transaction():
            # The wrap-up's first step: its conversation row, key-locked.
            await wrap_up.execute("UPDATE conversation SET status = 'wrapped', open_key = NULL WHERE id = $1", conversation_id)
            sync = asyncio.create_task(posts.record_message(root, line.id, "1.1", now=NOW))
            await asyncio.sleep(0.5)  # the sync has locked the customer and waits for the conversation row
            assert not sync.done()
            # The wrap-up's timeline entry, referencing the customer the sync has locked.
            await asyncio.wait_for(wrap_up.execute(
                "INSERT INTO activity (customer_id, at, category, kind, title, conversation_id) "
                "VALUES ($1, now(), 'conversation', 'conversation', 'Conversation wrapped up: resolved', $2)",
                dana, conversation_id), timeout=5)
        await asyncio.wait_for(sync, timeout=5)
    finally:
        await wrap_up.close()
    assert [p.ref for p in await posts.pending_redactions("record", conversation_id)] == []

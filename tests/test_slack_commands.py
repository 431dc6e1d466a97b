"""`/baton …` at a channel root and `@Baton …` in a handoff thread: every subcommand, answered the Slack way."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bot.commands.builtin import registry
from storage import cases
from storage.customers import create_customer
from storage.models import Conversation, Customer, Route
from tests.slack_signing import HANDOFF_CHANNEL, block_action, mention, slack_baton, view_submission

ADMIN = "W333"


async def arrange(world) -> dict:
    now = datetime.now(timezone.utc)
    dana = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")], now=now)
    other = await create_customer(display_name="Dan Duplicate", identities=[("email", "dan@example.com")], now=now)
    case = await cases.open_case(title="Damaged parcel", customer_id=dana, owner="Ana", now=now)
    conversation_id, card_ts = await world.handoff(conversation_id="va-cmd", case={"number": case.number})
    return {"dana": dana, "other": other, "case": case.number, "conv": conversation_id, "card_ts": card_ts}


async def send(world, ctx: dict, mode: str, text: str, *, user: str = ADMIN):
    """`text` may hold {conv}: '#c<id>' at the root, '' in the thread (the thread says which conversation)."""
    text = text.format(conv=f"#c{ctx['conv']}" if mode == "root" else "", **{k: v for k, v in ctx.items() if k != "conv"})
    text = " ".join(text.split())
    if mode == "root":
        status, _ = await world.command(text, user=user)
    else:
        status, _ = await world.event(mention(text, user=user, channel=HANDOFF_CHANNEL, ts=world.next_ts(), thread_ts=ctx["card_ts"]))
    assert status == 200


async def answer(world, ctx: dict, mode: str, expected: str, *, user: str = ADMIN) -> str:
    """The answer only `user` sees: the response_url at the root, an ephemeral in the thread."""
    if mode == "root":
        return json.dumps(await world.response_containing(expected))
    found = await world.ephemeral_containing(user, expected)
    assert f'"thread_ts": "{ctx["card_ts"]}"' in found
    return found


MODES = ["root", "thread"]

REPLIES = [
    ("lookup dana.w@example.com", "Dana Whitfield ("),
    ("note {conv} called the carrier", "Note added to #c"),
    ("comment {case} carrier confirmed damage", "Internal comment added to"),
    ("wrapup {conv} resolved sent a replacement", "wrapped up as Resolved"),
    ("link {conv} {other}", "now linked to Dan Duplicate"),
    ("case {conv} {case}", "is now about"),
    ("case {conv} new Lid broken", "Opened CAS-"),
    ("timeline {dana} case", "Timeline of Dana Whitfield"),
    ("identities {dana}", "Identities of Dana Whitfield"),
    ("lock {other}", "is locked against edits and merges"),
    ("sessions", "open conversations"),
    ("help", "/baton lookup"),
    ("frobnicate", "Unknown command"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("text,expected", REPLIES, ids=[r[0].split()[0] + ("-new" if "new" in r[0] else "") for r in REPLIES])
async def test_a_subcommand_answers_only_the_caller(database_url, mode, text, expected):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)

        await send(world, ctx, mode, text)

        await answer(world, ctx, mode, expected)


@pytest.mark.parametrize("mode", MODES)
async def test_new_creates_a_customer_for_an_unmatched_conversation(database_url, mode):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)
        ctx["conv"], ctx["card_ts"] = await world.handoff(conversation_id="va-unknown", customer={"email": "nobody@example.com"})

        await send(world, ctx, mode, "new {conv}")

        await answer(world, ctx, mode, "Created customer")
        assert (await Conversation.get(id=ctx["conv"])).customer_id is not None


@pytest.mark.parametrize("mode", MODES)
async def test_export_is_sent_as_a_file_to_the_callers_direct_messages(database_url, mode):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)

        await send(world, ctx, mode, "export {dana}")

        await answer(world, ctx, mode, "Sent to your direct messages")
        done = world.slack.of("files.completeUploadExternal")
        assert done and done[0].args["channel_id"] == "D" + ADMIN
        content = json.loads(next(iter(world.slack.uploads.values())))
        assert "Dana Whitfield" in json.dumps(content)


@pytest.mark.parametrize("mode", MODES)
async def test_route_here_answers_in_the_channel_and_routes_the_queue(database_url, mode):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)

        await send(world, ctx, mode, "route here billing")

        if mode == "root":
            response = await world.response_containing("billing queue")
            assert response["response_type"] == "in_channel"
            assert await Route.filter(target="slack", queue="billing", channel="C0ROOT").exists()
        else:
            await world.slack.wait_for(lambda s: any("billing queue" in json.dumps(c.args) for c in s.of("chat.postMessage")))
            assert await Route.filter(target="slack", queue="billing", channel=HANDOFF_CHANNEL).exists()


async def test_after_route_here_handoffs_of_that_queue_go_to_that_channel(database_url):
    async with slack_baton(database_url) as world:
        await world.command("route here billing", channel="C0BILLING", user=ADMIN)
        await world.response_containing("billing queue")

        await world.handoff(conversation_id="va-routed", queue="billing")

        roots = [c for c in world.slack.of("chat.postMessage") if "thread_ts" not in c.args]
        assert [c.args["channel"] for c in roots] == ["C0BILLING"]


FORMS = [
    ("wrapup {conv}", "baton_wrapup_modal"),
    ("profile {dana}", "baton_profile_modal"),
    ("merge {dana} {other}", "baton_merge_modal"),
    ("anonymize {other}", "baton_anonymize_modal"),
]


@pytest.mark.parametrize("text,callback_id", FORMS, ids=[f[0].split()[0] for f in FORMS])
async def test_a_form_command_at_the_root_opens_its_modal(database_url, text, callback_id):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)

        await send(world, ctx, "root", text)

        view = await world.opened_view(callback_id)
        assert view["type"] == "modal"


@pytest.mark.parametrize("text,callback_id", FORMS, ids=[f[0].split()[0] for f in FORMS])
async def test_a_form_command_in_a_thread_offers_a_button_that_opens_the_modal(database_url, text, callback_id):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)
        await send(world, ctx, "thread", text)
        offered = await world.slack.wait_for(lambda s: next(
            (c for c in s.of("chat.postEphemeral", user=ADMIN) if "baton_open_form" in json.dumps(c.args)), None))
        button = offered.args["blocks"][-1]["elements"][0]

        await world.interaction(block_action(button["action_id"], button["value"], user=ADMIN, channel=HANDOFF_CHANNEL,
                                             message_ts=ctx["card_ts"]))

        await world.opened_view(callback_id)


async def test_merge_confirm_modal_submission_merges_the_customers(database_url):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)
        await send(world, ctx, "root", "merge {dana} {other}")
        view = await world.opened_view("baton_merge_modal")

        status, body = await world.interaction(view_submission(view, {}, user=ADMIN))

        assert status == 200 and not body
        await world.ephemeral_containing(ADMIN, "Merged Dan Duplicate")
        assert (await Customer.get(id=ctx["other"])).merged_into_id == ctx["dana"]


async def test_merge_of_a_locked_customer_is_refused_in_plain_words(database_url):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)
        await Customer.filter(id=ctx["other"]).update(locked=True)

        await send(world, ctx, "root", "merge {dana} {other}")

        await world.response_containing("locked customers cannot be merged")
        assert not world.slack.of("views.open")


async def test_anonymize_confirm_modal_submission_anonymizes_the_customer(database_url):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)
        await send(world, ctx, "root", "anonymize {other}")
        view = await world.opened_view("baton_anonymize_modal")

        await world.interaction(view_submission(view, {}, user=ADMIN))

        await world.ephemeral_containing(ADMIN, "is anonymized")
        assert (await Customer.get(id=ctx["other"])).anonymized_at is not None


async def test_an_agent_may_not_anonymize_and_is_told_so(database_url):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)

        await send(world, ctx, "root", "anonymize {other}", user="W111")

        await world.response_containing("may not anonymize")


async def test_help_lists_every_registered_command(database_url):
    async with slack_baton(database_url) as world:
        await world.command("help")

        response = json.dumps(await world.response_containing("/baton"))
        for command in registry:
            assert f"/baton {command.usage}" in response.replace("&lt;", "<").replace("&gt;", ">")


async def test_a_refused_command_is_answered_in_plain_words(database_url):
    async with slack_baton(database_url) as world:
        await world.command("note #c999999 hello")

        response = await world.response_containing("no conversation")
        assert "Traceback" not in json.dumps(response)


@pytest.mark.parametrize("mode", MODES)
async def test_wrapup_with_logs_posts_the_interaction_log_in_the_handoff_thread(database_url, mode):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)

        await send(world, ctx, mode, "wrapup {conv} resolved --logs")

        await answer(world, ctx, mode, "wrapped up as Resolved")
        log_post = await world.slack.wait_for(lambda s: next(
            (c for c in s.of("chat.postMessage", thread_ts=ctx["card_ts"]) if "Interaction log" in c.args["text"]), None))
        assert log_post.args["channel"] == HANDOFF_CHANNEL
        assert "my parcel arrived damaged" in json.dumps(log_post.args["blocks"])


@pytest.mark.parametrize("mode", MODES)
async def test_merge_undo_with_a_word_for_a_number_says_what_it_takes(database_url, mode):
    async with slack_baton(database_url) as world:
        ctx = await arrange(world)

        await send(world, ctx, mode, "merge undo abc")

        found = await answer(world, ctx, mode, "takes the number of the customer that was merged")
        assert "Sorry" not in found and "abc" in found

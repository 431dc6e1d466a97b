"""Handoff threads in Slack: the card at the root, the transcript as attributed replies, the card kept current."""

from __future__ import annotations

import json

from bot.core import actions
from bot.web.app import services_of
from tests.handoff_factory import BOT_SAYS, CUSTOMER_SAYS
from tests.slack_signing import HANDOFF_CHANNEL, slack_baton


def _senders(blocks: list[dict]) -> list[str]:
    return [b["elements"][0]["text"] for b in blocks if b["type"] == "context"]


async def test_a_handoff_opens_one_thread_with_the_card_and_the_transcript_as_one_reply_of_named_lines(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-thread")

        replies = await world.slack.wait_for(lambda s: s.of("chat.postMessage", thread_ts=card_ts))
        roots = [c for c in world.slack.of("chat.postMessage") if "thread_ts" not in c.args]
        assert len(roots) == 1
        assert roots[0].args["channel"] == HANDOFF_CHANNEL
        assert roots[0].args["text"] and roots[0].args["blocks"][0]["type"] == "header"
        # The handoff's transcript is one reply (docs/decisions.md), each line under its sender's name.
        assert len(replies) == 1
        assert _senders(replies[0].args["blocks"]) == ["Dana Whitfield", "Acme Assistant"]
        sent = json.dumps(replies[0].args["blocks"])
        assert sent.index(CUSTOMER_SAYS) < sent.index("I'm sorry to hear that") and BOT_SAYS
        assert all(c.token == "xoxb-test-baton" for c in world.slack.calls if c.method.startswith("chat."))


async def test_a_long_transcript_is_split_at_slacks_block_limit_in_order(database_url):
    async with slack_baton(database_url) as world:
        lines = [{"from": "customer" if i % 2 else "bot", "text": f"line {i:03d}"} for i in range(60)]
        _, card_ts = await world.handoff(conversation_id="va-long", transcript=lines)

        replies = await world.slack.wait_for(
            lambda s: (r := s.of("chat.postMessage", thread_ts=card_ts)) and "line 059" in json.dumps(r[-1].args) and r)
        assert len(replies) == 3  # 60 lines x 2 blocks, at most 50 blocks a message
        assert all(len(r.args["blocks"]) <= 50 for r in replies)
        sent = "".join(json.dumps(r.args["blocks"]) for r in replies)
        positions = [sent.index(f"line {i:03d}") for i in range(60)]
        assert positions == sorted(positions)


async def test_customer_text_is_escaped_so_it_cannot_mention_or_link(database_url):
    async with slack_baton(database_url) as world:
        evil = "hi <!channel> <@U999> <https://evil.example|your bank> @here"
        _, card_ts = await world.handoff(conversation_id="va-evil", transcript=[{"from": "customer", "text": evil}])

        reply = await world.slack.wait_for(lambda s: next(iter(s.of("chat.postMessage", thread_ts=card_ts)), None))
        sent = json.dumps(reply.args)
        assert "<!channel>" not in sent and "<@U999>" not in sent and "<https://" not in sent
        assert "&lt;!channel&gt;" in sent


async def test_a_card_less_handoff_opens_a_thread_with_a_plain_header(database_url):
    async with slack_baton(database_url) as world:
        status, body = await world.baton.post_signed("/handoff", {"source": "desk", "conversation_id": "int-1", "kind": "internal"})
        assert status == 202
        root = await world.slack.wait_for(lambda s: next(iter(s.of("chat.postMessage")), None))
        assert "Internal conversation" in root.args["text"]
        assert root.args["blocks"][0]["type"] == "header"


async def test_a_new_customer_message_is_a_thread_reply_and_updates_the_card(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-more")
        await world.slack.wait_for(lambda s: len(s.of("chat.postMessage", thread_ts=card_ts)) >= 1)

        await actions.customer_message(services_of(world.baton.app), conversation_id, "still waiting, it is damaged")

        reply = await world.slack.wait_for(
            lambda s: next((c for c in s.of("chat.postMessage", thread_ts=card_ts) if "still waiting" in json.dumps(c.args)), None))
        assert reply.args["username"] == "Dana Whitfield"
        updates = await world.card_updates(card_ts, 1)
        # The card's first view keeps the newest customer line current.
        assert "still waiting, it is damaged" in json.dumps(updates[-1].args["blocks"])


async def test_the_app_builds_its_slack_poster_from_the_settings():
    from bot.settings import Settings
    from bot.slack.poster import SlackPoster
    from bot.web.app import build_posters

    settings = Settings(slack_bot_token="xoxb-1", slack_signing_secret="s", slack_api_url="http://127.0.0.1:9/api/",
                        slack_channel="C0DEFAULT")
    poster = build_posters(settings)["slack"]

    assert isinstance(poster, SlackPoster)
    assert (poster.api_url, poster.bot_token, poster.default_channel) == ("http://127.0.0.1:9/api/", "xoxb-1", "C0DEFAULT")


async def test_without_any_channel_the_poster_says_the_conversation_is_unroutable(database):
    import pytest

    from bot.delivery.poster import Unroutable
    from bot.domain import ConversationFacts
    from bot.slack.poster import SlackPoster

    poster = SlackPoster(api_url="http://127.0.0.1:9/api/", bot_token="xoxb-1")
    facts = ConversationFacts(public_id="c1", source="va", channel="webchat", kind="customer", status="queued", queue="billing")

    with pytest.raises(Unroutable, match="^no channel"):
        await poster.open_thread(facts, None)


async def test_a_handoff_without_a_channel_waits_and_is_posted_after_route_here(database_url):
    async with slack_baton(database_url, slack_channel=None) as world:
        status, body = await world.baton.post_signed("/handoff", {"source": "va", "conversation_id": "late", "queue": "billing"})
        assert status == 202

        await world.command("route here billing", channel="C0LATE", user="W333")  # an admin

        root = await world.slack.wait_for(lambda s: next(iter(s.of("chat.postMessage")), None))
        assert root.args["channel"] == "C0LATE"


async def test_routing_in_baton_toml_picks_the_queues_channel_and_route_here_still_overrides_it(database_url, tmp_path):
    from bot.settings import load_settings

    (tmp_path / "baton.toml").write_text('[routing.billing]\nslack = "C0BILLING"\n', "utf-8")
    routing = load_settings({"BATON_CONFIG": str(tmp_path / "baton.toml")}).routing
    async with slack_baton(database_url, routing=routing) as world:
        await world.handoff(conversation_id="va-billing-1", queue="billing")
        await world.handoff(conversation_id="va-returns-1", queue="returns")
        roots = {c.args["channel"] for c in world.slack.of("chat.postMessage") if "thread_ts" not in c.args}
        assert roots == {"C0BILLING", HANDOFF_CHANNEL}  # returns has no entry: the default channel

        await world.command("route here billing", channel="C0BILLING-HERE", user="W333")
        await world.handoff(conversation_id="va-billing-2", queue="billing")
        latest = [c for c in world.slack.of("chat.postMessage") if "thread_ts" not in c.args][-1]
        assert latest.args["channel"] == "C0BILLING-HERE"


async def test_a_reply_in_one_channel_reaches_its_own_thread_when_another_channels_thread_shares_its_ts(database_url, tmp_path):
    from bot.settings import load_settings
    from storage.models import Message
    from tests.slack_signing import thread_message

    (tmp_path / "baton.toml").write_text('[routing.billing]\nslack = "C0BILLING"\n', "utf-8")
    routing = load_settings({"BATON_CONFIG": str(tmp_path / "baton.toml")}).routing
    async with slack_baton(database_url, routing=routing) as world:
        first, first_ts = await world.handoff(conversation_id="va-returns-ts", queue="returns")
        world.slack.restart_ts()  # Slack's ts are unique per channel only
        second, second_ts = await world.handoff(conversation_id="va-billing-ts", queue="billing")
        assert first_ts == second_ts and first != second

        for channel, text in ((HANDOFF_CHANNEL, "said in the returns thread"), ("C0BILLING", "said in the billing thread")):
            status, _ = await world.event(thread_message(text, user="W222", channel=channel, thread_ts=first_ts,
                                                         ts=world.next_ts()))
            assert status == 200

        assert (await Message.get(text="said in the returns thread")).conversation_id == first
        assert (await Message.get(text="said in the billing thread")).conversation_id == second

"""A customer the CRM does not know, or knows twice, is never hidden (SPEC 4.1): the card shows the identity
the handoff gave, marked as not in the CRM, in Slack and Teams; *Create customer* starts from it."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bot.cards import GIVEN_TITLE
from bot.domain import parse_public_id
from storage.customers import create_customer
from storage.models import Conversation, Customer
from tests.handoff_factory import make_generic_payload
from tests.slack_signing import click, slack_baton
from tests.teams_activities import card_action, install_and_route, post_activity, teams_baton

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
NOOR = {"name": "Noor Haddad", "email": "noor.haddad@example.org", "phone": "+44 20 7946 0958"}


def _text(value) -> str:
    return json.dumps(value, ensure_ascii=False).replace("\u2060", "")


async def test_a_no_data_card_in_slack_greets_the_customer_by_the_name_and_email_the_bot_gave(database_url):
    async with slack_baton(database_url) as world:
        _, card_ts = await world.handoff(conversation_id="va-noor", customer=NOOR, case=None)

        card = next(c for c in world.slack.of("chat.postMessage") if c.response.get("ts") == card_ts)
        blocks = card.args["blocks"]
        assert blocks[0]["text"]["text"] == "Noor Haddad"  # the header, not "New customer"
        shown = _text(blocks)
        assert GIVEN_TITLE in shown
        assert "noor.haddad@example.org" in shown
        # The thread card is the agent view: agents see no phone number (the default role rule).
        assert "7946" not in shown
        assert "Noor Haddad" in card.args["text"]  # the notification text too


async def test_create_customer_from_a_no_data_card_keeps_what_was_given_and_the_card_becomes_matched(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-noor-2", customer=NOOR, case=None)

        await click(world, f"c{conversation_id}", "create_customer", user="W111", card_ts=card_ts)

        await world.ephemeral_containing("W111", "Created customer Noor Haddad")
        customer = await Customer.get(id=(await Conversation.get(id=conversation_id)).customer_id)
        assert (customer.display_name, customer.email, customer.mobile_phone) == (
            "Noor Haddad", "noor.haddad@example.org", "+442079460958")
        [update] = (await world.card_updates(card_ts, 1))[-1:]
        assert GIVEN_TITLE not in _text(update.args["blocks"])


async def test_a_multi_match_card_in_slack_shows_the_identity_given_beside_the_candidates(database_url):
    async with slack_baton(database_url) as world:
        for name in ("Dana Whitfield", "Dana W. Whitfield"):
            await create_customer(display_name=name, identities=[("email", "shared@example.com")], now=NOW)
        _, card_ts = await world.handoff(conversation_id="va-twice", case=None,
                                         customer={"name": "Dana from chat", "email": "Shared@Example.com"})

        card = next(c for c in world.slack.of("chat.postMessage") if c.response.get("ts") == card_ts)
        shown = _text(card.args["blocks"])
        assert GIVEN_TITLE in shown and "Dana from chat" in shown and "Shared@Example.com" in shown
        assert "Dana W. Whitfield" in shown  # the candidates are still offered


async def test_a_matched_card_does_not_repeat_the_identity_given(database_url):
    async with slack_baton(database_url) as world:
        await create_customer(display_name="Noor Haddad", identities=[("email", NOOR["email"])], email=NOOR["email"], now=NOW)
        _, card_ts = await world.handoff(conversation_id="va-known", customer=NOOR, case=None)
        card = next(c for c in world.slack.of("chat.postMessage") if c.response.get("ts") == card_ts)
        assert GIVEN_TITLE not in _text(card.args["blocks"])


async def test_a_no_data_card_in_teams_shows_the_identity_given_and_create_customer_starts_from_it(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)
        status, body = await baton.post_signed("/handoff", make_generic_payload(conversation_id="va-noor-t", customer=NOOR,
                                                                                case=None))
        assert status == 202
        created = await connector.wait_for(lambda c: c.ok("create_conversation"))
        card = created[-1].body["activity"]["attachments"][0]["content"]
        shown = _text(card)
        assert GIVEN_TITLE in shown and "Noor Haddad" in shown and "noor.haddad@example.org" in shown
        assert "7946" not in shown

        status, answer = await post_activity(baton, card_action(
            connector.url, "create_customer", {"action": "create_customer", "conversation": body["conversation"]},
            conversation=created[-1].response["id"]))

        assert status == 200 and GIVEN_TITLE not in _text(answer["value"])
        customer_id = (await Conversation.get(id=parse_public_id(body["conversation"]))).customer_id
        assert (await Customer.get(id=customer_id)).email == "noor.haddad@example.org"


async def test_a_multi_match_card_in_teams_shows_the_identity_given(database_url):
    async with teams_baton(database_url) as (baton, connector):
        await install_and_route(baton, connector)
        for name in ("Dana Whitfield", "Dana W. Whitfield"):
            await create_customer(display_name=name, identities=[("email", "shared@example.com")], now=NOW)
        await baton.post_signed("/handoff", make_generic_payload(customer={"name": "Dana from chat",
                                                                           "email": "shared@example.com"}, case=None))
        created = await connector.wait_for(lambda c: c.ok("create_conversation"))
        shown = _text(created[-1].body["activity"]["attachments"][0]["content"])
        assert GIVEN_TITLE in shown and "Dana from chat" in shown and "Dana W. Whitfield" in shown

"""Identity resolution and the three card states, from every handoff format (SPEC 4.1, 5)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from slack_sdk.models.blocks import Block

from bot.cards.slack import render_summary_blocks
from bot.core.intake import accept_handoff
from bot.core.summary import summary_for_conversation
from bot.intake import parse_dialogflow_handoff, parse_generic_handoff, parse_handoff_initiate
from storage.customers import create_customer
from storage.engagement import recompute as recompute_engagement
from bot.domain import parse_public_id
from storage.models import Case, Identity, Order, Survey
from tests.handoff_factory import make_botframework_activity, make_dialogflow_request, make_generic_payload

NOW = datetime(2026, 11, 22, 10, 5, tzinfo=timezone.utc)


async def _dana() -> int:
    customer_id = await create_customer(
        display_name="Dana Whitfield",
        identities=[("email", "dana.w@example.com"), ("crm", "C-1042")],
        email="dana.w@example.com",
        company="Whitfield Design Co.",
        city="Austin",
        now=NOW,
    )
    await Case.create(number="CAS-01234", customer_id=customer_id, title="Parcel arrived damaged", priority="High",
                      status="active", product="Ceramic Vase Set", created_at=NOW, updated_at=NOW)
    await Order.create(customer_id=customer_id, number="SO-99812", total=Decimal("129.50"), currency="USD", placed_at=NOW)
    await Survey.create(customer_id=customer_id, score=4, at=NOW)
    await recompute_engagement([customer_id])  # what every writer of orders and surveys does
    return customer_id


async def _summary(handoff):
    result = await accept_handoff(handoff, targets=[], now=NOW)
    return await summary_for_conversation(parse_public_id(result.conversation_public_id), now=NOW)


async def test_the_three_handoff_formats_give_the_same_summary(database):
    dana = await _dana()
    summaries = [
        await _summary(parse_generic_handoff(make_generic_payload())),
        await _summary(parse_handoff_initiate(make_botframework_activity())),
        await _summary(parse_dialogflow_handoff(make_dialogflow_request())),
    ]

    for summary in summaries:
        assert summary.state == "matched"
        assert summary.profile.customer_id == dana
        assert summary.profile.display_name == "Dana Whitfield"
        assert summary.issue.number == "CAS-01234"
        assert summary.issue.product == "Ceramic Vase Set"
        assert summary.engagement.lifetime_values == (("USD", Decimal("129.50")),)
        assert summary.engagement.csat == 4
    assert len({s.conversation.public_id for s in summaries}) == 3


async def test_a_new_identity_learned_in_a_conversation_is_added_to_the_customer(database):
    dana = await _dana()
    await _summary(parse_generic_handoff(make_generic_payload()))  # brings the phone number

    assert await Identity.filter(customer_id=dana, kind="phone", value="+14155550123").exists()


async def test_an_identifier_shared_by_two_customers_gives_a_multi_match_card(database):
    first = await create_customer(display_name="Dana Whitfield", identities=[("email", "shared@example.com")], now=NOW)
    second = await create_customer(display_name="Dana W. Whitfield", identities=[("email", "shared@example.com")], now=NOW)
    payload = make_generic_payload(customer={"name": "Dana", "email": "Shared@Example.com"})

    summary = await _summary(parse_generic_handoff(payload))

    assert summary.state == "multi_match"
    assert {c.customer_id for c in summary.candidates} == {first, second}
    assert summary.profile is None
    blocks = render_summary_blocks(summary)
    assert all(Block.parse(b).to_dict() for b in blocks)
    assert "select" in str(blocks)  # a select of the matches to link


async def test_an_unknown_customer_gives_a_no_data_card_offering_search_and_create(database):
    payload = make_generic_payload(customer={"name": "Nobody Known", "email": "nobody@example.com"})

    summary = await _summary(parse_generic_handoff(payload))

    assert summary.state == "no_data"
    assert summary.profile is None and not summary.candidates
    rendered = str(render_summary_blocks(summary)).lower()
    assert "create" in rendered and ("search" in rendered or "link" in rendered)


async def test_phones_match_in_e164_whatever_their_formatting(database):
    dana = await create_customer(display_name="Dana", identities=[("phone", "+14155550123")], now=NOW)
    payload = make_generic_payload(customer={"phone": "(415) 555-0123"})

    summary = await _summary(parse_generic_handoff(payload))

    assert summary.state == "matched" and summary.profile.customer_id == dana


async def test_a_merged_customer_keeps_resolving_to_the_survivor(database):
    from storage.customer_admin import merge

    survivor = await create_customer(display_name="Dana Whitfield", identities=[("email", "a@example.com")], now=NOW)
    merged = await create_customer(display_name="D. Whitfield", identities=[("email", "b@example.com")], now=NOW)
    await merge(survivor, merged, now=NOW)

    summary = await _summary(parse_generic_handoff(make_generic_payload(customer={"email": "b@example.com"})))

    assert summary.profile.customer_id == survivor

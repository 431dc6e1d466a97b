"""SPEC 5 timers: unclaimed handoffs are re-announced then escalated, idle ones wrapped up, old data anonymized."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.core import actions, timers
from bot.core.services import Services
from bot.core.intake import accept_handoff
from bot.domain import Actor
from bot.intake.generic import parse_generic_handoff
from bot.settings import Settings
from storage.conversations import claim
from storage.customers import create_customer
from bot.domain import parse_public_id
from storage import timers as storage_timers
from storage.models import Conversation, Customer, Message, Order, Survey
from tests.handoff_factory import make_generic_payload

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


def services_at(at: datetime) -> Services:
    return Services(settings=Settings(), clock=lambda: at, targets=["record"])


async def _handoff(conversation_id: str = "va-1") -> int:
    handoff = parse_generic_handoff(make_generic_payload(conversation_id=conversation_id))
    return parse_public_id((await accept_handoff(handoff, targets=["record"], now=T0)).conversation_public_id)


async def _system_lines(conversation_id: int) -> list[str]:
    """Baton's lines in the thread (status changes for the customer's side are not thread lines)."""
    return list(await Message.filter(conversation_id=conversation_id, sender="system", kind__in=("text", "reminder", "escalation")).values_list("text", flat=True))


async def test_an_unclaimed_handoff_is_reannounced_once_then_escalated_once(database):
    conversation_id = await _handoff()

    assert await timers.sweep_unclaimed(services_at(T0 + timedelta(minutes=4))) == 0
    await timers.sweep_unclaimed(services_at(T0 + timedelta(minutes=6)))
    await timers.sweep_unclaimed(services_at(T0 + timedelta(minutes=7)))  # a second process, a second tick
    assert len(await _system_lines(conversation_id)) == 1

    await timers.sweep_unclaimed(services_at(T0 + timedelta(minutes=16)))
    lines = await _system_lines(conversation_id)
    assert len(lines) == 2 and lines[1].startswith("Escalated")


async def test_a_claimed_conversation_is_not_reannounced(database):
    conversation_id = await _handoff()
    await claim(conversation_id, Actor("slack", "U1", "Ana"), targets=[], now=T0)

    await timers.sweep_unclaimed(services_at(T0 + timedelta(minutes=20)))

    assert await _system_lines(conversation_id) == []


async def test_an_idle_claimed_conversation_is_wrapped_up_with_code_timeout(database):
    conversation_id = await _handoff()
    await claim(conversation_id, Actor("slack", "U1", "Ana"), targets=[], now=T0)

    assert await timers.sweep_idle(services_at(T0 + timedelta(minutes=29))) == 0
    assert await timers.sweep_idle(services_at(T0 + timedelta(minutes=31))) == 1

    conversation = await Conversation.get(id=conversation_id)
    assert (conversation.status, conversation.wrapup_code) == ("wrapped", "timeout")


async def test_customers_past_retention_are_anonymized(database):
    old = await create_customer(display_name="Old Customer", identities=[("email", "old@example.com")], now=T0)
    fresh_time = T0 + timedelta(days=729)
    fresh = await create_customer(display_name="Fresh Customer", identities=[("email", "new@example.com")], now=fresh_time)

    await timers.sweep_retention(services_at(T0 + timedelta(days=731)))

    assert (await Customer.get(id=old)).anonymized_at is not None
    assert (await Customer.get(id=old)).display_name != "Old Customer"
    assert (await Customer.get(id=fresh)).display_name == "Fresh Customer"


# --------------------------------------------------------------------------- retention counts from the last contact

DAY = timedelta(days=1)


async def _old_customer(name: str = "Dana Whitfield", email: str = "dana.w@example.com") -> int:
    """A profile nobody has edited since T0."""
    return await create_customer(display_name=name, identities=[("email", email)], email=email, now=T0)


async def _anonymized(customer_id: int) -> bool:
    return (await Customer.get(id=customer_id)).anonymized_at is not None


async def test_a_customer_with_an_old_profile_who_wrote_yesterday_is_never_anonymized(database):
    dana = await _old_customer()
    conversation_id = await _handoff()  # the handoff's email matches Dana: the conversation is hers
    assert (await Conversation.get(id=conversation_id)).customer_id == dana
    await actions.customer_message(services_at(T0 + 729 * DAY), conversation_id, "Any news on my parcel?")

    await timers.sweep_retention(services_at(T0 + 731 * DAY))

    assert not await _anonymized(dana)
    assert (await Customer.get(id=dana)).display_name == "Dana Whitfield"
    # Retention runs from that message: two years of silence after it, and she is anonymized.
    await timers.sweep_retention(services_at(T0 + (729 + 731) * DAY))
    assert await _anonymized(dana)


@pytest.mark.parametrize("contact", ["order", "survey"])
async def test_a_recent_order_or_survey_keeps_an_old_profile(database, contact):
    dana = await _old_customer()
    if contact == "order":
        await Order.create(customer_id=dana, number="SO-1", total=Decimal("12.00"), currency="USD", placed_at=T0 + 700 * DAY)
    else:
        await Survey.create(customer_id=dana, score=5, at=T0 + 700 * DAY)

    await timers.sweep_retention(services_at(T0 + 731 * DAY))
    assert not await _anonymized(dana)

    await timers.sweep_retention(services_at(T0 + (700 + 731) * DAY))
    assert await _anonymized(dana)


async def test_a_truly_idle_customer_is_anonymized_with_old_orders_surveys_and_conversations(database):
    dana = await _old_customer()
    conversation_id = await _handoff()
    await Order.create(customer_id=dana, number="SO-1", total=Decimal("12.00"), currency="USD", placed_at=T0)
    await Survey.create(customer_id=dana, score=2, at=T0)

    assert await timers.sweep_retention(services_at(T0 + 729 * DAY)) == 0
    assert await timers.sweep_retention(services_at(T0 + 731 * DAY)) == 1

    assert await _anonymized(dana)
    said = await Message.filter(conversation_id=conversation_id, sender="customer").values_list("text", flat=True)
    assert said and all("damaged" not in text for text in said)


async def test_the_sweep_gets_past_any_number_of_old_profiles_still_in_touch(database):
    """More active customers with old profiles than one batch holds, all ahead of the idle one."""
    active = []
    for n in range(storage_timers.BATCH + 20):
        customer_id = await create_customer(display_name=f"Active {n}", identities=[("email", f"a{n}@example.com")], now=T0)
        await Conversation.create(source="test", external_id=f"active-{n}", customer_id=customer_id,
                                  created_at=T0, last_activity_at=T0 + 700 * DAY)
        active.append(customer_id)
    idle = await create_customer(display_name="Idle Ida", identities=[("email", "ida@example.com")], now=T0)

    assert await timers.sweep_retention(services_at(T0 + 731 * DAY)) == 1

    assert await _anonymized(idle)
    assert await Customer.filter(id__in=active, anonymized_at__isnull=True).count() == len(active)


async def test_a_locked_customer_is_never_anonymized_by_retention(database):
    locked = await _old_customer("Locked Lee", "lee@example.com")
    await Customer.filter(id=locked).update(locked=True)

    await timers.sweep_retention(services_at(T0 + 731 * DAY))

    assert not await _anonymized(locked)


async def test_old_platform_event_ids_are_purged_and_recent_ones_kept(database):
    from storage.models import ProcessedEvent

    await ProcessedEvent.create(key="slack:Ev-old", at=T0)
    await ProcessedEvent.create(key="teams:recent", at=T0 + timedelta(days=3))

    await timers.sweep_event_ids(services_at(T0 + timedelta(days=4)))

    assert await ProcessedEvent.filter().values_list("key", flat=True) == ["teams:recent"]

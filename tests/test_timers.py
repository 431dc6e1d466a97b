"""SPEC 5 timers: unclaimed handoffs are re-announced then escalated, idle ones wrapped up, old data anonymized."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.core import timers
from bot.core.services import Services
from bot.core.intake import accept_handoff
from bot.domain import Actor
from bot.intake.generic import parse_generic_handoff
from bot.settings import Settings
from storage.conversations import claim
from storage.customers import create_customer
from bot.domain import parse_public_id
from storage.models import Conversation, Customer, Message
from tests.handoff_factory import make_generic_payload

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


def services_at(at: datetime) -> Services:
    return Services(settings=Settings(), clock=lambda: at, targets=["record"])


async def _handoff(conversation_id: str = "va-1") -> int:
    handoff = parse_generic_handoff(make_generic_payload(conversation_id=conversation_id))
    return parse_public_id((await accept_handoff(handoff, targets=["record"], now=T0)).conversation_public_id)


async def _system_lines(conversation_id: int) -> list[str]:
    return list(await Message.filter(conversation_id=conversation_id, sender="system").values_list("text", flat=True))


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


async def test_old_platform_event_ids_are_purged_and_recent_ones_kept(database):
    from storage.models import ProcessedEvent

    await ProcessedEvent.create(key="slack:Ev-old", at=T0)
    await ProcessedEvent.create(key="teams:recent", at=T0 + timedelta(days=3))

    await timers.sweep_event_ids(services_at(T0 + timedelta(days=4)))

    assert await ProcessedEvent.filter().values_list("key", flat=True) == ["teams:recent"]

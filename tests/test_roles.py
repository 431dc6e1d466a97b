"""SPEC 5 Roles: sections *and fields* per role. The thread card keeps the agent view (the whole channel
sees it); a private lookup shows what the caller's role may see; `route here` needs a supervisor."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

from bot.core import actions
from bot.core.services import Services
from bot.domain import Actor
from bot.settings import Settings, load_settings
from storage.customers import create_customer
from storage.engagement import recompute as recompute_engagement
from storage.models import Customer, Order, Route
from tests.slack_signing import block_action, slack_baton

NOW = datetime(2026, 11, 22, 10, 5, tzinfo=timezone.utc)
PHONE = "+14155550123"
AGENT, SUPERVISOR = "W111", "W333"


async def _dana() -> int:
    customer_id = await create_customer(
        display_name="Dana Whitfield",
        identities=[("email", "dana.w@example.com"), ("phone", PHONE)],
        email="dana.w@example.com",
        mobile_phone=PHONE,
        now=NOW,
    )
    await Order.create(customer_id=customer_id, number="SO-99812", total=Decimal("129.50"), currency="USD", placed_at=NOW)
    await recompute_engagement([customer_id])
    return customer_id


async def test_the_thread_card_shows_no_phone_and_no_lifetime_value_but_a_supervisors_lookup_does(database_url):
    async with slack_baton(database_url, role_assignments={SUPERVISOR: "supervisor"}) as world:
        await _dana()
        _, card_ts = await world.handoff(conversation_id="va-roles")

        card = next(c for c in world.slack.of("chat.postMessage") if c.response.get("ts") == card_ts)
        card_text = json.dumps(card.args)
        assert "Dana Whitfield" in card_text
        assert PHONE not in card_text and "129.50" not in card_text
        # Every section is one click away (Details), by the clicker's role: an agent's still has no phone.
        conv = next(a["value"] for b in card.args["blocks"] if b["type"] == "actions" for a in b["elements"]
                    if a["action_id"] == "baton_details")
        await world.interaction(block_action("baton_details", conv, user=AGENT, channel="C0HANDOFF", message_ts=card_ts))
        details = json.dumps(await world.opened_view("baton_details"))
        assert "dana.w@example.com" in details and "Orders" in details  # the engagement section, without the figure
        assert PHONE not in details
        assert "Lifetime value" not in details and "129.50" not in details

        await world.command("lookup dana.w@example.com", user=AGENT)
        agents = json.dumps(await world.response_containing("Dana Whitfield ("))
        assert PHONE not in agents and "129.50" not in agents

        await world.command("lookup dana.w@example.com", user=SUPERVISOR)
        supervisors = json.dumps((await world.slack.wait_for(lambda s: len(s.responses) >= 2 and s.responses))[1])
        assert PHONE in supervisors and "Lifetime value" in supervisors and "129.50" in supervisors


async def test_an_agent_may_not_route_a_queue_and_a_supervisor_may(database_url):
    async with slack_baton(database_url, role_assignments={SUPERVISOR: "supervisor"}) as world:
        await world.command("route here billing", channel="C0BILLING", user=AGENT)
        refused = json.dumps(await world.response_containing("may not"))
        assert "Your role (agent)" in refused
        assert not await Route.filter(queue="billing").exists()

        await world.command("route here billing", channel="C0BILLING", user=SUPERVISOR)
        await world.response_containing("billing queue")
        assert await Route.filter(target="slack", queue="billing", channel="C0BILLING").exists()


async def test_an_agent_saving_the_profile_form_keeps_the_phone_they_cannot_see(database):
    dana = await _dana()
    services = Services(settings=Settings(), clock=lambda: NOW, targets=[])
    agent = Actor("slack", AGENT, "Ana Agent", role="agent")
    form = (await actions.customer_view(services, agent, dana)).profile
    assert form.mobile_phone is None  # the form shows it blank

    await actions.save_profile(services, agent, dana, {"first_name": "Dana", "mobile_phone": form.mobile_phone or "",
                                                       "email": form.email})

    assert (await Customer.get(id=dana)).mobile_phone == PHONE
    # A number the agent types in (the customer gave a new one) is written.
    await actions.save_profile(services, agent, dana, {"mobile_phone": "+1 415 555 0199"})
    assert (await Customer.get(id=dana)).mobile_phone == "+14155550199"


async def test_hidden_fields_come_from_baton_toml_per_role(database, tmp_path):
    path = tmp_path / "baton.toml"
    path.write_text('[roles.supervisor]\nhidden_fields = ["email", "identities"]\n', encoding="utf-8")
    settings = load_settings({"BATON_CONFIG": str(path)})
    dana = await _dana()
    services = Services(settings=settings, clock=lambda: NOW, targets=[])

    summary = await actions.customer_view(services, Actor("slack", SUPERVISOR, role="supervisor"), dana)

    assert summary.profile.email is None and summary.identities == ()
    assert summary.profile.mobile_phone == PHONE and summary.engagement.lifetime_values == (("USD", Decimal("129.50")),)
    admin = await actions.customer_view(services, Actor("slack", "W9", role="admin"), dana)
    assert admin.profile.email == "dana.w@example.com" and len(admin.identities) == 2


async def test_the_identities_command_lists_no_phone_for_an_agent(database_url):
    async with slack_baton(database_url, role_assignments={SUPERVISOR: "supervisor"}) as world:
        dana = await _dana()

        await world.command(f"identities {dana}", user=AGENT)
        agents = json.dumps(await world.response_containing("Identities of Dana Whitfield"))
        assert "dana.w@example.com" in agents and PHONE not in agents

        await world.command(f"identities {dana}", user=SUPERVISOR)
        supervisors = json.dumps((await world.slack.wait_for(lambda s: len(s.responses) >= 2 and s.responses))[1])
        assert PHONE in supervisors

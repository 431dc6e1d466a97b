"""Card buttons (Action.Execute invokes and their Action.Submit fallback) and dialogs (task/fetch,
task/submit) over real HTTP; the concurrent-claim race; every card Baton sends is valid Adaptive Card 1.5."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from storage.customers import create_customer
from bot.domain import parse_public_id
from storage.models import Conversation, Customer, Note
from tests.cards_factory import assert_valid_card
from tests.handoff_factory import load_fixture, make_generic_payload
from tests.teams_activities import (
    ADMIN,
    ANA,
    BEN,
    card_action,
    invoke,
    post_activity,
    submit_message,
    teams_baton,
)
from tests.teams_activities import install_and_route, settle

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
CARD = "application/vnd.microsoft.card.adaptive"
ROLES = {"role_assignments": {ADMIN["id"]: "admin"}}


def _flat(card) -> str:
    return str(card).replace("\u2060", "")


async def _handoff(baton, connector, *, customers: int = 1, email: str = "dana.w@example.com") -> tuple[str, str, list[int]]:
    """Install, route, create `customers` customers sharing Dana's email, hand her off; (conv, thread, ids)."""
    await install_and_route(baton, connector)
    ids = [await create_customer(display_name=f"Dana Whitfield {i}" if i else "Dana Whitfield",
                                 identities=[("email", "dana.w@example.com")], email="dana.w@example.com", now=NOW)
           for i in range(customers)]
    status, body = await baton.post_signed("/handoff", make_generic_payload(
        customer={"name": "Dana Whitfield", "email": email}, case=None))
    assert status == 202
    created = await connector.wait_for(lambda c: c.ok("create_conversation"))
    return body["conversation"], created[-1].response["id"], ids


async def _invoke(baton, activity) -> dict:
    status, body = await post_activity(baton, activity)
    assert status == 200, body
    if body.get("type") == CARD:
        assert_valid_card(body["value"])
    task_card = ((body.get("task") or {}).get("value") or {}) if isinstance((body.get("task") or {}).get("value"), dict) else {}
    if task_card.get("card"):
        assert_valid_card(task_card["card"]["content"])
    return body


async def test_claim_answers_the_caller_with_the_refreshed_card(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, _ = await _handoff(baton, connector)
        answer = await _invoke(baton, card_action(connector.url, "claim", {"action": "claim", "conversation": conv},
                                                  conversation=thread))
        shape = load_fixture("teams_invoke_action_response.json")
        assert set(answer) == set(shape) and answer["statusCode"] == shape["statusCode"] and answer["type"] == shape["type"]
        assert "Ana Agent" in _flat(answer["value"])
        assert "Claim" not in [a.get("title") for a in answer["value"].get("actions", [])]


async def test_two_agents_claiming_at_once_one_wins_and_the_other_is_told_who(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, _ = await _handoff(baton, connector)
        data = {"action": "claim", "conversation": conv}
        answers = await asyncio.gather(*(
            _invoke(baton, card_action(connector.url, "claim", data, conversation=thread, user=user))
            for user in (ANA, BEN, ANA, BEN)
        ))
        cards = [a for a in answers if a["type"] == CARD]
        refusals = [a["value"] for a in answers if a["type"] != CARD]
        conversation = await Conversation.get(id=parse_public_id(conv)).select_related("claimed_by")

        assert len(cards) == 1
        assert len(refusals) == 3
        assert all(f"already claimed by {conversation.claimed_by.display_name}" in r for r in refusals)


async def test_add_note_opens_the_form_inline_and_saving_it_refreshes_the_card(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, _ = await _handoff(baton, connector)
        form = await _invoke(baton, card_action(connector.url, "add_note", {"action": "add_note", "conversation": conv},
                                                conversation=thread))
        assert any(e.get("id") == "text" for e in form["value"]["body"])
        submit = form["value"]["actions"][0]
        saved = await _invoke(baton, card_action(connector.url, submit["verb"], {**submit["data"], "text": "Sent a label"},
                                                 conversation=thread))
        assert saved["type"] == CARD
        assert "Sent a label" in _flat(saved["value"])
        assert await Note.filter(text="Sent a label").exists()


async def test_note_dialog_fetch_and_submit(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, _ = await _handoff(baton, connector)
        fetched = await _invoke(baton, invoke(connector.url, "task/fetch", {"data": {"form": "note", "conversation": conv}},
                                              conversation=thread))
        card = fetched["task"]["value"]["card"]["content"]
        data = card["actions"][0]["data"]
        assert card["actions"][0]["type"] == "Action.Submit"
        submitted = await _invoke(baton, invoke(connector.url, "task/submit", {"data": {**data, "text": "Dialog note"}},
                                                conversation=thread))
        assert submitted["task"] == {"type": "message", "value": f"Note added to #{conv}."}


async def test_wrap_up_dialog_lists_the_codes_and_wraps_up(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, _ = await _handoff(baton, connector)
        fetched = await _invoke(baton, invoke(connector.url, "task/fetch", {"data": {"form": "wrapup", "conversation": conv}},
                                              conversation=thread))
        card = fetched["task"]["value"]["card"]["content"]
        codes = next(e for e in card["body"] if e.get("id") == "code")["choices"]
        assert "resolved" in [c["value"] for c in codes]
        submitted = await _invoke(baton, invoke(connector.url, "task/submit", {"data": {
            **card["actions"][0]["data"], "code": "resolved", "notes": "done", "logs": "false"}}, conversation=thread))
        assert "wrapped up" in submitted["task"]["value"]
        assert (await Conversation.get(id=parse_public_id(conv))).status == "wrapped"


async def test_open_profile_shows_the_profile_form_and_saving_it_changes_the_customer(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, ids = await _handoff(baton, connector)
        form = await _invoke(baton, card_action(connector.url, "open_profile",
                                                {"action": "open_profile", "conversation": conv, "customer": ids[0]},
                                                conversation=thread))
        fields = {e["id"]: e.get("value") for e in form["value"]["body"] if e.get("type") == "Input.Text"}
        assert fields["email"] == "dana.w@example.com"
        fetched = await _invoke(baton, invoke(connector.url, "task/fetch", {"data": {"form": "profile", "customer": ids[0]}},
                                              conversation=thread))
        data = fetched["task"]["value"]["card"]["content"]["actions"][0]["data"]
        saved = await _invoke(baton, invoke(connector.url, "task/submit",
                                            {"data": {**data, **fields, "company": "Whitfield Outdoor"}}, conversation=thread))
        assert saved["task"]["value"] == "Profile saved."
        assert (await Customer.get(id=ids[0])).company == "Whitfield Outdoor"


async def test_a_multi_match_card_links_the_chosen_customer(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, ids = await _handoff(baton, connector, customers=2)
        linked = await _invoke(baton, card_action(connector.url, "link_customer",
                                                  {"action": "link_customer", "conversation": conv, "customer": str(ids[1])},
                                                  conversation=thread))
        assert linked["type"] == CARD
        assert (await Conversation.get(id=parse_public_id(conv))).customer_id == ids[1]


async def test_search_links_a_single_match_and_offers_a_picker_for_several(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, ids = await _handoff(baton, connector, customers=2, email="someone.else@example.com")
        picker = await _invoke(baton, card_action(connector.url, "search_customer",
                                                  {"action": "search_customer", "conversation": conv,
                                                   "query": "dana.w@example.com"}, conversation=thread))
        assert picker["type"] == CARD
        assert [c["value"] for c in picker["value"]["body"][1]["choices"]] == [str(i) for i in ids]
        linked = await _invoke(baton, card_action(connector.url, "search_customer",
                                                  {"action": "search_customer", "conversation": conv,
                                                   "query": str(ids[0])}, conversation=thread))
        assert linked["type"] == CARD
        assert (await Conversation.get(id=parse_public_id(conv))).customer_id == ids[0]


async def test_create_customer_on_a_no_data_card_creates_and_links_one(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, _ = await _handoff(baton, connector, customers=0)
        created = await _invoke(baton, card_action(connector.url, "create_customer",
                                                   {"action": "create_customer", "conversation": conv}, conversation=thread))
        assert created["type"] == CARD
        assert (await Conversation.get(id=parse_public_id(conv))).customer_id is not None


async def test_timeline_filter_and_show_customer_answer_with_cards(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, ids = await _handoff(baton, connector)
        filtered = await _invoke(baton, card_action(connector.url, "timeline_filter",
                                                    {"action": "timeline_filter", "conversation": conv, "customer": ids[0],
                                                     "filter": "case"}, conversation=thread))
        assert "showing case activities" in _flat(filtered["value"])
        shown = await _invoke(baton, card_action(connector.url, "show_customer", {"action": "show_customer",
                                                                                  "customer": str(ids[0])},
                                                 conversation="a:personal-29:ana-agent-0001"))
        assert "Dana Whitfield" in _flat(shown["value"])


async def test_merge_and_anonymize_confirmations_run_as_dialogs(database_url):
    async with teams_baton(database_url, **ROLES) as (baton, connector):
        conv, thread, ids = await _handoff(baton, connector)
        other = await create_customer(display_name="Dana Dup", identities=[("phone", "+14155550199")], now=NOW)
        fetched = await _invoke(baton, invoke(connector.url, "task/fetch", {"data": {
            "form": "merge_confirm", "survivor": ids[0], "merged": other}}, conversation=thread, user=ADMIN))
        data = fetched["task"]["value"]["card"]["content"]["actions"][0]["data"]
        merged = await _invoke(baton, invoke(connector.url, "task/submit", {"data": data}, conversation=thread, user=ADMIN))
        assert merged["task"]["value"].startswith("Merged Dana Dup")

        fetched = await _invoke(baton, invoke(connector.url, "task/fetch", {"data": {
            "form": "anonymize_confirm", "customer": ids[0]}}, conversation=thread, user=ADMIN))
        data = fetched["task"]["value"]["card"]["content"]["actions"][0]["data"]
        done = await _invoke(baton, invoke(connector.url, "task/submit", {"data": data}, conversation=thread, user=ADMIN))
        assert "anonymized" in done["task"]["value"]


async def test_an_agent_without_the_role_is_refused_in_the_dialog(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, ids = await _handoff(baton, connector)
        refused = await _invoke(baton, invoke(connector.url, "task/fetch", {"data": {
            "form": "anonymize_confirm", "customer": ids[0]}}, conversation=thread))
        assert "may not anonymize" in refused["task"]["value"]


async def test_the_action_submit_fallback_claims_and_answers_in_the_thread(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, _ = await _handoff(baton, connector)
        status, _ = await post_activity(baton, submit_message(connector.url, {"action": "claim", "conversation": conv},
                                                              conversation=thread))
        await settle(baton)
        answer = [c for c in connector.ok("reply") if c.conversation_id == thread]
        assert status == 200
        assert answer and "Ana Agent" in _flat(answer[-1].cards)
        assert (await Conversation.get(id=parse_public_id(conv))).status == "claimed"


async def test_every_card_baton_sent_is_valid_adaptive_card_1_5_under_40_kb(database_url):
    async with teams_baton(database_url) as (baton, connector):
        conv, thread, ids = await _handoff(baton, connector, customers=2)
        await _invoke(baton, card_action(connector.url, "claim", {"action": "claim", "conversation": conv},
                                         conversation=thread))
        await _invoke(baton, card_action(connector.url, "link_customer", {"action": "link_customer", "conversation": conv,
                                                                          "customer": ids[0]}, conversation=thread))
        await connector.wait_for(lambda c: [u for u in c.ok("update")
                                            if "Ana Agent" in _flat(u.cards) and "Matched customer" in _flat(u.cards)])
        cards = connector.all_cards()
        assert len(cards) >= 2
        for card in cards:
            assert_valid_card(card)


async def test_open_full_profile_answers_the_clicker_with_action_openurl_to_their_own_signed_link(database_url):
    from urllib.parse import urlsplit

    from tests.page_helpers import PAGES, open_link

    async with teams_baton(database_url, **PAGES) as (baton, connector):
        conv, thread, ids = await _handoff(baton, connector)
        card = (await connector.wait_for(lambda c: c.ok("create_conversation")))[-1].body
        answer = await _invoke(baton, card_action(connector.url, "open_page",
                                                  {"action": "open_page", "conversation": conv, "customer": ids[0]},
                                                  conversation=thread))
        opens = [a for a in answer["value"]["actions"] if a["type"] == "Action.OpenUrl"]
        assert [a["title"] for a in opens] == ["Open full profile"]
        url = urlsplit(opens[0]["url"])
        assert f"{url.scheme}://{url.netloc}" == PAGES["public_url"] and url.path == f"/customers/{ids[0]}"
        status, cookie, _ = await open_link(baton, f"{url.path}?{url.query}")
        assert status == 303 and cookie
        assert "open_page" in str(card)  # the thread card offers it to everyone; the link is made per click

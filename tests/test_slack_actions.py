"""Card buttons and the modals they open, over signed HTTP into the real app and out to the fake Slack."""

from __future__ import annotations

import asyncio
import json

from bot.cards.actions import ActionPayload
from storage.customers import create_customer
from storage.models import Conversation, Customer, Note
from tests.cards_factory import assert_valid_view
from tests.slack_signing import block_action, checked, click, selected, slack_baton, view_submission


async def test_claim_is_acknowledged_at_once_and_updates_the_card(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-claim")

        status, _ = await click(world, f"c{conversation_id}", "claim", user="W111", card_ts=card_ts)

        assert status == 200
        await world.ephemeral_containing("W111", "You claimed")
        updates = await world.card_updates(card_ts, 1)
        assert "Ana Agent" in json.dumps(updates[-1].args["blocks"])


async def test_two_agents_clicking_claim_at_once_one_wins_and_the_other_is_told_who(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-race")

        statuses = await asyncio.gather(
            click(world, f"c{conversation_id}", "claim", user="W111", card_ts=card_ts),
            click(world, f"c{conversation_id}", "claim", user="W222", card_ts=card_ts),
        )

        assert [s for s, _ in statuses] == [200, 200]
        answers = await world.slack.wait_for(
            lambda s: len(e := s.of("chat.postEphemeral")) >= 2 and {c.args["user"]: c.args["text"] for c in e})
        winners = [u for u, t in answers.items() if "You claimed" in t]
        losers = [u for u, t in answers.items() if "already claimed by" in t]
        assert len(winners) == 1 and len(losers) == 1
        winner_name = {"W111": "Ana Agent", "W222": "Ben Backup"}[winners[0]]
        assert winner_name in answers[losers[0]]
        conversation = await Conversation.get(id=conversation_id).select_related("claimed_by")
        assert conversation.claimed_by.platform_user_id == winners[0]


async def test_add_note_opens_a_modal_whose_submission_adds_the_note_and_updates_the_card(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-note")
        await click(world, f"c{conversation_id}", "add_note", user="W111", card_ts=card_ts)
        view = await world.opened_view("baton_note_modal")

        status, body = await world.interaction(view_submission(view, {"text": "called back, sent a label"}, user="W111"))

        assert status == 200 and not body
        await world.ephemeral_containing("W111", "Note added")
        assert await Note.filter(conversation_id=conversation_id, text="called back, sent a label").exists()
        await world.card_updates(card_ts, 1)


async def test_an_empty_note_is_refused_inside_the_modal(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-empty")
        await click(world, f"c{conversation_id}", "add_note", user="W111", card_ts=card_ts)
        view = await world.opened_view("baton_note_modal")

        status, body = await world.interaction(view_submission(view, {"text": "   "}, user="W111"))

        assert status == 200
        assert body["response_action"] == "errors" and "text" in body["errors"]


async def test_wrap_up_modal_offers_the_configured_codes_and_wraps_up_without_logs(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-wrap")
        await click(world, f"c{conversation_id}", "wrap_up", user="W111", card_ts=card_ts)
        view = await world.opened_view("baton_wrapup_modal")
        codes = [o["value"] for b in view["blocks"] if b.get("block_id") == "code" for o in b["element"]["options"]]
        assert "resolved" in codes and "follow_up" in codes

        await world.interaction(view_submission(view, {"code": selected("resolved"), "notes": "sent replacement"}, user="W111"))

        await world.ephemeral_containing("W111", "wrapped up as Resolved")
        conversation = await Conversation.get(id=conversation_id)
        assert conversation.status == "wrapped" and conversation.wrapup_code == "resolved"
        await world.card_updates(card_ts, 1)
        assert not [c for c in world.slack.of("chat.postMessage", thread_ts=card_ts) if "Interaction log" in c.args["text"]]


async def test_wrap_up_and_see_logs_posts_the_interaction_log_in_the_thread(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-logs")
        await click(world, f"c{conversation_id}", "wrap_up", user="W111", card_ts=card_ts)
        view = await world.opened_view("baton_wrapup_modal")

        await world.interaction(view_submission(view, {"code": selected("resolved"), "logs": checked("logs")}, user="W111"))

        log_post = await world.slack.wait_for(lambda s: next(
            (c for c in s.of("chat.postMessage", thread_ts=card_ts) if "Interaction log" in c.args["text"]), None))
        assert "my parcel arrived damaged" in json.dumps(log_post.args["blocks"])


async def test_link_select_on_a_multi_match_card_links_the_chosen_customer(database_url):
    async with slack_baton(database_url) as world:
        from datetime import datetime, timezone

        now = datetime.now(timezone.utc)
        first = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")], now=now)
        second = await create_customer(display_name="Dana W. (work)", identities=[("email", "dana.w@example.com")], now=now)
        conversation_id, card_ts = await world.handoff(conversation_id="va-multi")
        assert "2 customers" in json.dumps(world.slack.of("chat.postMessage")[0].args["blocks"])

        value = ActionPayload(conversation=f"c{conversation_id}", customer=second).to_value()
        await world.interaction(block_action("baton_link_customer", value, user="W111", channel="C0HANDOFF",
                                             message_ts=card_ts, kind="static_select"))

        await world.ephemeral_containing("W111", "now linked to Dana W. (work)")
        assert (await Conversation.get(id=conversation_id)).customer_id == second
        await world.card_updates(card_ts, 1)
        assert first != second


async def test_create_customer_from_a_no_data_card(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-new")

        await click(world, f"c{conversation_id}", "create_customer", user="W111", card_ts=card_ts)

        await world.ephemeral_containing("W111", "Created customer Dana Whitfield")
        assert (await Conversation.get(id=conversation_id)).customer_id is not None


async def test_search_and_link_modal_links_the_one_match(database_url):
    async with slack_baton(database_url) as world:
        from datetime import datetime, timezone

        found = await create_customer(display_name="Rita Other", identities=[("email", "rita@example.com")],
                                      now=datetime.now(timezone.utc))
        conversation_id, card_ts = await world.handoff(conversation_id="va-search")
        await click(world, f"c{conversation_id}", "search_customer", user="W111", card_ts=card_ts)
        view = await world.opened_view("baton_search_modal")

        await world.interaction(view_submission(view, {"query": "rita@example.com"}, user="W111"))

        await world.ephemeral_containing("W111", "now linked to Rita Other")
        assert (await Conversation.get(id=conversation_id)).customer_id == found


async def test_open_profile_shows_the_fields_and_a_submission_saves_them(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-profile")
        await click(world, f"c{conversation_id}", "create_customer", user="W111", card_ts=card_ts)
        await world.ephemeral_containing("W111", "Created customer")
        customer_id = (await Conversation.get(id=conversation_id)).customer_id

        await click(world, f"c{conversation_id}", "open_profile", user="W111", card_ts=card_ts, customer=customer_id)
        view = await world.opened_view("baton_profile_modal")
        block_ids = [b.get("block_id") for b in view["blocks"]]
        for name in ("first_name", "last_name", "company", "gender", "email", "mobile_phone", "home_phone", "tags", "notes"):
            assert name in block_ids

        values = {"first_name": "Dana", "last_name": "Whitfield", "company": "Acme Ltd", "tags": "vip, damaged",
                  "email": "dana.w@example.com", "mobile_phone": "+1 415 555 0123"}
        status, body = await world.interaction(view_submission(view, values, user="W111"))

        assert status == 200 and not body
        await world.ephemeral_containing("W111", "Profile saved")
        customer = await Customer.get(id=customer_id)
        assert customer.company == "Acme Ltd" and customer.tags == ["vip", "damaged"]


async def test_a_locked_profile_opens_read_only_and_refuses_edits(database_url):
    async with slack_baton(database_url) as world:
        from datetime import datetime, timezone

        customer_id = await create_customer(display_name="Lou Locked", identities=[("email", "lou@example.com")],
                                            now=datetime.now(timezone.utc))
        await Customer.filter(id=customer_id).update(locked=True)
        conversation_id, card_ts = await world.handoff(conversation_id="va-locked", customer={"email": "lou@example.com"})

        await click(world, f"c{conversation_id}", "open_profile", user="W111", card_ts=card_ts, customer=customer_id)

        view = await world.opened_view("baton_info_modal")
        assert "submit" not in view and "locked" in json.dumps(view)


async def test_a_timeline_filter_button_answers_with_an_ephemeral_filtered_summary(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-filter")
        await click(world, f"c{conversation_id}", "create_customer", user="W111", card_ts=card_ts)
        await world.ephemeral_containing("W111", "Created customer")

        await click(world, f"c{conversation_id}", "timeline_filter", user="W111", card_ts=card_ts, filter="case")

        answer = await world.slack.wait_for(lambda s: next(
            (c for c in s.of("chat.postEphemeral", user="W111") if c.args.get("blocks") and
             any(b.get("type") == "header" for b in c.args["blocks"])), None))
        assert "Timeline" in json.dumps(answer.args["blocks"])


async def test_a_search_with_several_matches_offers_a_pick_list_that_links_the_chosen_one(database_url):
    async with slack_baton(database_url) as world:
        from datetime import datetime, timezone

        now = datetime.now(timezone.utc)
        await create_customer(display_name="Rita Other", identities=[("email", "rita@example.com")], now=now)
        chosen = await create_customer(display_name="Rita Another", identities=[("email", "rita.a@example.com")], now=now)
        conversation_id, card_ts = await world.handoff(conversation_id="va-pick")
        await click(world, f"c{conversation_id}", "search_customer", user="W111", card_ts=card_ts)
        search = await world.opened_view("baton_search_modal")

        status, answer = await world.interaction(view_submission(search, {"query": "Rita"}, user="W111"))

        assert status == 200 and answer["response_action"] == "update"
        pick = answer["view"]
        assert pick["callback_id"] == "baton_pick_modal"
        await world.interaction(view_submission(pick, {"customer": selected(str(chosen))}, user="W111"))
        await world.ephemeral_containing("W111", "now linked to Rita Another")


async def test_a_failure_on_batons_side_gets_a_generic_apology_and_is_logged(database_url, caplog):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-broken")
        world.slack.fail_next(1, status=500, method="views.open")

        await click(world, f"c{conversation_id}", "add_note", user="W111", card_ts=card_ts)

        said = await world.ephemeral_containing("W111", "problem on Baton")
        assert "internal_error" not in said and "Traceback" not in said
        assert any("card action add_note" in r.getMessage() for r in caplog.records)


async def test_a_message_in_the_apps_direct_messages_is_a_command(database_url):
    async with slack_baton(database_url) as world:
        event = {"type": "message", "channel_type": "im", "channel": "D0W111", "user": "W111", "text": "sessions",
                 "ts": world.next_ts(), "event_ts": world.next_ts()}

        await world.event(event)

        answer = await world.slack.wait_for(lambda s: next(iter(s.of("chat.postMessage", channel="D0W111")), None))
        assert "open conversations" in answer.args["text"]


async def test_posts_to_one_channel_are_paced_with_a_short_burst():
    import time

    from bot.slack.poster import Pace

    pace = Pace(rate=20.0, burst=2)
    started = time.monotonic()
    for _ in range(4):
        await pace.wait("C1")
    await pace.wait("C2")

    assert time.monotonic() - started >= 2 / 20.0 * 0.9


async def test_details_opens_every_section_in_a_modal_for_the_clicker_and_is_audited(database_url):
    from storage.models import AuditEvent

    from datetime import datetime, timezone

    async with slack_baton(database_url) as world:
        dana = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                                     email="dana.w@example.com", now=datetime.now(timezone.utc))
        conversation_id, card_ts = await world.handoff(conversation_id="va-details")
        card = next(c for c in world.slack.of("chat.postMessage") if c.response.get("ts") == card_ts)
        assert "dana.w@example.com" not in json.dumps(card.args["blocks"])  # the first view is short

        status, _ = await click(world, f"c{conversation_id}", "details", user="W111", card_ts=card_ts, customer=dana)

        assert status == 200
        view = await world.opened_view("baton_details")
        assert_valid_view(view)
        assert "dana.w@example.com" in json.dumps(view)  # the profile section, one click away
        viewed = await AuditEvent.filter(action="view", customer_id=dana).values_list("actor", flat=True)
        assert viewed == ["slack:W111"]


async def test_a_timeline_filter_inside_the_details_modal_updates_that_modal(database_url):
    async with slack_baton(database_url) as world:
        conversation_id, card_ts = await world.handoff(conversation_id="va-details-filter")
        await click(world, f"c{conversation_id}", "details", user="W111", card_ts=card_ts)
        await world.opened_view("baton_details")

        payload = block_action("baton_details_page.case",
                               ActionPayload(conversation=f"c{conversation_id}", filter="case", page=0).to_value(),
                               user="W111", channel="C0HANDOFF", message_ts=card_ts)
        payload.pop("channel", None)
        payload["container"] = {"type": "view", "view_id": "V0DETAILS"}
        payload["view"] = {"id": "V0DETAILS", "callback_id": "baton_details"}
        await world.interaction(payload)

        updated = await world.slack.wait_for(lambda s: s.of("views.update"))
        assert updated[0].args["view_id"] == "V0DETAILS"
        assert_valid_view(updated[0].args["view"])
        assert "case" in json.dumps(updated[0].args["view"]).lower()


async def test_open_full_profile_answers_the_clicker_alone_with_a_url_button_to_their_signed_link(database_url):
    from urllib.parse import urlsplit

    from tests.page_helpers import PAGES, open_link

    async with slack_baton(database_url, **PAGES) as world:
        from datetime import datetime, timezone

        await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                              now=datetime.now(timezone.utc))
        conversation_id, card_ts = await world.handoff(conversation_id="va-page")
        card = world.slack.of("chat.postMessage")
        customer_id = (await Conversation.get(id=conversation_id)).customer_id
        assert customer_id and "baton_open_page" in json.dumps([c.args.get("blocks") for c in card])

        await click(world, f"c{conversation_id}", "open_page", user="W111", card_ts=card_ts, customer=customer_id)

        answer = await world.slack.wait_for(lambda s: next((c for c in s.of("chat.postEphemeral") if c.args["user"] == "W111"
                                                            and "baton_page_link" in json.dumps(c.args["blocks"])), None))
        button = next(b for block in answer.args["blocks"] if block["type"] == "actions" for b in block["elements"])
        url = urlsplit(button["url"])
        assert url.path == f"/customers/{customer_id}"
        status, cookie, _ = await open_link(world.baton, f"{url.path}?{url.query}")
        assert status == 303 and cookie

"""SPEC 5, complete privacy: anonymize reaches every copy Baton holds — customers merged into this one
(so a merge undo brings nothing back), wrap-up notes, case comments and titles, interaction logs posted
with `--logs` (redacted in the thread like the customer's own lines) — and export holds everything."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from storage import cases
from storage.customers import create_customer
from storage.models import Activity, Case, CaseComment, Conversation, Customer, Identity, Message, Note
from tests.handoff_factory import CUSTOMER_SAYS
from tests.slack_signing import slack_baton, view_submission
from tests.test_privacy_follows_the_data import _outbox_idle

ADMIN = "W333"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
SECRET_NOTE = "Dana lives at 12 Elm Street"


async def _arrange(world) -> dict:
    dana = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                                 email="dana.w@example.com", now=NOW)
    dan = await create_customer(display_name="Dan Whitfield", identities=[("email", "dan.whitfield@example.com")],
                                email="dan.whitfield@example.com", mobile_phone="+14155550188", now=NOW)
    case = await cases.open_case(title="Dana Whitfield's damaged parcel", customer_id=dana, owner="Ana", now=NOW)
    conversation_id, card_ts = await world.handoff(conversation_id="va-everything", case={"number": case.number})
    await world.command(f"comment {case.number} {SECRET_NOTE}", user=ADMIN, name="comment")
    await world.response_containing("Internal comment added")
    await world.command(f"merge {dana} {dan}", user=ADMIN)
    await world.interaction(view_submission(await world.opened_view("baton_merge_modal"), {}, user=ADMIN))
    await world.ephemeral_containing(ADMIN, "Merged Dan Whitfield")
    await world.command(f"wrapup #c{conversation_id} resolved {SECRET_NOTE} --logs", user=ADMIN, name="wrapup")
    log = await world.slack.wait_for(lambda s: next((c for c in s.of("chat.postMessage", thread_ts=card_ts)
                                                     if "Interaction log" in json.dumps(c.args)), None))
    assert CUSTOMER_SAYS in json.dumps(log.args)
    return {"dana": dana, "dan": dan, "case": case.number, "conv": conversation_id, "card_ts": card_ts,
            "log_ts": log.response["ts"]}


async def _anonymize(world, customer: int) -> None:
    await world.command(f"anonymize {customer}", user=ADMIN, name="anonymize")
    await world.interaction(view_submission(await world.opened_view("baton_anonymize_modal"), {}, user=ADMIN))
    await world.ephemeral_containing(ADMIN, "is anonymized")


async def _everything_stored() -> str:
    rows = [
        await Customer.all().values(), await Identity.all().values("value"), await Message.all().values("text", "sender_name"),
        await Note.all().values("text"), await Case.all().values("title"), await CaseComment.all().values("text"),
        await Conversation.all().values("wrapup_notes", "customer_input", "prechat", "last_customer_line"),
        await Activity.all().values("title", "detail"),
    ]
    return json.dumps(rows, default=str)


async def test_anonymize_reaches_merged_customers_wrapup_notes_case_comments_titles_and_posted_logs(database_url):
    async with slack_baton(database_url) as world:
        ctx = await _arrange(world)
        assert "dan.whitfield@example.com" in await _everything_stored()

        await _anonymize(world, ctx["dana"])

        stored = await _everything_stored()
        for personal in ("Dana", "Whitfield", "dana.w@example.com", "dan.whitfield@example.com", "+14155550188",
                         "Elm Street", CUSTOMER_SAYS):
            assert personal not in stored, personal
        assert ctx["case"] in stored  # case numbers remain
        # The interaction log already in the thread goes like the customer's own lines.
        await world.slack.wait_for(lambda s: any(c.args.get("ts") == ctx["log_ts"] for c in s.of("chat.delete")), timeout=20)
        await _outbox_idle()
        assert ("C0HANDOFF", ctx["log_ts"]) not in world.slack.messages


async def test_merge_undo_after_an_anonymization_restores_no_personal_data(database_url):
    async with slack_baton(database_url) as world:
        ctx = await _arrange(world)
        await _anonymize(world, ctx["dana"])

        await world.command(f"merge undo {ctx['dan']}", user=ADMIN, name="undo")

        answer = json.dumps(await world.response_containing("Cannot undo"))
        assert "anonymized" in answer
        dan = await Customer.get(id=ctx["dan"])
        assert dan.merged_into_id == ctx["dana"] and dan.anonymized_at is not None
        assert (dan.email, dan.mobile_phone, dan.first_name) == (None, None, None)
        assert "Whitfield" not in dan.display_name


async def test_export_holds_everything_spec_5_lists(database_url):
    async with slack_baton(database_url) as world:
        ctx = await _arrange(world)

        await world.command(f"export {ctx['dana']}", user=ADMIN, name="export")

        await world.response_containing("Sent to your direct messages")
        document = json.loads(next(iter(world.slack.uploads.values())))
        assert set(document) >= {"customer", "identities", "conversations", "cases", "notes", "orders", "surveys",
                                 "timeline", "audit", "merged_customers"}
        assert document["merged_customers"] == [ctx["dan"]]
        assert {i["value"] for i in document["identities"]} >= {"dana.w@example.com", "dan.whitfield@example.com"}
        conversation = next(c for c in document["conversations"] if c["id"] == ctx["conv"])
        assert CUSTOMER_SAYS in [m["text"] for m in conversation["messages"]]
        assert conversation["wrapup_notes"] == SECRET_NOTE
        case = next(c for c in document["cases"] if c["number"] == ctx["case"])
        assert [c["text"] for c in case["comments"]] == [SECRET_NOTE]
        assert {"merge", "lookup"} & {a["action"] for a in document["audit"]} == {"merge"}
        assert any(entry["kind"] == "conversation" for entry in document["timeline"])

"""`POST /handoff` over real HTTP into the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time

from bot.signing import sign
from bot.domain import parse_public_id
from storage.models import Conversation, Message, OutboxJob
from tests.handoff_factory import make_generic_payload
from tests.harness import WEBHOOK_SECRET, WEBHOOK_TOKEN, running_baton


async def test_a_signed_handoff_is_accepted_and_stored_before_the_answer(database_url):
    async with running_baton(database_url) as baton:
        status, body = await baton.post_signed("/handoff", make_generic_payload(conversation_id="va-1"))

        assert status == 202
        assert body["status"] == "queued"
        conversation = await Conversation.get(id=parse_public_id(body["conversation"]))
        assert conversation.external_id == "va-1"
        assert await Message.filter(conversation_id=conversation.id).count() == 2
        assert await OutboxJob.filter(conversation_id=conversation.id, target="record").exists()


async def test_a_bearer_token_is_accepted_instead_of_a_signature(database_url):
    async with running_baton(database_url) as baton:
        body = json.dumps(make_generic_payload()).encode()
        status, answer = await baton.post_raw(
            "/handoff", body, {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}
        )
        assert status == 202, answer


async def test_an_unsigned_request_is_refused_with_a_json_error(database_url):
    async with running_baton(database_url) as baton:
        status, body = await baton.post_raw("/handoff", json.dumps(make_generic_payload()).encode(), {})
        assert status == 401
        assert body["error"] == "bad_signature"
        assert await Conversation.all().count() == 0


async def test_a_wrong_bearer_token_is_refused(database_url):
    async with running_baton(database_url) as baton:
        status, body = await baton.post_raw(
            "/handoff", json.dumps(make_generic_payload()).encode(), {"Authorization": "Bearer nope"}
        )
        assert status == 401


async def test_a_signature_made_with_another_secret_is_refused(database_url):
    async with running_baton(database_url) as baton:
        status, body = await baton.post_signed("/handoff", make_generic_payload(), secret="not-the-secret")
        assert status == 401
        assert "signature" in body["detail"]


async def test_a_body_changed_after_signing_is_refused(database_url):
    async with running_baton(database_url) as baton:
        signed = json.dumps(make_generic_payload(conversation_id="a")).encode()
        sent = json.dumps(make_generic_payload(conversation_id="b")).encode()
        now = int(time.time())
        headers = {"X-Baton-Timestamp": str(now), "X-Baton-Signature": sign(WEBHOOK_SECRET, now, signed)}
        status, _ = await baton.post_raw("/handoff", sent, headers)
        assert status == 401


async def test_a_stale_signature_outside_the_window_is_refused(database_url):
    async with running_baton(database_url) as baton:
        status, body = await baton.post_signed("/handoff", make_generic_payload(), timestamp=int(time.time()) - 301)
        assert status == 401
        assert "300-second" in body["detail"]


async def test_replaying_the_same_handoff_answers_200_with_the_same_id_and_changes_nothing(database_url):
    async with running_baton(database_url) as baton:
        payload = make_generic_payload(conversation_id="va-replay")
        first_status, first = await baton.post_signed("/handoff", payload)
        again_status, again = await baton.post_signed("/handoff", payload)

        assert (first_status, again_status) == (202, 200)
        assert again["conversation"] == first["conversation"]
        assert await Conversation.all().count() == 1
        assert await Message.all().count() == len(payload["transcript"])


async def test_later_transcript_lines_for_an_open_conversation_are_appended(database_url):
    async with running_baton(database_url) as baton:
        payload = make_generic_payload(conversation_id="va-grow")
        await baton.post_signed("/handoff", payload)
        payload["transcript"].append({"from": "customer", "text": "are you there?", "at": "2026-11-22T10:03:00Z"})
        status, body = await baton.post_signed("/handoff", payload)

        assert status == 200
        texts = await Message.all().order_by("id").values_list("text", flat=True)
        assert texts[-1] == "are you there?"
        assert len(texts) == len(payload["transcript"])


async def test_concurrent_identical_handoffs_create_exactly_one_conversation(database_url):
    async with running_baton(database_url) as baton:
        payload = make_generic_payload(conversation_id="va-race")
        results = await asyncio.gather(*(baton.post_signed("/handoff", payload) for _ in range(8)))

        statuses = sorted(status for status, _ in results)
        assert statuses.count(202) == 1 and statuses.count(200) == 7
        assert len({body["conversation"] for _, body in results}) == 1
        assert await Conversation.all().count() == 1
        assert await Message.all().count() == len(payload["transcript"])


async def test_malformed_json_gets_a_400_json_error(database_url):
    async with running_baton(database_url) as baton:
        status, body = await baton.post_signed("/handoff", b'{"source": "x", ')
        assert status == 400
        assert body["error"] == "malformed"
        assert "Traceback" not in json.dumps(body)


async def test_a_body_that_is_not_an_object_gets_a_400(database_url):
    async with running_baton(database_url) as baton:
        status, body = await baton.post_signed("/handoff", b"[1, 2, 3]")
        assert status == 400


async def test_invalid_utf8_gets_a_400(database_url):
    async with running_baton(database_url) as baton:
        status, body = await baton.post_signed("/handoff", b'{"source": "\xff\xfe"}')
        assert status == 400
        assert body["error"] == "malformed"


async def test_a_missing_required_field_gets_a_422_naming_it(database_url):
    async with running_baton(database_url) as baton:
        payload = make_generic_payload()
        del payload["source"]
        status, body = await baton.post_signed("/handoff", payload)
        assert status == 422
        assert body["field"] == "source"


async def test_a_bad_transcript_date_gets_a_422_naming_the_line(database_url):
    async with running_baton(database_url) as baton:
        payload = make_generic_payload()
        payload["transcript"][1]["at"] = "yesterday-ish"
        status, body = await baton.post_signed("/handoff", payload)
        assert status == 422
        assert body["field"] == "transcript[1].at"


async def test_a_body_over_one_mebibyte_gets_a_413_and_earlier_work_is_kept(database_url):
    async with running_baton(database_url) as baton:
        accepted_status, accepted = await baton.post_signed("/handoff", make_generic_payload(conversation_id="keep"))
        huge = make_generic_payload(conversation_id="huge")
        huge["bot"]["agent_message"] = "x" * (1024 * 1024 + 10)
        status, body = await baton.post_signed("/handoff", huge)

        assert status == 413
        assert body["error"] == "body_too_large"
        assert accepted_status == 202
        assert await Conversation.filter(external_id="keep").exists()
        assert not await Conversation.filter(external_id="huge").exists()


async def test_unknown_paths_answer_json_404(database_url):
    async with running_baton(database_url) as baton:
        status, body = await baton.get("/nope")
        assert status == 404
        assert json.loads(body)["error"] == "not_found"


async def test_handoffs_are_refused_when_no_secret_or_token_is_configured(database_url):
    async with running_baton(database_url, webhook_secret=None, webhook_token=None) as baton:
        status, body = await baton.post_raw("/handoff", json.dumps(make_generic_payload()).encode(), {})
        assert status == 503
        assert body["error"] == "not_configured"


async def test_health_readiness_and_metrics_answer(database_url):
    async with running_baton(database_url) as baton:
        await baton.post_signed("/handoff", make_generic_payload())
        assert (await baton.get("/healthz"))[0] == 200
        assert (await baton.get("/readyz"))[0] == 200
        status, text = await baton.get("/metrics")
        assert status == 200
        assert 'baton_handoffs_total{outcome="created",source_format="generic"} 1.0' in text
        assert 'baton_outbox_pending{target="record"} 1.0' in text


async def test_a_burst_of_handoffs_is_stored_completely_with_replays_mixed_in(database_url):
    async with running_baton(database_url) as baton:
        await baton.post_signed("/handoff", make_generic_payload(conversation_id="old"))
        payloads = [make_generic_payload(conversation_id=f"burst-{n}") for n in range(24)]
        payloads += [make_generic_payload(conversation_id="old"), make_generic_payload(conversation_id="burst-3")]

        results = await asyncio.gather(*(baton.post_signed("/handoff", p) for p in payloads))

        statuses = [status for status, _ in results]
        assert statuses.count(202) == 24 and statuses.count(200) == 2
        assert await Conversation.all().count() == 25
        lines = len(make_generic_payload()["transcript"])
        assert await Message.all().count() == 25 * lines
        assert await OutboxJob.all().count() == 25 * 2  # record + source

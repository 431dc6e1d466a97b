"""A customer-page link pasted in Slack unfurls (link_shared → chat.unfurl, PROTOCOLS 8) into what the
`agent` role may see, since the whole channel sees it (SPEC 4.4)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from storage.cases import open_case
from storage.customers import create_customer
from storage.models import Conversation
from tests.page_helpers import PAGES, PUBLIC_URL
from tests.slack_signing import slack_baton

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


def link_shared(*urls: str, with_unfurl_id: bool = True) -> dict:
    event = {"type": "link_shared", "channel": "C0HANDOFF", "user": "W111", "message_ts": "1700000100.000100",
             "source": "conversations_history", "links": [{"domain": "baton.example.com", "url": u} for u in urls]}
    if with_unfurl_id:
        event["unfurl_id"] = "Uxxxxxxx-909b5454-75f8-4ac4-b325-1b40e230bbd8"
    return event


async def _dana() -> int:
    customer = await create_customer(display_name="Dana <b>Whitfield</b>", identities=[("phone", "+14155550123")],
                                     now=NOW, mobile_phone="+14155550123", company="Acme")
    await Conversation.create(source="t", external_id="u", customer_id=customer, last_activity_at=NOW, created_at=NOW)
    return customer


async def test_a_pasted_page_link_unfurls_into_name_open_cases_and_last_contact(database_url):
    async with slack_baton(database_url, **PAGES) as world:
        customer = await _dana()
        await open_case(customer_id=customer, title="Damaged parcel", owner="Ana", now=NOW)
        url = f"{PUBLIC_URL}/customers/{customer}?t=whatever#conversation-c1"

        status, _ = await world.event(link_shared(url, "https://elsewhere.example/x"))

        call = await world.slack.wait_for(lambda s: next(iter(s.of("chat.unfurl")), None))
    assert status == 200
    assert call.args["unfurl_id"] and call.args["source"] == "conversations_history"
    unfurls = call.args["unfurls"] if isinstance(call.args["unfurls"], dict) else json.loads(call.args["unfurls"])
    assert list(unfurls) == [url]
    text = json.dumps(unfurls[url]["blocks"])
    assert "Dana &lt;b&gt;Whitfield&lt;/b&gt;" in text and "Open cases\\n1" in text and "Last contact" in text
    assert "+14155550123" not in text and "5550123" not in text  # the agent role does not see phones


async def test_without_an_unfurl_id_the_message_is_named_by_channel_and_ts(database_url):
    async with slack_baton(database_url, **PAGES) as world:
        customer = await _dana()

        await world.event(link_shared(f"{PUBLIC_URL}/customers/{customer}", with_unfurl_id=False))

        call = await world.slack.wait_for(lambda s: next(iter(s.of("chat.unfurl")), None))
    assert call.args["channel"] == "C0HANDOFF" and call.args["ts"] == "1700000100.000100"


async def test_other_links_and_unknown_customers_are_left_to_slack(database_url):
    async with slack_baton(database_url, **PAGES) as world:
        customer = await _dana()
        await world.event(link_shared(f"{PUBLIC_URL}/customers/999999", "https://elsewhere.example/customers/1",
                                      f"{PUBLIC_URL}/files/abc", f"{PUBLIC_URL}/customers"))
        known = f"{PUBLIC_URL}/customers/{customer}"
        await world.event(link_shared(known))  # a last event that does unfurl: the earlier one has been handled

        await world.slack.wait_for(lambda s: s.of("chat.unfurl"))
        urls = [u for c in world.slack.of("chat.unfurl") for u in json.loads(json.dumps(c.args["unfurls"]))]
    assert urls == [known]

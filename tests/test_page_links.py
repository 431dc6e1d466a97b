"""The customer page opens only through a link signed for one agent and role, for 15 minutes, once (SPEC 4.4)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from bot.links import seal
from storage.customers import create_customer
from storage.models import AuditEvent, Conversation, Note
from tests.harness import running_baton
from tests.page_helpers import ANA, PAGES, SUE, get, link, open_link, signed_in

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


async def _dana() -> int:
    return await create_customer(display_name="Dana Whitfield", identities=[("email", "dana@example.com"), ("phone", "+14155550123")],
                                 now=NOW, email="dana@example.com", mobile_phone="+14155550123", company="Acme")


def _data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="baton-data">(.*?)</script>', html, re.S)
    assert match, html[:500]
    return json.loads(match.group(1))


async def test_a_link_opens_a_short_httponly_session_and_lands_on_the_page_without_its_token(database_url):
    async with running_baton(database_url, **PAGES) as baton:
        customer = await _dana()

        status, cookie, attributes = await open_link(baton, link(baton, ANA, customer, anchor="conversation-c1"))
        page_status, html = await get(baton, f"/customers/{customer}", cookie)

    assert status == 303 and attributes["location"] == str(customer)
    assert attributes["httponly"] and attributes["secure"] and attributes["samesite"] == "Lax"
    assert attributes["path"] == "/customers" and int(attributes["max-age"]) == 3600
    assert page_status == 200 and _data(html)["name"] == "Dana Whitfield"
    assert _data(html)["viewer"] == {"name": "Ana Agent", "role": "agent"}


async def test_without_a_link_or_session_the_page_answers_401_and_shows_nothing(database_url):
    async with running_baton(database_url, **PAGES) as baton:
        customer = await _dana()

        status, html = await get(baton, f"/customers/{customer}")
        data_status, data = await get(baton, f"/customers/{customer}/more/timeline")

    assert status == 401 and "Dana" not in html and "baton-data" not in html
    assert data_status == 401 and "Dana" not in data


async def test_an_expired_link_is_refused(database_url):
    async with running_baton(database_url, **PAGES) as baton:
        customer = await _dana()
        old = datetime.now(timezone.utc) - timedelta(minutes=16)

        status, cookie, _ = await open_link(baton, link(baton, ANA, customer, now=old))

    assert status == 401 and cookie is None


async def test_a_link_still_inside_its_15_minutes_opens(database_url):
    async with running_baton(database_url, **PAGES) as baton:
        customer = await _dana()
        recent = datetime.now(timezone.utc) - timedelta(minutes=14)

        status, cookie, _ = await open_link(baton, link(baton, ANA, customer, now=recent))

    assert status == 303 and cookie


async def test_a_forged_link_or_cookie_is_refused(database_url):
    async with running_baton(database_url, **PAGES) as baton:
        customer = await _dana()
        claims = {"k": "page", "p": "slack", "u": "W111", "n": "Ana", "r": "admin", "c": customer, "j": "0" * 16}
        forged = seal("not-baton's-secret", claims, expires_at=int(datetime.now(timezone.utc).timestamp()) + 600)
        raised = link(baton, ANA, customer).replace("?t=", "?t=x")
        forged_session = seal("not-baton's-secret", {"k": "session", "p": "slack", "u": "W111", "r": "admin"},
                              expires_at=int(datetime.now(timezone.utc).timestamp()) + 600)

        forged_status, _, _ = await open_link(baton, f"/customers/{customer}?t={forged}")
        mangled_status, _, _ = await open_link(baton, raised)
        cookie_status, html = await get(baton, f"/customers/{customer}", forged_session)

    assert (forged_status, mangled_status, cookie_status) == (401, 401, 401)
    assert "Dana" not in html


async def test_a_link_made_as_a_page_link_cannot_pass_as_a_session_cookie(database_url):
    async with running_baton(database_url, **PAGES) as baton:
        customer = await _dana()
        token = link(baton, ANA, customer).split("?t=")[1].split("#")[0]

        status, _ = await get(baton, f"/customers/{customer}", token)

    assert status == 401


async def test_another_agents_link_once_opened_opens_nothing_more(database_url):
    """A link is the agent's alone: forwarded or pasted after its agent opened it, it is refused."""
    async with running_baton(database_url, **PAGES) as baton:
        customer = await _dana()
        anas_link = link(baton, ANA, customer)

        first, anas_cookie, _ = await open_link(baton, anas_link)
        again, other_cookie, _ = await open_link(baton, anas_link)

    assert first == 303 and anas_cookie
    assert again == 401 and other_cookie is None


async def test_a_link_for_one_customer_does_not_open_another(database_url):
    async with running_baton(database_url, **PAGES) as baton:
        dana = await _dana()
        other = await create_customer(display_name="Omar Other", identities=[("email", "omar@example.com")], now=NOW)
        token_path = link(baton, ANA, dana)

        status, cookie, _ = await open_link(baton, token_path.replace(f"/customers/{dana}", f"/customers/{other}"))

    assert status == 401 and cookie is None


async def test_the_agent_role_does_not_see_the_phone_a_supervisor_sees(database_url):
    async with running_baton(database_url, **PAGES) as baton:
        customer = await _dana()
        agent_cookie = await signed_in(baton, ANA, customer)
        supervisor_cookie = await signed_in(baton, SUE, customer)

        _, agent_html = await get(baton, f"/customers/{customer}", agent_cookie)
        _, supervisor_html = await get(baton, f"/customers/{customer}", supervisor_cookie)

    assert "+14155550123" not in agent_html and "5550123" not in agent_html
    assert "mobile_phone" not in _data(agent_html)["profile"]
    assert _data(supervisor_html)["profile"]["mobile_phone"] == "+14155550123"
    assert {"kind": "phone", "value": "+14155550123"} in _data(supervisor_html)["identities"]


async def test_a_role_without_a_section_gets_neither_the_section_nor_its_data(database_url):
    roles = {"agent": {"sections": ("profile", "timeline"), "hidden_fields": ("phone", "lifetime_value"), "may": ()}}
    async with running_baton(database_url, roles=roles, **PAGES) as baton:
        customer = await _dana()
        cookie = await signed_in(baton, ANA, customer)

        _, html = await get(baton, f"/customers/{customer}", cookie)
        status, _ = await get(baton, f"/customers/{customer}/more/conversations", cookie)

    assert "conversations" not in _data(html) and "orders" not in _data(html)
    assert status == 403


async def test_every_opening_is_an_audited_view_by_the_agent_the_link_was_for(database_url):
    async with running_baton(database_url, **PAGES) as baton:
        customer = await _dana()
        cookie = await signed_in(baton, SUE, customer)

        await get(baton, f"/customers/{customer}", cookie)
        await get(baton, f"/customers/{customer}", cookie)

        views = await AuditEvent.filter(customer_id=customer, action="view").values_list("actor", "detail")
    assert views == [("slack:W333", {"page": True}), ("slack:W333", {"page": True})]


async def test_text_is_never_markup_on_the_page(database_url):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    async with running_baton(database_url, **PAGES) as baton:
        customer = await create_customer(display_name=hostile, identities=[("email", "x@example.com")], now=NOW)
        conversation = await Conversation.create(source="t", external_id="x", customer_id=customer,
                                                 last_activity_at=NOW, created_at=NOW)
        await Note.create(customer_id=customer, conversation_id=conversation.id, author=hostile, text="</script>" + hostile,
                          created_at=NOW)
        cookie = await signed_in(baton, ANA, customer)

        status, html = await get(baton, f"/customers/{customer}", cookie)

    assert status == 200
    assert "<script>alert" not in html and "<img" not in html and "</script><" not in html.split("baton-data")[1][:200]
    data = _data(html)
    assert data["name"] == hostile and data["notes"]["items"][0]["text"] == "</script>" + hostile


async def test_the_page_is_off_without_a_public_url_and_link_secret(database_url):
    async with running_baton(database_url) as baton:
        customer = await _dana()

        status, _ = await get(baton, f"/customers/{customer}")

    assert status == 404


async def test_the_page_sends_a_content_security_policy_that_allows_only_baton_itself(database_url):
    async with running_baton(database_url, **PAGES) as baton:
        customer = await _dana()
        cookie = await signed_in(baton, ANA, customer)

        async with baton.session.get(f"{baton.base_url}/customers/{customer}",
                                     headers={"Cookie": f"baton_page={cookie}"}) as response:
            csp = response.headers["Content-Security-Policy"]
            referrer = response.headers["Referrer-Policy"]

    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "http" not in csp.split("frame-ancestors")[0]
    assert referrer == "no-referrer"

"""The customer page in a real browser (headless Chromium, tests/browser.py): opened from a card's link,
the timeline filtered and paged, a conversation's messages and a case's comments opened, by keyboard
too, at phone width, with hostile text shown as text (SPEC 4.4).

BATON_WRITE_SCREENSHOTS=1 also saves the README's screenshots into docs/img/.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import expect

from bot.core import interactions
from bot.domain import CardAction
from bot.web.app import services_of
from storage.customers import create_customer
from storage.models import Activity, Case, CaseComment, Conversation, Message, Note, Order
from tests.harness import running_baton
from tests.page_helpers import ANA

NOW = datetime.now(timezone.utc).replace(microsecond=0)
HOSTILE = "Dana <script>window.pwned=1</script><img src=x onerror=window.pwned=2>"
PAGES = {"public_url": "http://baton.test", "link_secret": "browser-test-secret"}
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "img"


async def _story() -> tuple[int, int]:
    customer = await create_customer(display_name=HOSTILE, identities=[("email", "dana@example.com")], now=NOW,
                                     email="dana@example.com", company="Acme Outdoor", city="Austin, US")
    older = None
    for n in range(3):
        conversation = await Conversation.create(source="va", external_id=f"x{n}", customer_id=customer, channel="webchat",
                                                 status="wrapped", wrapup_code="resolved", last_activity_at=NOW,
                                                 created_at=NOW - timedelta(days=n))
        older = older or conversation
        await Message.create(conversation_id=conversation.id, sender="customer", sender_name="Dana", at=NOW,
                             text=f"my parcel {n} arrived damaged <b>really</b>")
        await Message.create(conversation_id=conversation.id, sender="agent", sender_name="Ana Agent", at=NOW,
                             text="A replacement is on its way.")
    case = await Case.create(number="CAS-01234", customer_id=customer, title="Damaged parcel", created_at=NOW, updated_at=NOW)
    await CaseComment.create(case_id=case.id, author="Ana Agent", text="Courier confirmed the damage", created_at=NOW)
    await Note.create(customer_id=customer, author="Ana Agent", text="<script>window.pwned=3</script> prefers email",
                      created_at=NOW)
    await Order.create(customer_id=customer, number="SO-1", total="19.90", currency="EUR", placed_at=NOW)
    await Activity.bulk_create([Activity(customer_id=customer, at=NOW - timedelta(minutes=i),
                                         category=("customer", "case", "conversation")[i % 3], kind="email",
                                         title=f"Entry {i}") for i in range(80)])
    return customer, older.id


async def _link_from_the_card(baton, customer: int, conversation: int) -> str:
    outcome = await interactions.card_action(services_of(baton.app), CardAction(
        actor=ANA, verb="open_page", conversation_id=conversation, customer_id=customer))
    assert outcome.ok and outcome.link, outcome.text
    parts = urlsplit(outcome.link)
    return f"{baton.base_url}{parts.path}?{parts.query}"


async def test_the_page_from_a_cards_link_filters_pages_and_opens_messages_and_comments(database_url, page):
    async with running_baton(database_url, **PAGES) as baton:
        customer, conversation = await _story()
        await page.goto(await _link_from_the_card(baton, customer, conversation))

        heading = page.get_by_role("heading", level=1)
        assert await heading.text_content() == HOSTILE
        assert "?t=" not in page.url
        assert await page.evaluate("window.pwned") is None

        timeline = page.locator("#timeline")
        entries = timeline.locator("ol.list > li")
        assert await entries.count() == 25
        await timeline.get_by_role("button", name="Show more timeline entries").click()
        await expect(entries).to_have_count(50)

        await timeline.get_by_role("button", name="Case", exact=True).click()
        await expect(entries).to_have_count(25)  # 27 case entries, the first page of them
        assert all(" · case · " in meta for meta in await timeline.locator("ol.list > li .meta").all_text_contents())
        assert await timeline.get_by_role("button", name="Case", exact=True).get_attribute("aria-pressed") == "true"

        await timeline.get_by_label("Search the timeline").fill("Entry 7")
        await timeline.get_by_label("Search the timeline").press("Enter")
        await expect(entries).to_have_count(5)  # the case entries 7, 70, 73, 76, 79

        await page.get_by_role("button", name=f"Messages of #c{conversation}").click()
        await page.get_by_text("my parcel 0 arrived damaged <b>really</b>").wait_for()

        comments = page.get_by_role("button", name="Internal comments on CAS-01234")
        await comments.focus()
        await page.keyboard.press("Enter")  # by keyboard
        await page.get_by_text("Courier confirmed the damage").wait_for()
        assert await comments.get_attribute("aria-expanded") == "true"
        assert await page.get_by_text("<script>window.pwned=3</script> prefers email").count() == 1
        assert await page.evaluate("window.pwned") is None
        if os.environ.get("BATON_WRITE_SCREENSHOTS") == "1":
            await page.set_viewport_size({"width": 1100, "height": 1400})
            await page.screenshot(path=str(SHOTS / "customer-page.png"), full_page=False)


async def test_wrap_up_and_see_logs_lands_on_that_conversations_messages(database_url, page):
    async with running_baton(database_url, **PAGES) as baton:
        customer, conversation = await _story()
        from bot.core import page_links

        link = page_links.link_for(baton.settings, ANA, customer, now=datetime.now(timezone.utc),
                                   anchor=f"conversation-c{conversation}")
        parts = urlsplit(link)

        await page.goto(f"{baton.base_url}{parts.path}?{parts.query}#{parts.fragment}")

        await page.locator(f"#messages-c{conversation}").get_by_text("A replacement is on its way.").wait_for()
        assert page.url.endswith(f"#conversation-c{conversation}")


async def test_the_page_fits_a_phone_and_has_landmarks_and_labels(database_url, browser):
    context = await browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = await context.new_page()
    try:
        async with running_baton(database_url, **PAGES) as baton:
            customer, conversation = await _story()
            await page.goto(await _link_from_the_card(baton, customer, conversation))
            await page.get_by_role("heading", level=1).wait_for()

            assert await page.evaluate("document.documentElement.scrollWidth") <= 360  # evaluate is not eval: CSP holds
            assert await page.get_by_role("banner").count() == 1 and await page.get_by_role("main").count() == 1
            assert await page.get_by_role("navigation", name="Sections").count() == 1
            assert await page.get_by_role("region", name="Timeline").count() == 1
            assert await page.get_by_role("search").count() == 1
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
            if os.environ.get("BATON_WRITE_SCREENSHOTS") == "1":
                await page.screenshot(path=str(SHOTS / "customer-page-phone.png"))
    finally:
        await context.close()


async def test_without_a_link_the_browser_gets_401_and_no_customer(database_url, page):
    async with running_baton(database_url, **PAGES) as baton:
        customer, _ = await _story()

        response = await page.goto(f"{baton.base_url}/customers/{customer}")

        assert response.status == 401
        assert "Dana" not in await page.content()


async def test_the_teams_tab_search_finds_a_customer_and_opens_the_page(database_url, page):
    async with running_baton(database_url, **PAGES) as baton:
        customer, _ = await _story()
        from bot.core import page_links

        parts = urlsplit(page_links.link_for(baton.settings, ANA, None, now=datetime.now(timezone.utc)))
        await page.goto(f"{baton.base_url}{parts.path}?{parts.query}")

        await page.get_by_label("Name, number, email or phone").fill("dana@example.com")
        await page.get_by_role("button", name="Search").click()
        await page.get_by_role("link", name=HOSTILE).click()

        await page.get_by_role("heading", level=1, name=HOSTILE).wait_for()
        assert page.url.endswith(f"/customers/{customer}")

"""The web chat page in a real browser (Debian's Chromium under Playwright; tests/browser.py): the survey,
a message into the fake Slack thread, the agent's "joined" and reply on the page, a reload that resumes,
a file, the end and the rating; the same by keyboard only; hostile agent text shown as text.

Without Chromium these skip with the reason (fail under BATON_REQUIRE_BROWSER=1). The test of the whole
loop also draws docs/img/webchat.png, the widget's screenshot in docs/webchat.md."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from bot.config import Webchat
from storage.customers import create_customer
from storage.models import Survey
from tests.browser import static_server
from tests.slack_signing import HANDOFF_CHANNEL, thread_message
from tests.test_webchat_api import card_of, claim, slack_baton

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "img" / "webchat.png"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def _agent_says(world, card_ts: str, text: str) -> None:
    status, _ = await world.event(thread_message(text, user="W111", channel=HANDOFF_CHANNEL, thread_ts=card_ts,
                                                 ts=world.next_ts()))
    assert status == 200


async def _conversation_on_page(page) -> str:
    """The conversation the page started (kept in localStorage, so that a reload resumes it)."""
    handle = await page.wait_for_function("() => JSON.parse(localStorage.getItem('baton-webchat:') || 'null')")
    return (await handle.json_value())["conversation"]


async def test_a_visitor_chats_with_an_agent_resumes_after_reload_sends_a_file_ends_and_rates(database_url, page, tmp_path):
    async with slack_baton(database_url) as world:
        customer_id = await create_customer(display_name="Dana Whitfield", identities=[("email", "dana.w@example.com")],
                                            email="dana.w@example.com", now=datetime.now(timezone.utc))
        await page.set_viewport_size({"width": 375, "height": 700})  # a phone
        await page.goto(world.baton.base_url + "/chat")
        before_start = await page.locator("#conversation").is_visible()

        await page.get_by_label("Your name").fill("Dana Whitfield")
        await page.get_by_label("Your email").fill("dana.w@example.com")
        await page.get_by_label("How can we help?").fill("My parcel arrived damaged")
        await page.get_by_role("button", name="Start chat").click()
        await page.get_by_label("Your message").fill("The box was crushed")
        await page.get_by_label("Your message").press("Enter")
        conversation = await _conversation_on_page(page)
        card_ts = await card_of(world, conversation)
        line = await world.slack.wait_for(lambda s: next((c for c in s.of("chat.postMessage", thread_ts=card_ts)
                                                          if "The box was crushed" in json.dumps(c.args)), None))
        await claim(world, conversation, card_ts)
        await page.get_by_text("Ana Agent joined").first.wait_for()
        await _agent_says(world, card_ts, "So sorry, a new one ships today.")
        await page.get_by_text("So sorry, a new one ships today.").wait_for()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT))

        await page.reload()
        await page.get_by_text("So sorry, a new one ships today.").wait_for()
        resumed = await page.locator("#log .msg").all_inner_texts()
        photo = tmp_path / "crushed.png"
        photo.write_bytes(PNG)
        await page.get_by_label("Attach a file").set_input_files(str(photo))
        shared = await world.slack.wait_for(lambda s: s.shared_files)
        await page.get_by_role("button", name="End chat").click()
        await page.get_by_label("5 – excellent").check()
        await page.get_by_label("Anything to add? (optional)").fill("Quick and kind")
        await page.get_by_role("button", name="Send rating").click()
        await page.get_by_text("Thank you for your rating.").wait_for()

        assert not before_start, "the conversation shows only once the chat has started"
        assert line.args["username"] == "Dana Whitfield"
        assert sum("The box was crushed" in t for t in resumed) == 1, "a reload shows each message once"
        assert any("Ana Agent" in t and "So sorry" in t for t in resumed)
        assert shared[0]["name"] == "crushed.png" and shared[0]["content"] == PNG
        survey = await Survey.get(customer_id=customer_id)
        assert (survey.score, survey.comment) == (5, "Quick and kind")


async def test_the_whole_chat_works_by_keyboard_alone(database_url, page):
    async with slack_baton(database_url) as world:
        await page.goto(world.baton.base_url + "/chat")

        await page.keyboard.press("Tab")  # the first field of the survey
        await page.keyboard.type("Kim Keys")
        await page.keyboard.press("Tab")
        await page.keyboard.type("kim@example.com")
        await page.keyboard.press("Tab")
        await page.keyboard.type("Keyboard only")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")  # Start chat
        await page.get_by_label("Your message").wait_for()
        focused = await page.evaluate("() => document.activeElement.id")
        await page.keyboard.type("Typed without a mouse")
        await page.keyboard.press("Enter")
        conversation = await _conversation_on_page(page)
        card_ts = await card_of(world, conversation)
        await world.slack.wait_for(lambda s: any("Typed without a mouse" in json.dumps(c.args)
                                                 for c in s.of("chat.postMessage", thread_ts=card_ts)))
        await page.locator("#end").focus()
        await page.keyboard.press("Enter")  # End chat
        await page.get_by_label("4 – good").wait_for()
        await page.keyboard.press("ArrowRight")  # radios: the arrow keys move and check
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")  # Send rating
        await page.get_by_text("Thank you for your rating.").wait_for()

        assert focused == "message", "after starting, the message box has the focus"
        live = await page.locator("#log").get_attribute("aria-live")
        assert live == "polite"


async def test_hostile_agent_text_is_shown_as_text_never_run(database_url, page):
    hostile = ('<img src=x onerror="window.__xss=1"> </script><script>window.__xss=2</script> '
               '<a href="javascript:window.__xss=3">click</a> javascript:alert(1)')
    async with slack_baton(database_url) as world:
        await page.goto(world.baton.base_url + "/chat")
        await page.get_by_label("Your name").fill("Eve <b>Bold</b>")
        await page.get_by_label("Your email").fill("eve@example.com")
        await page.get_by_label("How can we help?").fill("<script>window.__xss=4</script>")
        await page.get_by_role("button", name="Start chat").click()
        await page.get_by_label("Your message").wait_for()
        conversation = await _conversation_on_page(page)
        card_ts = await card_of(world, conversation)
        await claim(world, conversation, card_ts)
        # As Slack delivers what an agent typed: &, < and > escaped (PROTOCOLS.md 1.7).
        await _agent_says(world, card_ts, hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        await page.get_by_text("window.__xss=2", exact=False).wait_for()

        shown = await page.locator("#log .msg.agent .text").inner_text()
        assert "<img src=x" in shown and "</script><script>" in shown and "javascript:alert(1)" in shown
        assert await page.locator("#log img, #log script, #log a").count() == 0
        assert await page.evaluate("() => window.__xss") is None


async def test_one_script_tag_adds_a_launcher_that_opens_the_chat_in_a_frame(database_url, page):
    site: dict[str, str] = {}
    async with static_server(site) as shop, slack_baton(database_url, webchat=Webchat(allowed_origins=[shop])) as world:
        site["/"] = (f'<!doctype html><html><body><h1>Shop</h1><script src="{world.baton.base_url}/chat/widget.js" '
                     f'data-queue="billing" async></script></body></html>')
        await page.goto(shop + "/")
        launcher = page.get_by_role("button", name="Chat with us")
        await launcher.wait_for()
        before = await launcher.get_attribute("aria-expanded")
        await launcher.click()
        frame = page.frame_locator("#baton-chat-frame")
        await frame.get_by_label("Your name").wait_for()
        src = await page.locator("#baton-chat-frame").get_attribute("src")
        after = await launcher.get_attribute("aria-expanded")
        await frame.get_by_role("button", name="Close the chat").click()
        await page.locator("#baton-chat-frame").wait_for(state="hidden")

        assert (before, after) == ("false", "true")
        assert "queue=billing" in src and "embed=1" in src and "page=" in src


async def test_a_site_not_in_allowed_origins_cannot_frame_the_chat(database_url):
    async with slack_baton(database_url, webchat=Webchat(allowed_origins=["https://shop.example.com"])) as world:
        async with world.baton.session.get(world.baton.base_url + "/chat?queue=billing") as response:
            csp = response.headers["Content-Security-Policy"]

        assert "frame-ancestors 'self' https://shop.example.com" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp

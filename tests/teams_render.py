"""Baton's Adaptive Cards drawn by Microsoft's own renderer, as Teams draws them, in a real Chromium page.

The renderer is the `adaptivecards` npm package (3.x, tests/js/package.json), with Teams' light host config
(tests/data/hostconfig/microsoft-teams-light.json, copied unchanged from microsoft/AdaptiveCards) and
markdown-it for the markdown Teams reads in TextBlocks and facts. Cards are drawn at 560 px, the width
the issue measured; `expand_sections` clicks each section header, so Action.ToggleVisibility runs in
the renderer itself.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

from tests.browser import js_file, static_server

HOST_CONFIG = Path(__file__).parent / "data" / "hostconfig" / "microsoft-teams-light.json"
CARD_WIDTH = 560

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Adaptive Card</title>
<script src="/js/markdown-it.min.js"></script>
<script src="/js/adaptivecards.min.js"></script>
<style>
  body { margin: 0; padding: 24px; background: #f5f5f5; }
  #host { background: #ffffff; border: 1px solid #e1dfdd; border-radius: 4px; overflow: hidden; }
  /* Buttons as Teams draws them (32 px, Teams' border and weight); the renderer leaves their look to the host. */
  #host .ac-pushButton { min-height: 32px; padding: 0 12px; border: 1px solid #d1d1d1; border-radius: 4px;
    background: #ffffff; color: #242424; font: 600 14px 'Segoe UI', Tahoma, Geneva, Verdana, sans-serif; }
  #host .ac-pushButton:disabled { color: #bdbdbd; }
</style></head>
<body><div id="host"></div>
<script>
window.renderCard = function (card, hostConfig, width) {
  const host = document.getElementById("host");
  host.style.width = width + "px";
  host.innerHTML = "";
  const adaptiveCard = new AdaptiveCards.AdaptiveCard();
  adaptiveCard.hostConfig = new AdaptiveCards.HostConfig(hostConfig);
  const context = new AdaptiveCards.SerializationContext();
  adaptiveCard.parse(card, context);
  const events = [];
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    events.push({phase: e.phase, event: e.event, message: e.message});
  }
  const validation = adaptiveCard.validateProperties();
  for (const e of validation.validationEvents) {
    events.push({phase: e.phase, event: e.event, message: e.message});
  }
  window.executed = [];
  adaptiveCard.onExecuteAction = (action) => window.executed.push(action.getJsonTypeName());
  host.appendChild(adaptiveCard.render());
  return events;
};
</script></body></html>
"""


@asynccontextmanager
async def card_server() -> AsyncIterator[str]:
    """The page and the renderer's files, served locally (raises BrowserUnavailable without them)."""
    files = {
        "/": PAGE,
        "/js/adaptivecards.min.js": js_file("adaptivecards", "dist/adaptivecards.min.js"),
        "/js/markdown-it.min.js": js_file("markdown-it", "dist/markdown-it.min.js"),
    }
    async with static_server(files) as url:
        yield url


async def render(page: Any, base_url: str, card: dict, *, width: int = CARD_WIDTH) -> list[dict]:
    """Draw `card` in `page`; returns the renderer's parse and validation events (empty: it understood all)."""
    await page.set_viewport_size({"width": width + 48, "height": 900})
    if page.url != base_url + "/":
        await page.goto(base_url + "/")
    host_config = json.loads(HOST_CONFIG.read_text(encoding="utf-8"))
    events = await page.evaluate("([card, config, width]) => renderCard(card, config, width)", [card, host_config, width])
    await page.evaluate("document.fonts.ready")
    return events


async def card_height(page: Any) -> float:
    """The drawn card's height in CSS pixels."""
    return await page.evaluate("document.querySelector('#host .ac-adaptiveCard').getBoundingClientRect().height")


async def expand_sections(page: Any) -> int:
    """Click the header of every collapsed section, as an agent would; returns how many were opened."""
    headers = page.locator('#host [aria-label^="Show or hide"]')
    bodies = page.locator('#host [id^="baton-section-"]')
    count = await headers.count()
    assert count == await bodies.count(), "one header per section"
    opened = 0
    for i in range(count):
        if not await bodies.nth(i).is_visible():
            await headers.nth(i).click()
            opened += 1
    return opened


async def visible_text(page: Any) -> str:
    """What a reader sees in the card (hidden sections excluded)."""
    return await page.inner_text("#host")


async def element_visible(page: Any, element_id: str) -> bool:
    return await page.locator(f"#host #{element_id}").is_visible()


async def screenshot(page: Any, path: Path) -> None:
    await page.locator("#host").screenshot(path=str(path))

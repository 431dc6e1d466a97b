"""Draw the README's card screenshots into docs/img/: `.venv/bin/python -m tests.screenshots`.

Teams: Microsoft's renderer with Teams' host config at 560 px (tests/teams_render.py), collapsed and with
every section open. Slack: the approximate Block Kit preview (tests/slack_preview.py) of the card and of its
*Details* modal. All from the demo's matched card (tests/cards_factory.make_demo_summary). Prints the heights.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.cards.slack import render_details_view, render_summary_blocks
from bot.cards.teams import render_summary_card
from tests import slack_preview
from tests.browser import launch_browser
from tests.cards_factory import make_demo_summary
from tests.teams_render import card_height, card_server, expand_sections, render, screenshot

OUT = Path(__file__).parent.parent / "docs" / "img"


async def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    summary = make_demo_summary()
    async with launch_browser() as browser, card_server() as url:
        page = await browser.new_page(device_scale_factor=1)
        await render(page, url, render_summary_card(summary))
        collapsed = await card_height(page)
        await screenshot(page, OUT / "teams-card-collapsed.png")
        await expand_sections(page)
        expanded = await card_height(page)
        await screenshot(page, OUT / "teams-card-expanded.png")

        await page.set_viewport_size({"width": 660, "height": 900})
        await page.set_content(slack_preview.message_page(render_summary_blocks(summary)))
        await page.locator("body").screenshot(path=str(OUT / "slack-card.png"))
        await page.set_content(slack_preview.modal_page(render_details_view(summary)))
        await page.locator("body").screenshot(path=str(OUT / "slack-details.png"))
    print(f"Teams card at 560 px: {collapsed:.0f} px collapsed, {expanded:.0f} px expanded; PNGs in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

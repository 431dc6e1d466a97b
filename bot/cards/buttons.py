"""Which buttons a summary card offers, once for every platform.

Each renderer (Slack Block Kit, Teams Adaptive Card) draws this list natively and knows nothing of its
rules: adding a card button is its verb in `bot/cards/actions.py`, one `Button` here, and its function in
`bot/core/interactions.py`.

A platform that draws fewer actions than the list holds (Teams: 6) asks `card_buttons(...,
max_actions=6, collapse_groups=True)`: the menu buttons of one `group` become one button (the group's
first verb, titled with the group's label — its form offers the rest), then `optional` buttons are left
out, last first, until the list fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import cards
from bot.cards import actions as act
from bot.domain import CustomerSummary


@dataclass(frozen=True)
class Button:
    verb: str
    label: str
    primary: bool = False  # the card's main call to action (Slack: style=primary)
    menu: bool = False  # in the claimed card's menu (Slack: overflow; Teams: secondary actions under "…")
    url: str | None = None  # the button also opens this link (a CRM profile)
    group: str | None = None  # menu buttons sharing a group collapse into one, titled so, where room is short
    optional: bool = False  # left out first where a platform draws too few actions


def card_buttons(
    summary: CustomerSummary,
    *,
    details: bool = False,
    max_actions: int | None = None,
    collapse_groups: bool = False,
) -> tuple[Button, ...]:
    """The card's buttons in the order shown, menu last. `details`: the platform keeps sections behind a
    *Details* button (Slack's modal) rather than in the card."""
    c, p = summary.conversation, summary.profile
    open_ = c is not None and not cards.is_wrapped(c)
    claimed = c is not None and cards.is_claimed(c)
    buttons: list[Button] = []
    if c is not None:
        if open_ and not claimed:
            buttons.append(Button(act.CLAIM, "Claim", primary=True))
        buttons.append(Button(act.ADD_NOTE, "Add note"))
        if open_:
            buttons.append(Button(act.WRAP_UP, "Wrap up"))
    if p is not None:
        buttons.append(Button(act.OPEN_PROFILE, "Open profile", url=summary.profile_url))
        if summary.full_page:
            buttons.append(Button(act.OPEN_PAGE, "Open full profile", optional=True))
    if details and cards.sections(summary):
        buttons.append(Button(act.DETAILS, "Details"))
    if open_ and claimed:
        buttons += [Button(act.TRANSFER, "Transfer…", menu=True), Button(act.UNCLAIM, "Unclaim", menu=True)]
        if summary.issue is not None:
            buttons += [
                Button(act.CASE_PRIORITY, "Priority…", menu=True, group="Case…"),
                Button(act.CASE_CLOSE, "Close case", menu=True, group="Case…"),
                Button(act.CASE_CANCEL, "Cancel case (deletes its comments)", menu=True, group="Case…"),
            ]
    if collapse_groups:
        buttons = _collapsed(buttons)
    if max_actions is not None:
        buttons = _fitted(buttons, max_actions)
    return tuple(buttons)


def _collapsed(buttons: list[Button]) -> list[Button]:
    seen: set[str] = set()
    out = []
    for button in buttons:
        if button.group is None:
            out.append(button)
        elif button.group not in seen:
            seen.add(button.group)
            out.append(Button(button.verb, button.group, menu=button.menu, optional=button.optional))
    return out


def _fitted(buttons: list[Button], max_actions: int) -> list[Button]:
    buttons = list(buttons)
    for index in range(len(buttons) - 1, -1, -1):
        if len(buttons) <= max_actions:
            break
        if buttons[index].optional:
            del buttons[index]
    return buttons[:max_actions]

"""The summary card as a `rich` renderable, for the `baton demo` terminal output: the first view ("at a
glance") as in Slack and Teams, then the details, one panel per section.

Untrusted values are `Text` objects, never markup strings, so "[bold red]" from a customer stays literal.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot import cards
from bot.cards.text import DETAILS_BUDGET, GLANCE_LINE, GLANCE_PRECHAT, SLACK_BUDGET, fit
from bot.domain import CustomerSummary

VALUE_TEXT = 500


def render_terminal(summary: CustomerSummary) -> RenderableType:
    """The glance panel, then one panel per section the card shows, in `[card] sections` order."""
    parts: list[RenderableType] = [_header(summary)]
    if cards.sections(summary):
        parts.append(Text("Details", style="bold"))
    for section in cards.sections(summary):
        title = cards.timeline_title(summary) if section == "timeline" else cards.SECTION_TITLES[section]
        parts.append(Panel(_table(_rows(summary, section)), title=title, title_align="left"))
    return Group(*parts)


def _value(raw: object, limit: int = VALUE_TEXT) -> Text:
    return Text(fit(raw, limit))


def _header(summary: CustomerSummary) -> Panel:
    """What the card in the thread shows first: the name, who, why, the state, the issue, the pulse."""
    lines: list[RenderableType] = [Text(fit(cards.headline(summary), 150, single_line=True), style="bold")]
    rows: list[cards.Row] = []
    for kind, content in cards.glance_plan(summary, GLANCE_PRECHAT):
        if kind == "who":
            lines.append(_value(" · ".join(content)))
        elif kind == "returning":
            before, at, after = content
            lines.append(_value(f"{before} {cards.when(at)}{after}" if at else f"{before}{after}"))
        elif kind == "given":
            rows += [(f"{label} ({cards.GIVEN_TITLE.lower()})", value) for label, value in content]
        elif kind == "why":
            rows += content
        elif kind == "latest":
            rows.append(("Latest from the customer", f"“{content}”"))
        elif kind == "state":
            parts, since = content
            state = " · ".join(parts)
            if since is not None:
                state += f" · {since[0]} {cards.when(since[1])}"
            rows.append(("State", state))
        elif kind == "issue":
            rows.append(("Issue", content.removeprefix("Issue: ")))
        elif kind == "pulse":
            rows.append(("Pulse", content))
    if rows:
        lines.append(_table(rows, limit=GLANCE_LINE))
    for candidate in summary.candidates[: SLACK_BUDGET.candidates]:
        hint = f" — {candidate.hint}" if candidate.hint else ""
        lines.append(_value(f"  • {candidate.display_name}{hint} (customer {candidate.customer_id})"))
    return Panel(Group(*lines), title="Baton customer summary · at a glance", title_align="left", border_style="cyan")


def _table(rows: list[cards.Row], limit: int = VALUE_TEXT) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in rows:
        table.add_row(_value(label, 150), _value(value, limit))
    return table


def _rows(summary: CustomerSummary, section: str) -> list[cards.Row]:
    budget = DETAILS_BUDGET
    if section == "profile":
        profile = cards.profile_rows(summary.profile) if summary.profile else []
        return profile + cards.identity_rows(summary)[: budget.identities]
    if section == "conversation":
        c = summary.conversation
        rows = (cards.conversation_rows(c) + cards.bot_rows(c.bot)) if c else []
        if c and c.bot and c.bot.agent_message:
            rows += cards.rows(("Note from the bot", c.bot.agent_message))
        rows += [(a.question, a.answer) for a in summary.prechat[: budget.prechat]]
        return rows + cards.visitor_rows(summary.visitor)
    if section == "issue":
        return cards.case_rows(summary.issue)
    if section == "recent_cases":
        return [("•", cards.case_line(c)) for c in summary.recent_cases[: budget.cases]]
    if section == "timeline":
        entries = cards.timeline_entries(summary)[: budget.timeline]
        return [(cards.when(e.at), cards.timeline_line(e, with_time=False)) for e in entries] or [
            ("", "No activities under this filter.")
        ]
    if section == "sentiment":
        return cards.sentiment_rows(summary.sentiment, budget.topics)
    return cards.engagement_rows(summary.engagement)

"""The summary card as a `rich` renderable, for the `baton demo` terminal output.

Untrusted values are `Text` objects, never markup strings, so "[bold red]" from a customer stays literal.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot import cards
from bot.cards.text import SLACK_BUDGET, fit
from bot.domain import CustomerSummary

VALUE_TEXT = 500


def render_terminal(summary: CustomerSummary) -> RenderableType:
    """A header panel, then one panel per section the card shows, in SPEC order."""
    parts: list[RenderableType] = [_header(summary)]
    for section in cards.sections(summary):
        title = cards.timeline_title(summary) if section == "timeline" else cards.SECTION_TITLES[section]
        parts.append(Panel(_table(_rows(summary, section)), title=title, title_align="left"))
    return Group(*parts)


def _value(raw: object) -> Text:
    return Text(fit(raw, VALUE_TEXT))


def _header(summary: CustomerSummary) -> Panel:
    lines = [Text(fit(cards.headline(summary), 150, single_line=True), style="bold"), Text(cards.state_line(summary))]
    c = summary.conversation
    if c is not None:
        lines.append(_value(f"#{c.public_id} · {c.channel} via {c.source} · {cards.status_line(c)}"))
    for candidate in summary.candidates[: SLACK_BUDGET.candidates]:
        hint = f" — {candidate.hint}" if candidate.hint else ""
        lines.append(_value(f"  • {candidate.display_name}{hint} (customer {candidate.customer_id})"))
    return Panel(Group(*lines), title="Baton customer summary", title_align="left", border_style="cyan")


def _table(rows: list[cards.Row]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in rows:
        table.add_row(_value(label), _value(value))
    return table


def _rows(summary: CustomerSummary, section: str) -> list[cards.Row]:
    budget = SLACK_BUDGET
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

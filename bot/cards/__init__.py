"""Pure renderers of the customer summary card (SPEC 4.1) for Slack, Teams and the terminal.

This module holds what all of them show: the sections in order and their rows as (label, raw value) —
labels are Baton's own words, values are untrusted and are escaped by each renderer through `text`.
"""

from __future__ import annotations

from datetime import datetime, timezone

from bot.domain import (
    BotContext,
    CaseFacts,
    ConversationFacts,
    CustomerSummary,
    EngagementFacts,
    ProfileFacts,
    SentimentFacts,
    SUMMARY_SECTIONS,
    TimelineEntry,
    VisitorFacts,
)
from bot.cards.text import clean

Row = tuple[str, str]

SECTION_TITLES: dict[str, str] = {
    "profile": "Customer profile",
    "conversation": "Conversation",
    "issue": "Issue snapshot",
    "recent_cases": "Recent cases",
    "timeline": "Timeline",
    "sentiment": "Sentiment and topics",
    "engagement": "Engagement",
}
STATUS_LABELS = {
    "queued": "Waiting for an agent",
    "claimed": "Claimed",
    "wrapped": "Wrapped up",
    "failed": "Not routed",
}
TIMELINE_FILTERS = ("all", "customer", "case", "conversation")
FILTER_LABELS = {"all": "All", "customer": "Customer", "case": "Case", "conversation": "Conversation"}


def rows(*pairs: tuple[str, object]) -> list[Row]:
    """The pairs whose value says something (not None, not blank)."""
    return [(label, str(value)) for label, value in pairs if value is not None and clean(value)]


def when(at: datetime | None) -> str:
    if at is None:
        return ""
    utc = at.astimezone(timezone.utc) if at.tzinfo else at
    return f"{utc:%Y-%m-%d %H:%M} UTC"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def hidden_line(hidden: int, one: str, many: str) -> str:
    """'3 more cases not shown.'"""
    return f"{plural(hidden, one, many)} not shown."


# --- the header --------------------------------------------------------------------------------


def headline(summary: CustomerSummary) -> str:
    if summary.state == "matched" and summary.profile and clean(summary.profile.display_name):
        return summary.profile.display_name
    if summary.state == "multi_match":
        return "Several customers match"
    if summary.state == "no_data":
        return "New customer"
    return "Customer"


def state_line(summary: CustomerSummary) -> str:
    if summary.state == "multi_match":
        return f"{plural(len(summary.candidates), 'possible customer')} — not linked yet"
    if summary.state == "no_data":
        return "No customer data — not linked yet"
    return "Matched customer"


def status_line(conversation: ConversationFacts) -> str:
    """'Claimed by Ana', 'Wrapped up (resolved)', 'Waiting for an agent' — raw (names are untrusted)."""
    if conversation.status == "claimed" and conversation.claimed_by:
        return f"Claimed by {conversation.claimed_by}"
    if conversation.status == "wrapped" and conversation.wrapup_code:
        return f"Wrapped up ({conversation.wrapup_code})"
    return STATUS_LABELS.get(conversation.status, conversation.status)


def is_claimed(conversation: ConversationFacts | None) -> bool:
    return conversation is not None and conversation.status == "claimed"


def is_wrapped(conversation: ConversationFacts | None) -> bool:
    return conversation is not None and conversation.status == "wrapped"


def fallback_line(summary: CustomerSummary) -> str:
    """One raw sentence for notifications and clients that cannot draw the card."""
    who = {"matched": headline(summary), "multi_match": state_line(summary), "no_data": "new customer, no match"}
    c = summary.conversation
    if c is None:
        return f"Customer summary: {who[summary.state]}"
    return f"Handoff #{c.public_id} from {c.source} ({c.channel}): {who[summary.state]} · {status_line(c)}"


# --- sections ----------------------------------------------------------------------------------


def has_data(summary: CustomerSummary, section: str) -> bool:
    if section == "profile":
        return summary.profile is not None or bool(summary.identities)
    if section == "conversation":
        return summary.conversation is not None or bool(summary.prechat) or summary.visitor is not None
    if section == "issue":
        return summary.issue is not None
    if section == "recent_cases":
        return bool(summary.recent_cases)
    if section == "timeline":  # an empty filtered timeline still shows, so the agent can switch back
        return bool(summary.timeline) or summary.timeline_filter not in (None, "all")
    if section == "sentiment":
        return summary.sentiment is not None
    if section == "engagement":
        return summary.engagement is not None
    return False


def sections(summary: CustomerSummary) -> list[str]:
    """The sections this card shows, in SPEC order: allowed for the viewer's role and with data."""
    return [s for s in SUMMARY_SECTIONS if summary.shows(s) and has_data(summary, s)]


def profile_rows(p: ProfileFacts) -> list[Row]:
    flags = "Anonymized" if p.anonymized else ("Locked against edits and merges" if p.locked else None)
    return rows(
        ("Account", p.company),
        ("Job title", p.job_title),
        ("Relationship", p.relationship_type),
        ("City", p.city),
        ("Category", p.category),
        ("Primary contact", p.primary_contact),
        ("Preferred channel", p.preferred_channel),
        ("Record", flags),
    )


def identity_rows(summary: CustomerSummary) -> list[Row]:
    return rows(*((i.kind, i.value) for i in summary.identities))


def identities_title(summary: CustomerSummary) -> str:
    return "Matched identities" if summary.state == "matched" else "Identifiers in this handoff"


def conversation_rows(c: ConversationFacts) -> list[Row]:
    return rows(
        ("Source", c.source),
        ("Channel", c.channel),
        ("Queue", c.queue),
        ("Status", STATUS_LABELS.get(c.status, c.status)),
        ("Claimed by", c.claimed_by),
        ("Wrap-up code", c.wrapup_code),
        ("Started", when(c.started_at)),
        ("Replies", c.reply_rule),
    )


def bot_rows(b: BotContext | None) -> list[Row]:
    if b is None:
        return []
    return rows(("Bot", b.name), ("Last topic", b.last_topic), ("Reason", b.reason))


def visitor_rows(v: VisitorFacts | None) -> list[Row]:
    if v is None:
        return []
    return rows(
        ("Browser", v.browser),
        ("Operating system", v.os),
        ("Device", v.device),
        ("Location", v.location),
        ("Language", v.language),
        ("Page", v.page_url),
        ("Referrer", v.referrer),
    )


def case_rows(c: CaseFacts) -> list[Row]:
    return rows(
        ("Case", c.number),
        ("Title", c.title),
        ("Priority", c.priority),
        ("Status", c.status),
        ("Product", c.product),
        ("Owner", c.owner),
        ("Opened", when(c.opened_at)),
    )


def case_line(c: CaseFacts) -> str:
    facts = " · ".join(clean(x) for x in (c.status, c.priority, when(c.opened_at)) if x and clean(x))
    return f"{c.number} — {c.title}" + (f" ({facts})" if facts else "")


def timeline_filter(summary: CustomerSummary) -> str:
    return summary.timeline_filter if summary.timeline_filter in TIMELINE_FILTERS else "all"


def timeline_entries(summary: CustomerSummary) -> list[TimelineEntry]:
    """The entries under the filter in force, newest first."""
    active = timeline_filter(summary)
    entries = [e for e in summary.timeline if active == "all" or e.category == active]
    return sorted(entries, key=lambda e: _sortable(e.at), reverse=True)


def _sortable(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def timeline_line(e: TimelineEntry, *, with_time: bool = True) -> str:
    line = f"{when(e.at)} · {e.kind} · {e.title}" if with_time else f"{e.kind} · {e.title}"
    return f"{line} — {e.detail}" if e.detail and clean(e.detail) else line


def timeline_title(summary: CustomerSummary) -> str:
    return f"Timeline, newest first · showing {FILTER_LABELS[timeline_filter(summary)].lower()} activities"


def sentiment_rows(s: SentimentFacts, max_topics: int) -> list[Row]:
    mood = f"{s.label.capitalize()} ({s.score:+.2f}) across {plural(s.interactions, 'interaction')}"
    topics = [
        ("Topic", f"{t.phrase} — {t.mentions} of last {t.interactions} ({t.percent} %)") for t in s.topics[:max_topics]
    ]
    return rows(("Sentiment", mood), *topics)


def engagement_rows(e: EngagementFacts) -> list[Row]:
    value = None
    if e.lifetime_value is not None:
        value = f"{e.currency} {e.lifetime_value:,.2f}" if e.currency else f"{e.lifetime_value:,.2f}"
    last = " · ".join(x for x in (when(e.last_order_at), e.last_order_number or "") if x) or None
    csat = None
    if e.csat is not None:
        csat = f"{e.csat:.1f} / 5 ({plural(e.csat_responses, 'response')})"
    per_month = f"{e.orders_per_month:.1f}" if e.orders_per_month is not None else None
    return rows(
        ("Lifetime value", value),
        ("Orders", e.order_count),
        ("Orders per month", per_month),
        ("Last order", last),
        ("Satisfaction (CSAT)", csat),
    )

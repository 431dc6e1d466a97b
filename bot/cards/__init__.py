"""Pure renderers of the customer summary card (SPEC 4.1) for Slack, Teams and the terminal.

This module holds what all of them show: the first view ("at a glance"), the sections in order and their
rows as (label, raw value) — labels are Baton's own words, values are untrusted and are escaped by each
renderer through `text`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.domain import (
    GLANCE_ITEMS,
    ConversationStatus,
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
    ConversationStatus.QUEUED: "Waiting for an agent",
    ConversationStatus.CLAIMED: "Claimed",
    ConversationStatus.WRAPPED: "Wrapped up",
    ConversationStatus.FAILED: "Not routed",
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
        given = summary.given.name if summary.given else None
        return given if given and clean(given) else "New customer"
    return "Customer"


def state_line(summary: CustomerSummary) -> str:
    if summary.state == "multi_match":
        return f"{plural(len(summary.candidates), 'possible customer')} — not linked yet"
    if summary.state == "no_data":
        return "No customer data — not linked yet"
    return "Matched customer"


def status_line(conversation: ConversationFacts) -> str:
    """'Claimed by Ana', 'Wrapped up (resolved)', 'Waiting for an agent' — raw (names are untrusted)."""
    if conversation.status == ConversationStatus.CLAIMED and conversation.claimed_by:
        return f"Claimed by {conversation.claimed_by}"
    if conversation.status == ConversationStatus.WRAPPED and conversation.wrapup_code:
        return f"Wrapped up ({conversation.wrapup_code})"
    return STATUS_LABELS.get(conversation.status, conversation.status)


def is_claimed(conversation: ConversationFacts | None) -> bool:
    return conversation is not None and conversation.status == ConversationStatus.CLAIMED


def is_wrapped(conversation: ConversationFacts | None) -> bool:
    return conversation is not None and conversation.status == ConversationStatus.WRAPPED


def fallback_line(summary: CustomerSummary) -> str:
    """One raw sentence for notifications and clients that cannot draw the card."""
    given = summary.given.name if summary.given and summary.given.name and clean(summary.given.name) else None
    no_match = f"{given} (new customer, no match)" if given else "new customer, no match"
    who = {"matched": headline(summary), "multi_match": state_line(summary), "no_data": no_match}
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
    """The sections this card shows, in `[card] sections` order (SPEC order by default): allowed for the
    viewer's role and with data. A section left out of the order is still shown, after the others: the
    seven sections are "one click away, never gone"."""
    order = [s for s in dict.fromkeys(summary.section_order) if s in SUMMARY_SECTIONS]
    order += [s for s in SUMMARY_SECTIONS if s not in order]
    return [s for s in order if summary.shows(s) and has_data(summary, s)]


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


def mentioned_topics(s: SentimentFacts) -> list:
    """The topics at least one of the interactions mentions: a topic at 0 % says nothing."""
    return [t for t in s.topics if t.mentions > 0]


def sentiment_rows(s: SentimentFacts, max_topics: int) -> list[Row]:
    mood = f"{s.label.capitalize()} ({s.score:+.2f}) across {plural(s.interactions, 'interaction')}"
    topics = [
        ("Topic", f"{t.phrase} — {t.mentions} of last {t.interactions} ({t.percent} %)")
        for t in mentioned_topics(s)[:max_topics]
    ]
    return rows(("Sentiment", mood), *topics)


def money(amounts) -> str:
    """Amounts per currency side by side ("EUR 300.00 · USD 1,175.00"): never one sum of two currencies."""
    return " · ".join(f"{code} {amount:,.2f}" for code, amount in amounts)


def engagement_rows(e: EngagementFacts) -> list[Row]:
    value = money(e.lifetime_values) or None
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


# --- the first view ("at a glance", SPEC 4.1) ----------------------------------------------------

# Which section's visibility a glance item follows: the role that may not see a section sees none of it.
GLANCE_SECTION = {"why": "conversation", "latest": "conversation", "issue": "issue", "sentiment": "sentiment",
                  "engagement": "engagement"}
SINCE_LABELS = {ConversationStatus.QUEUED: "Waiting since", ConversationStatus.CLAIMED: "Claimed",
                ConversationStatus.WRAPPED: "Wrapped up", ConversationStatus.FAILED: "Not routed since"}


def glance_items(summary: CustomerSummary) -> list[str]:
    """The glance items of `[card] glance` in their order, known ones only, those the viewer's role may see."""
    items = [i for i in dict.fromkeys(summary.glance) if i in GLANCE_ITEMS]
    return [i for i in items if i not in GLANCE_SECTION or summary.shows(GLANCE_SECTION[i])]


def kind_label(summary: CustomerSummary) -> str:
    """Matched / returning / new: who this is to the CRM."""
    if summary.state == "multi_match":
        return state_line(summary)
    if summary.state == "no_data":
        return "New — not in the CRM yet"
    prior = summary.prior_interactions
    if prior is None and summary.sentiment is not None:
        prior = summary.sentiment.interactions
    return "Returning customer" if prior else "Matched customer"


def who_parts(summary: CustomerSummary) -> list[str]:
    """Raw: matched / returning / new, the account, the tags, then the conversation and where it came from."""
    parts = [kind_label(summary)]
    p = summary.profile
    if summary.state == "matched" and p is not None:
        if p.company:
            parts.append(p.company)
        if p.tags and summary.shows("profile"):
            parts.append("Tags: " + ", ".join(clean(t) for t in p.tags if clean(t)))
    c = summary.conversation
    if c is not None:
        parts.append(f"#{c.public_id} · {c.channel} via {c.source}")
    return [part for part in parts if clean(part)]


def why_rows(summary: CustomerSummary, max_prechat: int) -> list[Row]:
    """Raw: the bot's reason, last topic and note, then the first pre-chat answers."""
    bot = summary.conversation.bot if summary.conversation else None
    pairs: list[tuple[str, object]] = []
    if bot is not None:
        pairs += [("Reason", bot.reason), ("Last topic", bot.last_topic), ("Note from the bot", bot.agent_message)]
    pairs += [(a.question, a.answer) for a in summary.prechat[:max_prechat]]
    return rows(*pairs)


def hidden_prechat(summary: CustomerSummary, shown: int) -> int:
    """Pre-chat answers not shown: those past what the card shows, and those the handoff lost to fit (SPEC 3.4)."""
    cut = summary.conversation.prechat_omitted if summary.conversation else 0
    return max(0, len(summary.prechat) - shown) + cut


GIVEN_TITLE = "As given, not in the CRM"
OPTED_OUT = "Opted out (STOP)"
ENDED_WORDS = {ConversationStatus.WRAPPED: "wrapped up", ConversationStatus.FAILED: "not routed"}


def given_rows(summary: CustomerSummary) -> list[Row]:
    """Raw: what the handoff said about a person no one customer matched (name, email, phone, ids)."""
    g = summary.given
    if g is None:
        return []
    pairs: list[tuple[str, object]] = [("Name", g.name), ("Email", g.email), ("Phone", g.phone)]
    pairs += [(f"ID ({kind})", value) for kind, value in g.external_ids.items()]
    pairs += [(f"ID ({kind})", value) for kind, value in g.channel_ids]
    return rows(*pairs)


def returning(summary: CustomerSummary) -> tuple[str, datetime | None, str] | None:
    """Baton's words around a time: ("Returning — previous conversation #c12, wrapped up", t, " (resolved)")."""
    c = summary.conversation
    p = c.previous if c else None
    if p is None:
        return None
    head = f"Returning — previous conversation #{p.public_id}, {ENDED_WORDS.get(p.status, 'ended')}"
    tail = f" ({p.wrapup_code})" if p.wrapup_code and clean(p.wrapup_code) else ""
    at = p.ended_at
    if at is not None:
        at = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return head, at, tail


def latest_line(summary: CustomerSummary) -> str | None:
    """Raw: the customer's newest message, if the summary carries one."""
    line = summary.newest_customer_line
    return line if line is not None and clean(line) else None


def state_parts(summary: CustomerSummary) -> list[str]:
    """Raw: 'Claimed by Ana' / 'Waiting for an agent', the queue."""
    c = summary.conversation
    if c is None:
        return []
    parts = [status_line(c)]
    if c.queue and clean(c.queue):
        parts.append(f"Queue: {c.queue}")
    if c.opted_out:
        parts.append(OPTED_OUT)
    return parts


def state_since(summary: CustomerSummary) -> tuple[str, datetime] | None:
    """Baton's words and a time: ('Waiting since', t). Rendered client-side, in the reader's time zone."""
    c = summary.conversation
    if c is None:
        return None
    at = summary.status_since or (c.started_at if c.status == ConversationStatus.QUEUED else None)
    if at is None:
        return None
    utc = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return SINCE_LABELS.get(c.status, "Since"), utc


def issue_line(summary: CustomerSummary) -> str | None:
    """Raw: the linked case on one line."""
    return f"Issue: {case_line(summary.issue)}" if summary.issue is not None else None


def sentiment_part(summary: CustomerSummary) -> str | None:
    s = summary.sentiment
    if s is None:
        return None
    topics = ", ".join(f"{t.phrase} {t.percent} %" for t in mentioned_topics(s)[:3])
    return f"{s.label.capitalize()} ({s.score:+.2f})" + (f", {topics}" if topics else "")


def engagement_part(summary: CustomerSummary) -> str | None:
    e = summary.engagement
    if e is None:
        return None
    parts = []
    if e.lifetime_values:
        parts.append(f"{money(e.lifetime_values)} lifetime")
    if e.order_count:
        parts.append(plural(e.order_count, "order"))
    if e.csat is not None:
        parts.append(f"CSAT {e.csat:.1f} / 5")
    return ", ".join(parts) or None


def glance_plan(summary: CustomerSummary, max_prechat: int) -> list[tuple[str, Any]]:
    """The first view after the name, in `[card] glance` order, as (kind, raw content):
    ("who", [parts]), ("returning", (words, time, words)), ("given", [rows]), ("why", [rows]), ("latest", line), ("state", ([parts], since or None)), ("issue", line),
    ("pulse", line). The sentiment and the engagement share one "pulse" line when they follow each other."""
    plan: list[tuple[str, Any]] = []
    previous = None
    for item in glance_items(summary):
        if item == "who":
            plan.append(("who", who_parts(summary)))
            if (back := returning(summary)) is not None:
                plan.append(("returning", back))
            if given := given_rows(summary):
                plan.append(("given", given))
        elif item == "why":
            why = why_rows(summary, max_prechat)
            if why:
                plan.append(("why", why))
        elif item == "latest":
            line = latest_line(summary)
            if line:
                plan.append(("latest", line))
        elif item == "state":
            if summary.conversation is not None:
                plan.append(("state", (state_parts(summary), state_since(summary))))
        elif item == "issue":
            line = issue_line(summary)
            if line:
                plan.append(("issue", line))
        elif item in ("sentiment", "engagement"):
            part = sentiment_part(summary) if item == "sentiment" else engagement_part(summary)
            if part:
                label = "Sentiment" if item == "sentiment" else "Engagement"
                if previous in ("sentiment", "engagement") and plan and plan[-1][0] == "pulse":
                    plan[-1] = ("pulse", f"{plan[-1][1]} · {label}: {part}")
                else:
                    plan.append(("pulse", f"{label}: {part}"))
        previous = item
    return plan

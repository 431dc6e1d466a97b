"""Turning stored records into the neutral `CustomerSummary` every card is rendered from."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from bot.core import sentiment
from bot.domain import (
    ConversationFacts,
    ConversationRecord,
    ConversationStatus,
    CustomerSummary,
    EngagementFacts,
)
from bot.visitor import describe_visitor
from storage.summary import OrderStats, SummaryRecord, load_summary


def reply_rule(conversation: ConversationRecord) -> str:
    """The sentence the card shows about where thread replies go (SPEC 4.3)."""
    if conversation.status == ConversationStatus.WRAPPED:
        return "Wrapped up: thread replies stay internal."
    if conversation.claimed_by is None:
        return "Unclaimed: thread replies stay internal until someone claims."
    return (
        f"Replies from {conversation.claimed_by} go to the customer; "
        "anyone else's stay internal; start with !note to keep a reply internal."
    )


def conversation_facts(conversation: ConversationRecord) -> ConversationFacts:
    return ConversationFacts(
        public_id=conversation.public_id,
        source=conversation.source,
        channel=conversation.channel,
        kind=conversation.kind,
        status=conversation.status,
        queue=conversation.queue,
        claimed_by=conversation.claimed_by,
        wrapup_code=conversation.wrapup_code,
        started_at=conversation.created_at,
        bot=conversation.bot,
        reply_rule=reply_rule(conversation),
    )


def _engagement(stats: OrderStats, now: datetime) -> EngagementFacts | None:
    if not stats.count and stats.csat is None:
        return None
    per_month = None
    if stats.count and stats.first_at is not None:
        months = max(1.0, (now - stats.first_at).days / 30.44)
        per_month = round(stats.count / months, 2)
    return EngagementFacts(
        lifetime_value=stats.total,
        currency=stats.currency,
        order_count=stats.count,
        orders_per_month=per_month,
        last_order_at=stats.last_at,
        last_order_number=stats.last_number,
        csat=round(stats.csat, 2) if stats.csat is not None else None,
        csat_responses=stats.csat_responses,
    )


def build_summary(
    record: SummaryRecord,
    *,
    now: datetime,
    topic_phrases: Sequence[str] = (),
    visible_sections: frozenset[str] | None = None,
    timeline_filter: str | None = None,
    profile_url: str | None = None,
) -> CustomerSummary:
    conversation = record.conversation
    if record.profile is not None:
        state = "matched"
    elif record.candidates:
        state = "multi_match"
    else:
        state = "no_data"
    return CustomerSummary(
        state=state,
        conversation=conversation_facts(conversation) if conversation else None,
        profile=record.profile,
        identities=record.identities,
        candidates=record.candidates,
        prechat=conversation.prechat if conversation else (),
        visitor=describe_visitor(conversation.visitor) if conversation and conversation.visitor else None,
        issue=record.issue,
        recent_cases=record.recent_cases,
        timeline=record.timeline,
        timeline_filter=timeline_filter,
        sentiment=sentiment.summarize(record.prior_interactions, topic_phrases),
        engagement=_engagement(record.orders, now),
        visible_sections=visible_sections,
        profile_url=profile_url,
    )


async def summary_for_conversation(
    conversation_id: int,
    *,
    now: datetime,
    topic_phrases: Sequence[str] = (),
    visible_sections: frozenset[str] | None = None,
    timeline_filter: str | None = None,
    conversation: ConversationRecord | None = None,
) -> CustomerSummary | None:
    """`conversation`: when the caller already loaded it (the delivery sync), so it is read once per pass."""
    record = await load_summary(conversation=conversation, conversation_id=conversation_id, timeline_filter=timeline_filter)
    if record is None:
        return None
    return build_summary(
        record, now=now, topic_phrases=topic_phrases, visible_sections=visible_sections, timeline_filter=timeline_filter
    )


async def summary_for_customer(
    customer_id: int,
    *,
    now: datetime,
    topic_phrases: Sequence[str] = (),
    visible_sections: frozenset[str] | None = None,
    timeline_filter: str | None = None,
) -> CustomerSummary | None:
    record = await load_summary(customer_id=customer_id, timeline_filter=timeline_filter)
    if record is None or record.profile is None:
        return None
    return build_summary(
        record, now=now, topic_phrases=topic_phrases, visible_sections=visible_sections, timeline_filter=timeline_filter
    )

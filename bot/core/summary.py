"""Turning stored records into the neutral `CustomerSummary` every card is rendered from."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Mapping, Sequence

from bot.core import sentiment
from bot.domain import (
    GLANCE_ITEMS,
    SUMMARY_SECTIONS,
    ConversationFacts,
    ConversationRecord,
    ConversationStatus,
    CustomerInput,
    CustomerSummary,
    EngagementFacts,
    IdentityFact,
    ProfileFacts,
    VisitorFacts,
)
from bot.visitor import describe_visitor
from storage.summary import OrderStats, SummaryRecord, load_summary


def reply_rule(conversation: ConversationRecord) -> str:
    """The sentence the card shows about where thread replies go (SPEC 4.3)."""
    if conversation.opted_out and conversation.status != ConversationStatus.WRAPPED:
        return "The customer opted out (STOP): nothing is sent to them until they text START."
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
        previous=conversation.previous,
        prechat_omitted=conversation.omitted.get("prechat", 0),
        opted_out=conversation.opted_out,
    )


def _engagement(stats: OrderStats, now: datetime) -> EngagementFacts | None:
    if not stats.count and stats.csat is None:
        return None
    per_month = None
    if stats.count and stats.first_at is not None:
        months = max(1.0, (now - stats.first_at).days / 30.44)
        per_month = round(stats.count / months, 2)
    return EngagementFacts(
        lifetime_values=stats.totals,
        order_count=stats.count,
        orders_per_month=per_month,
        last_order_at=stats.last_at,
        last_order_number=stats.last_number,
        csat=round(stats.csat, 2) if stats.csat is not None else None,
        csat_responses=stats.csat_responses,
    )


# --------------------------------------------------------------------------- fields a role does not see

# Identity kinds that are a phone number (a channel id of SMS or WhatsApp is one) or an email address.
PHONE_IDENTITY_KINDS = frozenset({"phone", "sms", "whatsapp", "voice"})
EMAIL_IDENTITY_KINDS = frozenset({"email"})
# Profile columns each hidden field covers (also what a profile edit must not blank, see actions.save_profile).
HIDDEN_PROFILE_COLUMNS: Mapping[str, tuple[str, ...]] = {"email": ("email",), "phone": ("mobile_phone", "home_phone")}


def hidden_profile_columns(hidden_fields: frozenset[str]) -> frozenset[str]:
    return frozenset(c for f in hidden_fields for c in HIDDEN_PROFILE_COLUMNS.get(f, ()))


def _hidden_profile(profile: ProfileFacts | None, hidden: frozenset[str]) -> ProfileFacts | None:
    if profile is None:
        return None
    columns = hidden_profile_columns(hidden)
    if not columns:
        return profile
    secret_values = {getattr(profile, c) for c in columns} - {None, ""}
    # A customer known only by an address or number is shown by their number in Baton instead.
    name = f"Customer {profile.customer_id}" if profile.display_name in secret_values else profile.display_name
    return replace(profile, display_name=name, **{c: None for c in columns})


def visible_identities(pairs: Sequence[tuple[str, str]], hidden: frozenset[str]) -> list[tuple[str, str]]:
    """The (kind, value) identities a role with these hidden fields may see."""
    if "identities" in hidden:
        return []
    kinds = (EMAIL_IDENTITY_KINDS if "email" in hidden else frozenset()) | (
        PHONE_IDENTITY_KINDS if "phone" in hidden else frozenset()
    )
    return [(kind, value) for kind, value in pairs if kind.lower() not in kinds]


def _hidden_identities(identities: tuple[IdentityFact, ...], hidden: frozenset[str]) -> tuple[IdentityFact, ...]:
    return tuple(IdentityFact(k, v) for k, v in visible_identities([(i.kind, i.value) for i in identities], hidden))


def _hidden_engagement(engagement: EngagementFacts | None, hidden: frozenset[str]) -> EngagementFacts | None:
    if engagement is None or "lifetime_value" not in hidden:
        return engagement
    return replace(engagement, lifetime_values=())


def _hidden_given(given: CustomerInput, hidden: frozenset[str]) -> CustomerInput | None:
    """The identity a handoff gave, without what the role may not see; None when it gave nothing."""
    if "identities" in hidden:
        given = replace(given, external_ids={}, channel_ids=())
    if "email" in hidden:
        given = replace(given, email=None)
    if "phone" in hidden:
        given = replace(given, phone=None, channel_ids=tuple(
            (kind, value) for kind, value in given.channel_ids if kind.lower() not in PHONE_IDENTITY_KINDS))
    empty = not (given.name or given.email or given.phone or given.external_ids or given.channel_ids)
    return None if empty else given


def _hidden_visitor(visitor: VisitorFacts | None, hidden: frozenset[str]) -> VisitorFacts | None:
    if visitor is None or "visitor_ip" not in hidden:
        return visitor
    return replace(visitor, ip=None)


def build_summary(
    record: SummaryRecord,
    *,
    now: datetime,
    topic_phrases: Sequence[str] = (),
    visible_sections: frozenset[str] | None = None,
    hidden_fields: frozenset[str] = frozenset(),
    timeline_filter: str | None = None,
    profile_url: str | None = None,
    glance: Sequence[str] = GLANCE_ITEMS,
    section_order: Sequence[str] = SUMMARY_SECTIONS,
    full_page: bool = False,
) -> CustomerSummary:
    """The summary as the viewer's role may see it: only `visible_sections`, and none of
    `hidden_fields` (config.HIDDEN_FIELDS) anywhere, so no renderer has to know about roles."""
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
        profile=_hidden_profile(record.profile, hidden_fields),
        identities=_hidden_identities(record.identities, hidden_fields),
        candidates=record.candidates,
        prechat=conversation.prechat if conversation else (),
        visitor=_hidden_visitor(describe_visitor(conversation.visitor), hidden_fields) if conversation and conversation.visitor else None,
        issue=record.issue,
        recent_cases=record.recent_cases,
        timeline=record.timeline,
        timeline_filter=timeline_filter,
        sentiment=sentiment.summarize(record.prior_interactions, topic_phrases),
        engagement=_hidden_engagement(_engagement(record.orders, now), hidden_fields),
        visible_sections=visible_sections,
        profile_url=profile_url,
        full_page=full_page,
        glance=tuple(glance),
        section_order=tuple(section_order),
        status_since=conversation.status_since if conversation else None,
        newest_customer_line=conversation.last_customer_line if conversation else None,
        prior_interactions=len(record.prior_interactions),
        given=_hidden_given(conversation.customer_input, hidden_fields) if conversation and state != "matched" else None,
    )


async def summary_for_conversation(
    conversation_id: int,
    *,
    now: datetime,
    topic_phrases: Sequence[str] = (),
    visible_sections: frozenset[str] | None = None,
    hidden_fields: frozenset[str] = frozenset(),
    timeline_filter: str | None = None,
    conversation: ConversationRecord | None = None,
    timeline_limit: int = 10,
    glance: Sequence[str] = GLANCE_ITEMS,
    section_order: Sequence[str] = SUMMARY_SECTIONS,
    full_page: bool = False,
) -> CustomerSummary | None:
    """`conversation`: when the caller already loaded it (the delivery sync), so it is read once per pass."""
    record = await load_summary(conversation=conversation, conversation_id=conversation_id,
                                timeline_filter=timeline_filter, timeline_limit=timeline_limit)
    if record is None:
        return None
    return build_summary(
        record, now=now, topic_phrases=topic_phrases, visible_sections=visible_sections, hidden_fields=hidden_fields,
        timeline_filter=timeline_filter, glance=glance, section_order=section_order, full_page=full_page,
    )


async def summary_for_customer(
    customer_id: int,
    *,
    now: datetime,
    topic_phrases: Sequence[str] = (),
    visible_sections: frozenset[str] | None = None,
    hidden_fields: frozenset[str] = frozenset(),
    timeline_filter: str | None = None,
    timeline_limit: int = 10,
    glance: Sequence[str] = GLANCE_ITEMS,
    section_order: Sequence[str] = SUMMARY_SECTIONS,
    full_page: bool = False,
) -> CustomerSummary | None:
    record = await load_summary(customer_id=customer_id, timeline_filter=timeline_filter, timeline_limit=timeline_limit)
    if record is None or record.profile is None:
        return None
    return build_summary(
        record, now=now, topic_phrases=topic_phrases, visible_sections=visible_sections, hidden_fields=hidden_fields,
        timeline_filter=timeline_filter, glance=glance, section_order=section_order, full_page=full_page,
    )

"""Reading everything a summary card shows, in a fixed number of bounded queries.

Whatever a customer's history size, assembling a summary costs the same queries and reads about
the same rows: every list is LIMITed and read in index order, and the engagement aggregates are
running totals on the customer row (`storage.engagement`), not computed per read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from bot.domain import (
    CaseFacts,
    ConversationRecord,
    ConversationStatus,
    IdentityFact,
    MatchCandidate,
    ProfileFacts,
    TimelineEntry,
)
from storage import codec
from storage.customers import candidate_of, survivors
from storage.models import Activity, Agent, Case, ChannelOptOut, Conversation, Customer, Identity

RECENT_CASES = 5
PRIOR_INTERACTIONS = 10
IDENTITIES_SHOWN = 20
CANDIDATES_SHOWN = 25
OPT_OUT_CHANNELS = frozenset({"sms"})  # a customer can text STOP


@dataclass(frozen=True)
class OrderStats:
    count: int = 0
    totals: tuple[tuple[str, Decimal], ...] = ()  # per currency, by code
    first_at: datetime | None = None
    last_at: datetime | None = None
    last_number: str | None = None
    csat: float | None = None
    csat_responses: int = 0


@dataclass(frozen=True)
class SummaryRecord:
    conversation: ConversationRecord | None
    profile: ProfileFacts | None
    identities: tuple[IdentityFact, ...] = ()
    candidates: tuple[MatchCandidate, ...] = ()
    issue: CaseFacts | None = None
    recent_cases: tuple[CaseFacts, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    prior_interactions: tuple[tuple[float, str], ...] = ()  # (sentiment, topic text), newest first
    orders: OrderStats = field(default_factory=OrderStats)


def _conversation_record(row: Conversation, agent: Agent | None) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        source=row.source,
        external_id=row.external_id,
        channel=row.channel,
        kind=row.kind,
        queue=row.queue,
        status=ConversationStatus(row.status),
        customer_id=row.customer_id,
        case_id=row.case_id,
        candidates=tuple(row.candidates or ()),
        customer_input=codec.customer_input(row.customer_input),
        prechat=codec.prechat(row.prechat),
        visitor=codec.visitor(row.visitor),
        bot=codec.bot_context(row.bot),
        origin=codec.origin(row.origin),
        reply_url=row.reply_url,
        claimed_by=(agent.display_name or agent.platform_user_id) if agent else None,
        claimed_by_user=agent.platform_user_id if agent else None,
        claimed_by_platform=agent.platform if agent else None,
        wrapup_code=row.wrapup_code,
        revision=row.revision,
        created_at=row.created_at,
        last_activity_at=row.last_activity_at,
        customer_anonymized=row.customer is not None and row.customer.anonymized_at is not None,
        status_since={ConversationStatus.CLAIMED.value: row.claimed_at, ConversationStatus.WRAPPED.value: row.wrapped_at}.get(
            row.status) or row.created_at,
        last_customer_line=row.last_customer_line,
        previous=codec.previous(row.previous),
        omitted=dict(row.omitted or {}),
    )


def _case_facts(case: Case) -> CaseFacts:
    return CaseFacts(
        number=case.number,
        title=case.title,
        priority=case.priority,
        status=case.status,
        product=case.product,
        owner=case.owner,
        opened_at=case.created_at,
    )


def _profile(c: Customer) -> ProfileFacts:
    return ProfileFacts(
        customer_id=c.id,
        display_name=c.display_name,
        first_name=c.first_name,
        last_name=c.last_name,
        company=c.company,
        job_title=c.job_title,
        relationship_type=c.relationship_type,
        city=c.city,
        category=c.category,
        primary_contact=c.primary_contact,
        preferred_channel=c.preferred_channel,
        gender=c.gender,
        email=c.email,
        mobile_phone=c.mobile_phone,
        home_phone=c.home_phone,
        tags=tuple(c.tags or ()),
        notes=c.notes,
        locked=c.locked,
        anonymized=c.anonymized_at is not None,
    )


async def load_conversation(conversation_id: int) -> ConversationRecord | None:
    row = await Conversation.get_or_none(id=conversation_id).select_related("claimed_by", "customer")
    if row is None:
        return None
    record = _conversation_record(row, row.claimed_by)
    if row.channel in OPT_OUT_CHANNELS:  # one more indexed read, for the channels that have an opt-out
        opted_out = await ChannelOptOut.filter(source=row.source, external_id=row.external_id).exists()
        record = replace(record, opted_out=opted_out)
    return record


async def load_summary(
    *,
    conversation: ConversationRecord | None = None,
    conversation_id: int | None = None,
    customer_id: int | None = None,
    timeline_filter: str | None = None,
    timeline_limit: int = 10,
) -> SummaryRecord | None:
    """Everything the card needs for a conversation, or for a customer alone (lookups).

    A caller that already loaded the conversation passes it (`conversation`), so it is not read twice."""
    if conversation is None and conversation_id is not None:
        conversation = await load_conversation(conversation_id)
        if conversation is None:
            return None
    if conversation is not None:
        customer_id = conversation.customer_id

    customer = None
    if customer_id is not None:
        customer = await Customer.get_or_none(id=customer_id)
        if customer is not None and customer.merged_into_id is not None:
            survivor = (await survivors([customer.id]))[customer.id]
            customer = await Customer.get_or_none(id=survivor)
    if customer is None:
        return SummaryRecord(
            conversation=conversation,
            profile=None,
            candidates=await _candidates(conversation.candidates if conversation else ()),
            issue=await _issue(conversation),
        )

    timeline = Activity.filter(customer_id=customer.id)
    if timeline_filter:
        timeline = timeline.filter(category=timeline_filter)
    activities = await timeline.order_by("-at", "-id").limit(timeline_limit).values(
        "at", "category", "kind", "title", "detail", "conversation__channel", "conversation__status")
    identities = await Identity.filter(customer_id=customer.id).order_by("kind", "id").limit(IDENTITIES_SHOWN)
    cases = await Case.filter(customer_id=customer.id).order_by("-created_at", "-id").limit(RECENT_CASES)

    prior = Conversation.filter(customer_id=customer.id, sentiment__not_isnull=True)
    if conversation is not None:
        prior = prior.exclude(id=conversation.id)
    interactions = await prior.order_by("-created_at", "-id").limit(PRIOR_INTERACTIONS).values_list("sentiment", "topic_text")

    return SummaryRecord(
        conversation=conversation,
        profile=_profile(customer),
        identities=tuple(IdentityFact(i.kind, i.value) for i in identities),
        issue=await _issue(conversation),
        recent_cases=tuple(_case_facts(c) for c in cases),
        timeline=tuple(_timeline_entry(a) for a in activities),
        prior_interactions=tuple((s, t or "") for s, t in interactions),
        orders=_engagement_totals(customer),
    )


def _timeline_entry(row: dict) -> TimelineEntry:
    """An activity as the timeline shows it: an email no agent has claimed yet says it is queued (SPEC 3.7), read
    with the activity (one joined query), so the claim changes it with nothing else to update."""
    title = row["title"]
    status = row["conversation__status"]
    if (row["kind"] == "conversation" and row["conversation__channel"] == "email"
            and getattr(status, "value", status) == ConversationStatus.QUEUED.value):
        title = f"{title} (queued: no agent has claimed it yet)"
    return TimelineEntry(row["at"], row["category"], row["kind"], title, row["detail"])


async def _issue(conversation: ConversationRecord | None) -> CaseFacts | None:
    if conversation is None or conversation.case_id is None:
        return None
    case = await Case.get_or_none(id=conversation.case_id)
    return _case_facts(case) if case else None


async def _candidates(ids: tuple[int, ...]) -> tuple[MatchCandidate, ...]:
    if not ids:
        return ()
    rows = await Customer.filter(id__in=list(ids)[:CANDIDATES_SHOWN]).order_by("id")
    return tuple(candidate_of(c) for c in rows)


def money_totals(cents: dict | None) -> tuple[tuple[str, Decimal], ...]:
    """{"USD": 117500, "EUR": 300} → (("EUR", 3.00), ("USD", 1175.00)): one amount per currency."""
    return tuple((code, (Decimal(int(amount)) / 100).quantize(Decimal("0.01"))) for code, amount in sorted((cents or {}).items()))


def _engagement_totals(c: Customer) -> OrderStats:
    """The running totals `storage.engagement` keeps on the customer row: no aggregate per read."""
    return OrderStats(
        count=c.order_count,
        totals=money_totals(c.order_totals),
        first_at=c.first_order_at,
        last_at=c.last_order_at,
        last_number=c.last_order_number,
        # Not an average kept in the row: points and responses keep the fraction exact.
        csat=c.csat_points / c.csat_responses if c.csat_responses else None,
        csat_responses=c.csat_responses,
    )

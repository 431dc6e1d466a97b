"""Reading everything a summary card shows, in a fixed number of bounded queries.

Whatever a customer's history size, assembling a summary costs the same queries and reads about
the same rows: every list is LIMITed and read in index order, and the engagement aggregates are
running totals on the customer row (`storage.engagement`), not computed per read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from bot.domain import (
    CaseFacts,
    ConversationRecord,
    ConversationStatus,
    IdentityFact,
    MatchCandidate,
    ProfileFacts,
    TimelineEntry,
)
from storage import codec, sql
from storage.customers import candidate_of, survivors
from storage.models import Activity, Case, Conversation, Customer

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


def _case_facts(case: Case | SimpleNamespace) -> CaseFacts:
    return CaseFacts(
        number=case.number,
        title=case.title,
        priority=case.priority,
        status=case.status,
        product=case.product,
        owner=case.owner,
        opened_at=case.created_at,
    )


def _profile(c: Customer | SimpleNamespace) -> ProfileFacts:
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


# One statement for what a sync, a claim or a relay reads of a conversation: the row, its claiming agent,
# whether its customer is anonymized and, on the channels that have one, the customer's opt-out.
_CONVERSATION_COLUMNS = (
    "id", "source", "external_id", "channel", "kind", "queue", "status", "customer_id", "case_id", "candidates",
    "customer_input", "prechat", "visitor", "bot", "origin", "reply_url", "claimed_at", "wrapup_code", "wrapped_at",
    "revision", "created_at", "last_activity_at", "last_customer_line", "previous", "omitted",
)
_OPT_OUT_IN = ", ".join(f"'{channel}'" for channel in sorted(OPT_OUT_CHANNELS))
_CONVERSATION_SQL = (
    f"SELECT {', '.join('c.' + name for name in _CONVERSATION_COLUMNS)}, "
    "a.id AS agent_id, a.display_name AS agent_name, a.platform_user_id AS agent_user, a.platform AS agent_platform, "
    "u.anonymized_at AS customer_anonymized_at, "
    f"CASE WHEN c.channel IN ({_OPT_OUT_IN}) THEN EXISTS (SELECT 1 FROM channel_opt_out o "
    "WHERE o.source = c.source AND o.external_id = c.external_id) ELSE FALSE END AS opted_out "
    "FROM conversation c LEFT JOIN agent a ON a.id = c.claimed_by_id LEFT JOIN customer u ON u.id = c.customer_id "
    "WHERE c.id = ?"
)
# The same, with the conversation's thread root on one target (storage.posts.conversation_and_root): a sync's
# first two reads in one statement. Its placeholders: the target, the root's item, the conversation id.
_ROOT_COLUMNS = ("id", "channel", "ref", "thread_ref", "revision", "last_message_id")
CONVERSATION_WITH_ROOT_SQL = _CONVERSATION_SQL.replace(
    " FROM conversation c ",
    f", {', '.join(f'p.{name} AS root_{name}' for name in _ROOT_COLUMNS)} FROM conversation c "
    "LEFT JOIN platform_post p ON p.target = ? AND p.item = ? ",
)
_JSON_COLUMNS = ("candidates", "customer_input", "prechat", "visitor", "bot", "origin", "previous", "omitted")
_DATETIME_COLUMNS = ("claimed_at", "wrapped_at", "created_at", "last_activity_at")
_CONVERSATION_FIELDS = {name: sql.converter(Conversation, name) for name in _JSON_COLUMNS + _DATETIME_COLUMNS}
_ANONYMIZED_AT = sql.converter(Customer, "anonymized_at")


def record_from_row(row: dict) -> ConversationRecord:
    value = {name: convert(row[name]) for name, convert in _CONVERSATION_FIELDS.items()}
    status = row["status"]
    claimed = row["agent_id"] is not None
    return ConversationRecord(
        id=row["id"],
        source=row["source"],
        external_id=row["external_id"],
        channel=row["channel"],
        kind=row["kind"],
        queue=row["queue"],
        status=ConversationStatus(status),
        customer_id=row["customer_id"],
        case_id=row["case_id"],
        candidates=tuple(value["candidates"] or ()),
        customer_input=codec.customer_input(value["customer_input"]),
        prechat=codec.prechat(value["prechat"]),
        visitor=codec.visitor(value["visitor"]),
        bot=codec.bot_context(value["bot"]),
        origin=codec.origin(value["origin"]),
        reply_url=row["reply_url"],
        claimed_by=(row["agent_name"] or row["agent_user"]) if claimed else None,
        claimed_by_user=row["agent_user"] if claimed else None,
        claimed_by_platform=row["agent_platform"] if claimed else None,
        wrapup_code=row["wrapup_code"],
        revision=row["revision"],
        created_at=value["created_at"],
        last_activity_at=value["last_activity_at"],
        customer_anonymized=_ANONYMIZED_AT(row["customer_anonymized_at"]) is not None,
        status_since={ConversationStatus.CLAIMED.value: value["claimed_at"],
                      ConversationStatus.WRAPPED.value: value["wrapped_at"]}.get(status) or value["created_at"],
        last_customer_line=row["last_customer_line"],
        previous=codec.previous(value["previous"]),
        omitted=dict(value["omitted"] or {}),
        opted_out=bool(row["opted_out"]),
    )


async def load_conversation(conversation_id: int) -> ConversationRecord | None:
    """One statement (`_CONVERSATION_SQL`), read on every sync: no ORM query or model instance built for it."""
    found = await sql.rows(_CONVERSATION_SQL, [conversation_id])
    return record_from_row(found[0]) if found else None


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
        customer = await _customer(customer_id)
        if customer is not None and customer.merged_into_id is not None:
            survivor = (await survivors([customer.id]))[customer.id]
            customer = await _customer(survivor)
    if customer is None:
        return SummaryRecord(
            conversation=conversation,
            profile=None,
            candidates=await _candidates(conversation.candidates if conversation else ()),
            issue=await _issue(conversation),
        )

    # Plain SQL, as the ORM would have sent it (storage.sql): a card's summary is read on every card a sync posts.
    if timeline_filter:
        activities = await sql.rows(_TIMELINE_SQL[1], [customer.id, timeline_filter, timeline_limit])
    else:
        activities = await sql.rows(_TIMELINE_SQL[0], [customer.id, timeline_limit])
    identities = await sql.rows(_IDENTITIES_SQL, [customer.id, IDENTITIES_SHOWN])
    cases = await sql.rows(_CASES_SQL, [customer.id, RECENT_CASES])
    if conversation is not None:
        interactions = await sql.rows(_PRIOR_SQL[1], [customer.id, conversation.id, PRIOR_INTERACTIONS])
    else:
        interactions = await sql.rows(_PRIOR_SQL[0], [customer.id, PRIOR_INTERACTIONS])

    return SummaryRecord(
        conversation=conversation,
        profile=_profile(customer),
        identities=tuple(IdentityFact(i["kind"], i["value"]) for i in identities),
        issue=await _issue(conversation),
        recent_cases=tuple(_case_facts(_case_row(c)) for c in cases),
        timeline=tuple(_timeline_entry(_activity_row(a)) for a in activities),
        prior_interactions=tuple((_SENTIMENT(i["sentiment"]), i["topic_text"] or "") for i in interactions),
        orders=_engagement_totals(customer),
    )


_CUSTOMER_COLUMNS = (
    "id", "display_name", "first_name", "last_name", "company", "job_title", "relationship_type", "city", "category",
    "primary_contact", "preferred_channel", "gender", "email", "mobile_phone", "home_phone", "tags", "notes", "locked",
    "anonymized_at", "merged_into_id", "order_count", "order_totals", "first_order_at", "last_order_at",
    "last_order_number", "csat_points", "csat_responses",
)
_CUSTOMER_SQL = f"SELECT {', '.join(_CUSTOMER_COLUMNS)} FROM customer WHERE id = ?"
_CUSTOMER_FIELDS = {name: sql.converter(Customer, name)
                    for name in ("tags", "locked", "anonymized_at", "order_totals", "first_order_at", "last_order_at")}
_TIMELINE = ("SELECT a.at, a.category, a.kind, a.title, a.detail, v.channel AS conversation__channel, "
             "v.status AS conversation__status FROM activity a LEFT JOIN conversation v ON v.id = a.conversation_id "
             "WHERE a.customer_id = ?{} ORDER BY a.at DESC, a.id DESC LIMIT ?")
_TIMELINE_SQL = (_TIMELINE.format(""), _TIMELINE.format(" AND a.category = ?"))
_ACTIVITY_AT = sql.converter(Activity, "at")
_IDENTITIES_SQL = "SELECT kind, value FROM identity WHERE customer_id = ? ORDER BY kind, id LIMIT ?"
_CASE_COLUMNS = "number, title, priority, status, product, owner, created_at"
_CASES_SQL = f"SELECT {_CASE_COLUMNS} FROM support_case WHERE customer_id = ? ORDER BY created_at DESC, id DESC LIMIT ?"
_ISSUE_SQL = f"SELECT {_CASE_COLUMNS} FROM support_case WHERE id = ?"
_CASE_CREATED = sql.converter(Case, "created_at")
_PRIOR = ("SELECT sentiment, topic_text FROM conversation WHERE customer_id = ? AND sentiment IS NOT NULL{} "
          "ORDER BY created_at DESC, id DESC LIMIT ?")
_PRIOR_SQL = (_PRIOR.format(""), _PRIOR.format(" AND id <> ?"))
_SENTIMENT = sql.converter(Conversation, "sentiment")


async def _customer(customer_id: int) -> SimpleNamespace | None:
    """The customer's row with the attributes `_profile` and `_engagement_totals` read, converted as the ORM does."""
    found = await sql.rows(_CUSTOMER_SQL, [customer_id])
    if not found:
        return None
    row = found[0]
    row.update({name: convert(row[name]) for name, convert in _CUSTOMER_FIELDS.items()})
    return SimpleNamespace(**row)


def _case_row(row: dict) -> SimpleNamespace:
    return SimpleNamespace(**{**row, "created_at": _CASE_CREATED(row["created_at"])})


def _activity_row(row: dict) -> dict:
    return {**row, "at": _ACTIVITY_AT(row["at"])}


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
    found = await sql.rows(_ISSUE_SQL, [conversation.case_id])
    return _case_facts(_case_row(found[0])) if found else None


async def _candidates(ids: tuple[int, ...]) -> tuple[MatchCandidate, ...]:
    if not ids:
        return ()
    rows = await Customer.filter(id__in=list(ids)[:CANDIDATES_SHOWN]).order_by("id")
    return tuple(candidate_of(c) for c in rows)


def money_totals(cents: dict | None) -> tuple[tuple[str, Decimal], ...]:
    """{"USD": 117500, "EUR": 300} → (("EUR", 3.00), ("USD", 1175.00)): one amount per currency."""
    return tuple((code, (Decimal(int(amount)) / 100).quantize(Decimal("0.01"))) for code, amount in sorted((cents or {}).items()))


def _engagement_totals(c: Customer | SimpleNamespace) -> OrderStats:
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

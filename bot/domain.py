"""Typed values that cross Baton's layers.

Every edge (generic webhook, Bot Framework, Dialogflow, Slack, Teams) parses its payload once into
these frozen dataclasses; the core and the card renderers never see a platform's raw dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Mapping

ConversationKind = Literal["customer", "internal", "agent_to_agent", "unrouted"]
CONVERSATION_KINDS: tuple[str, ...] = ("customer", "internal", "agent_to_agent", "unrouted")
# Kinds for which no summary card is shown (seed: the panel stays hidden).
CARDLESS_KINDS: frozenset[str] = frozenset({"internal", "agent_to_agent", "unrouted"})

SummaryState = Literal["matched", "multi_match", "no_data"]


class ConversationStatus(StrEnum):
    """Where a handed-off conversation stands. Stored as its value; compares equal to it."""

    QUEUED = "queued"  # waiting for an agent
    CLAIMED = "claimed"  # an agent has it; their thread replies go to the customer
    WRAPPED = "wrapped"  # ended with a disposition code
    FAILED = "failed"  # could not be routed to any channel

    @property
    def ended(self) -> bool:
        return self in ENDED_STATUSES


ENDED_STATUSES: frozenset[ConversationStatus] = frozenset({ConversationStatus.WRAPPED, ConversationStatus.FAILED})

# A delivery channel stored as "C123@T456" is channel C123 of workspace T456 (Slack OAuth installs).
CHANNEL_WORKSPACE_MARK = "@"


def channel_id_of(stored: str | None) -> str:
    """The platform's own channel id of a stored delivery channel: "C123@T456" → "C123"."""
    return (stored or "").partition(CHANNEL_WORKSPACE_MARK)[0]


def public_id(conversation_id: int) -> str:
    """What agents type after '#': short, stable, and readable aloud ("c12")."""
    return f"c{conversation_id}"


def parse_public_id(text: str | None) -> int | None:
    """"#c12", "c12", "C12" → 12; anything else → None."""
    text = (text or "").strip().lstrip("#").lower()
    if text.startswith("c") and text[1:].isdigit():
        return int(text[1:])
    return None
TimelineCategory = Literal["customer", "case", "conversation"]
TIMELINE_CATEGORIES: tuple[str, ...] = ("customer", "case", "conversation")


# --------------------------------------------------------------------------- intake


@dataclass(frozen=True)
class Attachment:
    name: str
    url: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class TranscriptLine:
    """One line of the bot conversation or a later message. `sender` is who typed it."""

    sender: Literal["customer", "bot", "agent", "system"]
    text: str
    at: datetime | None = None
    sender_name: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class CustomerInput:
    """What the handoff says about the customer; nothing here is trusted or normalized yet."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    external_ids: Mapping[str, str] = field(default_factory=dict)
    # Channel identities such as ("sms", "+14155550123") or ("msteams", "29:1abc").
    channel_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PrechatAnswer:
    question: str
    answer: str


@dataclass(frozen=True)
class VisitorInput:
    user_agent: str | None = None
    ip: str | None = None
    locale: str | None = None
    location: str | None = None
    page_url: str | None = None
    referrer: str | None = None


@dataclass(frozen=True)
class BotContext:
    """What the virtual agent knew when it handed over."""

    name: str | None = None
    last_topic: str | None = None
    topics: tuple[str, ...] = ()
    reason: str | None = None
    agent_message: str | None = None
    last_phrases: str | None = None
    language: str | None = None
    # Anything else the bot sent (Copilot Studio user variables, Dialogflow session parameters).
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BotFrameworkOrigin:
    """Where a Bot Framework handoff came from, so Baton can send handoff.status and relay replies."""

    service_url: str
    conversation_id: str
    channel_id: str
    bot_id: str | None = None
    bot_name: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    activity_id: str | None = None
    tenant_id: str | None = None  # Teams needs it for proactive messages


@dataclass(frozen=True)
class Cut:
    """A value made to fit its cap instead of refusing the handoff (SPEC 3.4): the field, a sentence for the
    sender's `warnings`, and how many items a list lost (the card says "+N more")."""

    field: str
    detail: str
    omitted: int = 0

    def warning(self) -> dict[str, str]:
        return {"field": self.field, "detail": self.detail}


@dataclass(frozen=True)
class Handoff:
    """A customer being handed to a human, whatever system sent it (SPEC 3)."""

    source: str
    conversation_id: str
    channel: str = "webchat"
    kind: str = "customer"
    queue: str | None = None
    customer: CustomerInput = field(default_factory=CustomerInput)
    prechat: tuple[PrechatAnswer, ...] = ()
    visitor: VisitorInput | None = None
    bot: BotContext | None = None
    transcript: tuple[TranscriptLine, ...] = ()
    case_number: str | None = None
    reply_url: str | None = None
    origin: BotFrameworkOrigin | None = None
    cuts: tuple[Cut, ...] = ()  # what was cut to fit (the answer's warnings)
    # The request's Idempotency-Key (for handoff.initiate, the activity id): a repeat gets the first answer.
    idempotency_key: str | None = None

    def omitted(self, field: str) -> int:
        """Items a list lost when it was cut to fit, e.g. omitted("prechat")."""
        return sum(cut.omitted for cut in self.cuts if cut.field == field)


@dataclass(frozen=True)
class IntakeResult:
    conversation_public_id: str
    created: bool
    appended_lines: int = 0
    warnings: tuple[Cut, ...] = ()
    duplicate: bool = False  # a received mail whose Message-ID was stored before: nothing was stored for it


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Actor:
    """A person acting in Slack or Teams, as that platform identifies them."""

    platform: Literal["slack", "teams", "cli", "system"]
    user_id: str
    display_name: str | None = None
    role: str = "agent"
    team_id: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.user_id


SYSTEM_ACTOR = Actor(platform="system", user_id="baton", display_name="Baton", role="admin")


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class IdentityFact:
    kind: str  # email | phone | channel id kind | external system name
    value: str


@dataclass(frozen=True)
class ProfileFacts:
    customer_id: int
    display_name: str
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    job_title: str | None = None
    relationship_type: str | None = None
    city: str | None = None
    category: str | None = None
    primary_contact: str | None = None
    preferred_channel: str | None = None
    gender: str | None = None
    email: str | None = None
    mobile_phone: str | None = None
    home_phone: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    locked: bool = False
    anonymized: bool = False


@dataclass(frozen=True)
class VisitorFacts:
    browser: str | None = None
    os: str | None = None
    device: str | None = None
    location: str | None = None
    language: str | None = None
    page_url: str | None = None
    referrer: str | None = None
    ip: str | None = None


@dataclass(frozen=True)
class CaseFacts:
    number: str
    title: str
    priority: str | None = None
    status: str | None = None
    product: str | None = None
    owner: str | None = None
    opened_at: datetime | None = None


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    category: str  # one of TIMELINE_CATEGORIES
    kind: str  # case | note | comment | conversation | order | email | call | survey
    title: str
    detail: str | None = None


@dataclass(frozen=True)
class TopicShare:
    phrase: str
    mentions: int
    interactions: int

    @property
    def percent(self) -> int:
        return round(100 * self.mentions / self.interactions) if self.interactions else 0


@dataclass(frozen=True)
class SentimentFacts:
    score: float  # -1 (negative) .. +1 (positive), weighted toward the newest interactions
    label: str  # negative | neutral | positive
    interactions: int
    topics: tuple[TopicShare, ...] = ()


@dataclass(frozen=True)
class EngagementFacts:
    # Lifetime value per currency, (("EUR", 300.00), ("USD", 1175.00)) by code: never summed across currencies.
    lifetime_values: tuple[tuple[str, Decimal], ...] = ()
    order_count: int = 0
    orders_per_month: float | None = None
    last_order_at: datetime | None = None
    last_order_number: str | None = None
    csat: float | None = None  # average 1..5
    csat_responses: int = 0


@dataclass(frozen=True)
class AuditEntry:
    """One audit record (SPEC 5 Roles): who did what to which customer, when. Never changed once written."""

    id: int
    at: datetime
    actor: str  # "slack:U123", "teams:29:…", "system:baton"
    actor_name: str | None
    action: str  # view | lookup | identities | export | merge | unmerge | edit | lock | unlock | anonymize | link | create | audit
    customer_id: int | None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MatchCandidate:
    customer_id: int
    display_name: str
    hint: str | None = None  # company / city: enough to tell two Dana Whitfields apart


@dataclass(frozen=True)
class PreviousConversation:
    """The conversation this customer had before with the same source and id (SPEC 3.1 returning customers)."""

    public_id: str
    status: str
    wrapup_code: str | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Alert:
    """What a timer's thread line must also do to reach people (decided in bot.core.routing.alert_for,
    rendered by each poster). `broadcast`: show it in the channel, not only the thread (Slack
    reply_broadcast, a Teams channel post with a link). `mention`: a Slack user group id or a Teams tag
    to mention. `elsewhere`: a channel or user to post a new message with a link to the thread."""

    kind: str  # reminder | escalation
    broadcast: bool = False
    mention: str | None = None
    elsewhere: str | None = None


@dataclass(frozen=True)
class ConversationFacts:
    public_id: str  # what agents type after '#'
    source: str
    channel: str
    kind: str
    status: ConversationStatus
    queue: str | None = None
    claimed_by: str | None = None
    wrapup_code: str | None = None
    started_at: datetime | None = None
    bot: BotContext | None = None
    reply_rule: str | None = None  # what happens to thread replies right now
    previous: PreviousConversation | None = None  # the customer is back: their earlier conversation
    prechat_omitted: int = 0  # pre-chat answers cut from the handoff to fit (SPEC 3.4: "+10 more answers")
    opted_out: bool = False  # the customer texted STOP: replies are not sent (SPEC 3.6)


@dataclass(frozen=True)
class CustomerSummary:
    """The neutral set of facts every card renderer works from (SPEC 4.1)."""

    state: SummaryState
    conversation: ConversationFacts | None = None
    profile: ProfileFacts | None = None
    identities: tuple[IdentityFact, ...] = ()
    candidates: tuple[MatchCandidate, ...] = ()
    prechat: tuple[PrechatAnswer, ...] = ()
    visitor: VisitorFacts | None = None
    issue: CaseFacts | None = None
    recent_cases: tuple[CaseFacts, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    timeline_filter: str | None = None
    sentiment: SentimentFacts | None = None
    engagement: EngagementFacts | None = None
    # Sections the viewer's role may see; None means all.
    visible_sections: frozenset[str] | None = None
    profile_url: str | None = None
    # The customer page is on (SPEC 4.4): the card offers *Open full profile*, whose link is made per agent
    # on the click (`profile_url`, when set, is that link, in a view for one agent alone).
    full_page: bool = False
    # The card's first view (SPEC 4.1 "At a glance"): which glance items show, in this order ([card] glance),
    # and the order of the sections behind *Details* ([card] sections). Unknown names are ignored.
    glance: tuple[str, ...] = field(default_factory=lambda: GLANCE_ITEMS)
    section_order: tuple[str, ...] = field(default_factory=lambda: SUMMARY_SECTIONS)
    # When the conversation entered its current status (waiting since / claimed at / wrapped at); None: the
    # renderers fall back to the conversation's start for a waiting conversation. Cards render it client-side
    # (Slack's date element, Teams' DATE()/TIME()), so a card is never stale.
    status_since: datetime | None = None
    # The customer's newest message in this conversation (untrusted), so the first view stays current.
    newest_customer_line: str | None = None
    # Interactions of this customer before this conversation: > 0 reads "returning"; None: unknown.
    prior_interactions: int | None = None
    # What the handoff said about the person when no one customer matched (no-data, multi-match): shown
    # "as given, not in the CRM", and what *Create customer* starts from (SPEC 4.1).
    given: CustomerInput | None = None

    def shows(self, section: str) -> bool:
        return self.visible_sections is None or section in self.visible_sections


SUMMARY_SECTIONS: tuple[str, ...] = (
    "profile",
    "conversation",
    "issue",
    "recent_cases",
    "timeline",
    "sentiment",
    "engagement",
)
# What the card's first view can hold, in the SPEC's order (who, why, the state, a one-line issue, a one-line
# sentiment and engagement summary); `latest` is the customer's newest message. The actions always show.
GLANCE_ITEMS: tuple[str, ...] = ("who", "why", "latest", "state", "issue", "sentiment", "engagement")


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class CommandRequest:
    """`/baton …` or `@Baton …`, parsed at the edge. `text` is what follows the command or mention."""

    actor: Actor
    text: str
    platform: str  # slack | teams
    channel_id: str | None = None
    # The handoff conversation of the thread the command was typed in, if any.
    thread_conversation: int | None = None
    # Platform reference of the channel, for `route here` (a Teams conversation reference).
    channel_reference: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Form:
    """A form the core asks an edge to open (Slack modal, Teams dialog or inline card).

    `name` is one of FORMS. `ids` say what the form acts on (conversation, customer, survivor, merged) and
    come back untouched in the submission; `values` prefill it (profile fields, codes, candidates…)."""

    name: str
    ids: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)


# The forms the core can open; each edge has one renderer per name.
FORMS: tuple[str, ...] = ("note", "comment", "wrapup", "profile", "merge_confirm", "anonymize_confirm", "search", "pick",
                           "transfer", "priority")

# The profile form's fields, in order: (name, label). Each platform adds its own input limits.
PROFILE_FORM_FIELDS: tuple[tuple[str, str], ...] = (
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("company", "Company"),
    ("gender", "Gender"),
    ("email", "Email"),
    ("mobile_phone", "Mobile phone"),
    ("home_phone", "Home phone"),
    ("tags", "Tags (comma separated)"),
    ("notes", "Notes"),
)

SummaryView = Literal["lookup", "card", "details"]  # compact answer | the full card | every section


@dataclass(frozen=True)
class Outcome:
    """What the core answers a command, a card action or a form; each edge renders it natively.

    - `text`: shown to the caller (privately unless `private` is False);
    - `card`: the thread card as it stands now (agent view) — Teams replaces the clicked card with it; Slack's
      card is edited through the outbox, so Slack shows only the text;
    - `summary` + `view`: a summary for the caller alone, by the caller's role (a lookup, a filtered
      timeline, the details of a card);
    - `form`: a form to open; `field_errors`: per-field refusals of a submitted form;
    - `candidates`: customers to choose from; `attachment`: a file for the caller (an export)."""

    text: str | None = None
    ok: bool = True  # False: a refusal (the text says why; `field_errors` name the fields at fault)
    card: CustomerSummary | None = None
    summary: CustomerSummary | None = None
    view: SummaryView = "lookup"
    form: Form | None = None
    field_errors: Mapping[str, str] = field(default_factory=dict)
    candidates: tuple[MatchCandidate, ...] = ()
    attachment: tuple[str, bytes] | None = None  # (file name, content)
    private: bool = True
    conversation_id: int | None = None
    page: int = 0  # the page of a `details` view
    link: str | None = None  # a link for the caller alone (the customer page, signed for them): a URL button


@dataclass(frozen=True)
class UnfurlFacts:
    """A customer-page link pasted in a channel, as its unfurl shows it (the `agent` role's view)."""

    id: int
    name: str
    url: str
    company: str | None = None
    open_cases: int | None = None  # None: the role does not see cases
    last_contact: datetime | None = None


# --------------------------------------------------------------------------- interactions


@dataclass(frozen=True)
class CardAction:
    """A button or select on a card (any platform): the verb and what the button carries."""

    actor: Actor
    verb: str  # one of bot.cards.actions.VERBS
    conversation_id: int | None = None
    customer_id: int | None = None
    filter: str | None = None
    query: str | None = None  # a search typed into the card (Teams)
    page: int = 0
    form: str | None = None  # OPEN_FORM: which form, with `ids`
    ids: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FormSubmission:
    """A submitted form: its name, the ids it was opened with and the values typed, by field name."""

    actor: Actor
    form: str
    ids: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ThreadMessage:
    """Someone typed in a handoff thread (not a command): a reply, a !note, or internal chatter."""

    actor: Actor
    conversation_id: int
    text: str
    attachments: tuple[Mapping[str, Any], ...] = ()
    # The platform's id of this message (e.g. a Slack event id): stored with it, so a retry is never stored twice.
    once_key: str | None = None


@dataclass(frozen=True)
class ThreadMessageOutcome:
    relayed: bool  # it goes to the customer
    note: bool  # it became a note


# --------------------------------------------------------------------------- customer-bound


@dataclass(frozen=True)
class CustomerFile:
    """A file the customer sent (a web chat upload, an MMS picture) on its way into the agents' thread.

    `bot.core.customer_files.attach` stores it with the customer's message; the outbox then puts it into
    every thread as a real file (Slack external upload, a Teams attachment), once, however often it retries."""

    name: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class StoredFile:
    """A customer file as the outbox reads it back: its id (the `file` of the message's attachment) and content."""

    id: int
    file: CustomerFile


@dataclass(frozen=True)
class Reply:
    """An agent's reply on its way to the customer, whatever channel carries it."""

    id: int
    agent_name: str
    text: str
    attachments: tuple[Mapping[str, Any], ...]
    at: datetime
    platform: str | None = None  # where the agent wrote it ("slack", "teams"): where its files live


@dataclass(frozen=True)
class StatusEvent:
    """A status change on its way to the customer's side: accepted (claimed), completed (wrapped up), failed."""

    id: int
    state: str
    by: str | None  # the agent, when one made the change
    at: datetime
    # The disposition of `completed`, kept with the event: the conversation may be read before the wrap-up commits.
    code: str | None = None


# --------------------------------------------------------------------------- stored conversations


@dataclass(frozen=True)
class ConversationRecord:
    """A stored conversation as the core reads it (storage builds it; nothing here is a raw dict)."""

    id: int
    source: str
    external_id: str
    channel: str
    kind: str
    queue: str | None
    status: ConversationStatus
    customer_id: int | None
    case_id: int | None
    candidates: tuple[int, ...]
    customer_input: CustomerInput
    prechat: tuple[PrechatAnswer, ...]
    visitor: VisitorInput | None
    bot: BotContext | None
    origin: BotFrameworkOrigin | None
    reply_url: str | None
    claimed_by: str | None
    claimed_by_user: str | None
    claimed_by_platform: str | None
    wrapup_code: str | None
    revision: int
    created_at: datetime
    last_activity_at: datetime
    customer_anonymized: bool = False
    status_since: datetime | None = None  # when it entered its status: queued at creation, claimed, wrapped
    last_customer_line: str | None = None  # the customer's newest words in it
    previous: PreviousConversation | None = None  # the same source and id ended before: a returning customer
    omitted: Mapping[str, int] = field(default_factory=dict)  # items lists lost to fit, e.g. {"prechat": 10}
    opted_out: bool = False  # the customer texted STOP: nothing more is sent to them (SPEC 3.6)

    @property
    def public_id(self) -> str:
        return public_id(self.id)

    def claimed_by_actor(self, actor: Actor) -> bool:
        return (
            self.status == ConversationStatus.CLAIMED
            and self.claimed_by_user == actor.user_id
            and self.claimed_by_platform == actor.platform
        )

"""Factories for CustomerSummary values (`make_summary(**overrides)`), and the validity checks every card test applies.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Iterator

from jsonschema import validators
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.domain import (
    BotContext,
    CaseFacts,
    ConversationFacts,
    CustomerSummary,
    EngagementFacts,
    IdentityFact,
    MatchCandidate,
    PrechatAnswer,
    ProfileFacts,
    SentimentFacts,
    TimelineEntry,
    TopicShare,
    VisitorFacts,
)

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
PUBLIC_ID = "c-7f3a"
CUSTOMER_ID = 1042


def make_bot(**overrides) -> BotContext:
    defaults = dict(
        name="Acme Assistant",
        last_topic="Order status",
        topics=("Greeting", "Order status"),
        reason="customer asked for a human",
        agent_message="Customer says the parcel arrived damaged.",
    )
    return BotContext(**{**defaults, **overrides})


def make_conversation(**overrides) -> ConversationFacts:
    defaults = dict(
        public_id=PUBLIC_ID,
        source="acme-virtual-agent",
        channel="webchat",
        kind="customer",
        status="queued",
        queue="billing",
        started_at=T0,
        bot=make_bot(),
        reply_rule="Claim the conversation to reply; start a message with !note to keep it internal.",
    )
    return ConversationFacts(**{**defaults, **overrides})


def make_profile(**overrides) -> ProfileFacts:
    defaults = dict(
        customer_id=CUSTOMER_ID,
        display_name="Dana Whitfield",
        first_name="Dana",
        last_name="Whitfield",
        company="Whitfield Outdoor",
        job_title="Purchasing lead",
        relationship_type="Customer",
        city="Austin",
        category="Retail",
        primary_contact="Dana Whitfield",
        preferred_channel="email",
        email="dana.w@example.com",
    )
    return ProfileFacts(**{**defaults, **overrides})


def make_case(number: str = "CAS-01234", **overrides) -> CaseFacts:
    defaults = dict(
        number=number,
        title="Parcel arrived damaged",
        priority="High",
        status="Open",
        product="Trail tent 2P",
        owner="Ana Ortiz",
        opened_at=T0,
    )
    return CaseFacts(**{**defaults, **overrides})


def make_timeline(n: int = 6) -> tuple[TimelineEntry, ...]:
    """n entries, oldest first, cycling through the three categories."""
    kinds = (("customer", "note"), ("case", "case"), ("conversation", "conversation"))
    return tuple(
        TimelineEntry(
            at=T0 - timedelta(days=n - i),
            category=kinds[i % 3][0],
            kind=kinds[i % 3][1],
            title=f"Activity {i}",
            detail=f"Detail of activity {i}",
        )
        for i in range(n)
    )


def make_sentiment(**overrides) -> SentimentFacts:
    defaults = dict(
        score=-0.42,
        label="negative",
        interactions=6,
        topics=(TopicShare("damaged", 3, 6), TopicShare("refund", 1, 6)),
    )
    return SentimentFacts(**{**defaults, **overrides})


def make_engagement(**overrides) -> EngagementFacts:
    defaults = dict(
        lifetime_values=(("USD", Decimal("1234.50")),),
        order_count=12,
        orders_per_month=0.8,
        last_order_at=T0 - timedelta(days=30),
        last_order_number="SO-99812",
        csat=4.2,
        csat_responses=9,
    )
    return EngagementFacts(**{**defaults, **overrides})


def make_candidates(n: int = 3) -> tuple[MatchCandidate, ...]:
    """n customers who share a name, told apart by their hint; ids 2000, 2001, …"""
    return tuple(MatchCandidate(2000 + i, "Dana Whitfield", hint=f"Company {i}, Austin") for i in range(n))


def make_summary(**overrides) -> CustomerSummary:
    """A matched customer with every section filled; override any CustomerSummary field."""
    defaults = dict(
        state="matched",
        conversation=make_conversation(),
        profile=make_profile(),
        identities=(IdentityFact("email", "dana.w@example.com"), IdentityFact("phone", "+14155550123")),
        prechat=(PrechatAnswer("What is your order number?", "SO-99812"),),
        visitor=VisitorFacts(
            browser="Firefox 133",
            os="Windows 11",
            device="Desktop",
            location="Austin, US",
            language="en-US",
            page_url="https://shop.example.com/orders",
            referrer="https://www.example.org/",
        ),
        issue=make_case(),
        recent_cases=(make_case("CAS-01234"), make_case("CAS-01100", title="Late delivery", status="Resolved")),
        timeline=make_timeline(),
        sentiment=make_sentiment(),
        engagement=make_engagement(),
        profile_url="https://baton.example.com/customers/1042?sig=abc",
    )
    return CustomerSummary(**{**defaults, **overrides})


def make_multi_match_summary(n: int = 3, **overrides) -> CustomerSummary:
    defaults = dict(
        state="multi_match", profile=None, candidates=make_candidates(n), issue=None, recent_cases=(), timeline=(),
        sentiment=None, engagement=None, profile_url=None,
    )
    return make_summary(**{**defaults, **overrides})


def make_no_data_summary(**overrides) -> CustomerSummary:
    defaults = dict(
        state="no_data", profile=None, candidates=(), issue=None, recent_cases=(), timeline=(), sentiment=None,
        engagement=None, profile_url=None, identities=(IdentityFact("email", "new.person@example.com"),),
    )
    return make_summary(**{**defaults, **overrides})


def make_hostile_summary(text: str, *, state: str = "matched", timeline: int = 30) -> CustomerSummary:
    """`text` in every field a customer, a bot or an integrator could have supplied."""
    bot = BotContext(name=text, last_topic=text, reason=text, agent_message=text)
    case = CaseFacts(number=text, title=text, priority=text, status=text, product=text, owner=text)
    return CustomerSummary(
        state=state,
        conversation=make_conversation(
            source=text, channel=text, queue=text, claimed_by=text, bot=bot, reply_rule=text
        ),
        profile=ProfileFacts(
            customer_id=CUSTOMER_ID, display_name=text, company=text, job_title=text, relationship_type=text,
            city=text, category=text, primary_contact=text, preferred_channel=text,
        ) if state == "matched" else None,
        identities=tuple(IdentityFact(text, text) for _ in range(12)),
        candidates=tuple(MatchCandidate(3000 + i, text, text) for i in range(120)) if state == "multi_match" else (),
        prechat=tuple(PrechatAnswer(text, text) for _ in range(12)),
        visitor=VisitorFacts(browser=text, os=text, device=text, location=text, language=text, page_url=text,
                             referrer=text, ip=text),
        issue=case,
        recent_cases=(case,) * 6,
        timeline=tuple(TimelineEntry(at=T0 - timedelta(hours=i), category="case", kind=text, title=text, detail=text)
                       for i in range(timeline)),
        sentiment=SentimentFacts(
            score=0.1, label=text, interactions=6, topics=tuple(TopicShare(text, 3, 6) for _ in range(12))
        ),
        engagement=EngagementFacts(lifetime_values=((text, Decimal("1")),), last_order_number=text),
    )


def claimed(summary: CustomerSummary, by: str = "Ana Ortiz") -> CustomerSummary:
    return replace(summary, conversation=replace(summary.conversation, status="claimed", claimed_by=by))


def wrapped(summary: CustomerSummary, code: str = "resolved") -> CustomerSummary:
    return replace(summary, conversation=replace(summary.conversation, status="wrapped", wrapup_code=code))


# --------------------------------------------------------------------------- checks

ADAPTIVE_CARD_SCHEMA = Path(__file__).parent / "data" / "schemas" / "adaptive-card-1.5.json"


def walk(node: Any) -> Iterator[dict]:
    """Every dict inside a JSON-ready value, the value itself included."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def assert_valid_blocks(blocks: list[dict], max_blocks: int = 50) -> None:
    """slack_sdk's own validation for each block, plus the limits it does not enforce (PROTOCOLS 1.4)."""
    assert 0 < len(blocks) <= max_blocks
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None and type(parsed) is not Block, f"not a typed block: {block.get('type')}"
        parsed.to_dict()  # runs validate_json(): raises SlackObjectFormationError past a limit
        for field in block.get("fields", []):
            assert 0 < len(field["text"]) <= 2000
        if block["type"] == "actions":
            ids = [element["action_id"] for element in block["elements"]]
            assert len(ids) == len(set(ids)), "action_ids must be unique within a block"
    for node in walk(blocks):
        if node.get("type") in ("plain_text", "mrkdwn"):
            assert 0 < len(node["text"]) <= 3000
        if "options" in node:  # slack_sdk does not check option values through Block.parse
            assert 0 < len(node["options"]) <= 100
            for option in node["options"]:
                assert len(option["text"]["text"]) <= 75 and len(option["value"]) <= 150
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))


def assert_valid_view(view: dict) -> None:
    """A modal by slack_sdk's View (title ≤ 24, 1–100 blocks, private_metadata ≤ 3000, …) and every block."""
    View(**view).to_dict()  # runs validate_json(): raises SlackObjectFormationError past a limit
    assert view["type"] == "modal" and len(view.get("private_metadata", "")) <= 3000
    assert_valid_blocks(view["blocks"], max_blocks=100)


@cache
def _card_validator():
    schema = json.loads(ADAPTIVE_CARD_SCHEMA.read_text(encoding="utf-8"))
    return validators.validator_for(schema)(schema)  # Draft6Validator, from the schema's $schema


def card_errors(card: dict) -> list[str]:
    errors = []
    for error in _card_validator().iter_errors(card):
        errors.append(error.message)
        errors += [f"  {sub.json_path}: {sub.message}" for sub in (error.context or [])][:20]
    return errors


def assert_valid_card(card: dict) -> None:
    """Adaptive Card 1.5 by the official schema, and at most 40 KB as JSON."""
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card_errors(card) == []
    assert len(json.dumps(card).encode("utf-8")) <= 40_000


# --------------------------------------------------------------------------- the demo's card


def make_demo_summary(**overrides) -> CustomerSummary:
    """The matched card `baton demo` posts: its handoff (bot/demo.py) for the seeded Dana Whitfield
    (bot/seed.py's FEATURED_* customer), as the demo's terminal output shows it, at T0."""
    timeline = (
        (timedelta(0), "conversation", "conversation", "Conversation via webchat", "Order status"),
        (timedelta(days=3), "case", "comment", "Internal comment on CAS-01234",
         "Replacement set reserved in the Austin warehouse; waiting on carrier inspection."),
        (timedelta(days=4), "customer", "note", "Note by Marcus Bell",
         "Offered 15% off the replacement order as a goodwill gesture."),
        (timedelta(days=4, hours=4, minutes=48), "case", "call", "Outbound follow-up on case",
         "6 min; customer confirmed photos received"),
        (timedelta(days=4, hours=12), "case", "comment", "Internal comment on CAS-01234",
         "Customer sent photos: two of the four vases are chipped. Carrier claim opened."),
        (timedelta(days=4, hours=23, minutes=44), "customer", "survey", "CSAT survey: 4/5", None),
        (timedelta(days=5), "conversation", "conversation", "Conversation via sms", "Damaged item"),
        (timedelta(days=5), "case", "case", "Case CAS-01234 opened: Parcel arrived damaged",
         "High priority, active; owner Priya Raman"),
        (timedelta(days=6), "customer", "order", "Order SO-99812 placed", "189.00 USD, 1 item"),
        (timedelta(days=58), "customer", "email", "Email: Your refund has been processed", None),
    )
    issue = make_case(status="active", product="Ceramic Vase Set", owner="Priya Raman", opened_at=T0 - timedelta(days=5))
    defaults = dict(
        conversation=make_conversation(public_id="c540"),
        profile=make_profile(company="Whitfield Design Co.", job_title="Owner", category="SMB",
                             preferred_channel="SMS", tags=("trade-account", "vip")),
        identities=(IdentityFact("crm", "C-1042"), IdentityFact("email", "dana.w@example.com"),
                    IdentityFact("phone", "+14155550123"), IdentityFact("sms", "+14155550123")),
        visitor=VisitorFacts(browser="Safari 17", os="macOS 10.15", device="Mac", location="Austin, US",
                             language="English (United States)", page_url="https://shop.example.com/orders"),
        issue=issue,
        recent_cases=(
            issue,
            make_case("CAS-00990", title="Refund not received for returned lamp", status="resolved",
                      priority="Normal", opened_at=T0 - timedelta(days=119)),
            make_case("CAS-00872", title="Oak side table arrived damaged", status="resolved", priority="Normal",
                      opened_at=T0 - timedelta(days=289)),
        ),
        timeline=tuple(TimelineEntry(at=T0 - ago, category=category, kind=kind, title=title, detail=detail)
                       for ago, category, kind, title, detail in timeline),
        sentiment=make_sentiment(score=-0.26, topics=(TopicShare("damaged", 3, 6), TopicShare("refund", 1, 6),
                                                      TopicShare("late", 1, 6), TopicShare("broken", 0, 6))),
        engagement=make_engagement(lifetime_values=(("USD", Decimal("725.75")),), order_count=5, orders_per_month=0.4,
                                   last_order_at=T0 - timedelta(days=6), csat=3.67, csat_responses=3),
        newest_customer_line="my parcel arrived damaged",
        prior_interactions=6,
    )
    return make_summary(**{**defaults, **overrides})

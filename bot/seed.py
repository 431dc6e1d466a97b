"""The generator behind `baton seed --customers N`, `baton demo` and the benchmarks.

Customers with every profile field, identities (a few deliberately shared by two customers, so a
multi-match can be shown), cases with internal comments, notes, orders, CSAT surveys, wrapped-up
past conversations with sentiment and topic text, and a timeline entry for each of those. The word
lists, phrases and the demo customer Dana Whitfield (`FEATURED_*`) are `bot.sample_data`; a seeded
`random.Random` draws from them: the same seed and clock give the same data.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import itertools
import random
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Callable

import phonenumbers

from bot.core import sentiment as sentiment_scoring
from bot.domain import ConversationStatus
from bot.identity import name_keys
from bot.sample_data import (
    FEATURED_NAME, FEATURED_FIRST_NAME, FEATURED_LAST_NAME, FEATURED_EMAIL, FEATURED_PHONE, FEATURED_CRM,
    FEATURED_COMPANY, FEATURED_CITY, FEATURED_CASE, FEATURED_CASE_TITLE, FEATURED_CASE_PRIORITY,
    FEATURED_CASE_STATUS, FEATURED_CASE_PRODUCT, FEATURED_CASE_OWNER, FEATURED_ORDER, FEATURED_ORDER_TOTALS,
    FIRST_NAMES_FEMALE, FIRST_NAMES_MALE, FIRST_NAMES_NEUTRAL, LAST_NAMES, COMPANY_STEMS, COMPANY_KINDS,
    JOB_TITLES, ACCOUNT_MANAGERS, SUPPORT_AGENTS, CITIES, CITY_WEIGHTS, PERSONAL_DOMAINS, RELATIONSHIPS,
    RELATIONSHIP_WEIGHTS, CATEGORIES, CATEGORY_WEIGHTS, CHANNELS, CHANNEL_WEIGHTS, GENDERS, TAGS, PRODUCTS,
    CASE_TITLES, PRIORITIES, PRIORITY_WEIGHTS, CASE_STATUSES, CASE_STATUS_WEIGHTS, COMMENTS, NOTES,
    EMAILS_SENT, CALLS, SCENARIOS, SCENARIO_WEIGHTS, CONVERSATION_CHANNELS, CONVERSATION_CHANNEL_WEIGHTS,
    QUEUES, BOT,
)
from storage import db
from storage.seeding import BulkWriter, analyze, bulk_load, database_size_bytes, existing_identity_values


HISTORY_DAYS = 730  # orders, cases and conversations happen over the past two years
SHARE_EVERY = 250  # every 250th generated customer shares one identity with the one before it
ROWS_PER_CUSTOMER = 20  # about what a generated customer brings (identities, history, timeline)


@dataclass
class SeedReport:
    customers: int = 0
    identities: int = 0
    shared_identities: int = 0
    cases: int = 0
    case_comments: int = 0
    notes: int = 0
    orders: int = 0
    surveys: int = 0
    conversations: int = 0
    messages: int = 0
    activities: int = 0
    featured_customer_id: int | None = None
    seconds: float = 0.0
    write_seconds: float = 0.0  # the generator waiting for the database (writes overlap it), index builds included
    database_bytes: int = 0  # the whole database's size after seeding
    indexes_rebuilt: int = 0  # secondary indexes set aside during a large load and built again after it
    customer_ids: tuple[int, ...] = field(default=(), repr=False)

    @property
    def rows(self) -> int:
        return (
            self.customers + self.identities + self.cases + self.case_comments + self.notes + self.orders
            + self.surveys + self.conversations + self.messages + self.activities
        )

    def lines(self) -> list[str]:
        rate = self.rows / self.seconds if self.seconds else 0
        return [
            f"customers      {self.customers:>10,}",
            f"identities     {self.identities:>10,}  ({self.shared_identities} shared by two customers)",
            f"cases          {self.cases:>10,}  ({self.case_comments:,} internal comments)",
            f"notes          {self.notes:>10,}",
            f"orders         {self.orders:>10,}",
            f"CSAT surveys   {self.surveys:>10,}",
            f"conversations  {self.conversations:>10,}  ({self.messages:,} messages)",
            f"timeline       {self.activities:>10,}",
            f"{self.rows:,} rows in {self.seconds:.1f} s ({rate:,.0f} rows/s; {self.write_seconds:.1f} s waiting for the database"
            + (f", {self.indexes_rebuilt} indexes built after the load" if self.indexes_rebuilt else "") + ")",
            f"database size  {self.database_bytes / 1e6:>10,.1f} MB",
        ]

    def _take(self, counts: dict[str, int]) -> None:
        self.customers = counts["customer"]
        self.identities = counts["identity"]
        self.cases = counts["case"]
        self.case_comments = counts["case_comment"]
        self.notes = counts["note"]
        self.orders = counts["order"]
        self.surveys = counts["survey"]
        self.conversations = counts["conversation"]
        self.messages = counts["message"]
        self.activities = counts["activity"]


# --------------------------------------------------------------------------- generation


_CUMULATIVE: dict[tuple, tuple[list[float], float]] = {}


def _pick(rng: random.Random, items, weights):
    """`rng.choices(items, weights)[0]` with the cumulative weights computed once per weights tuple."""
    key = tuple(weights)
    cached = _CUMULATIVE.get(key)
    if cached is None:
        cumulative = list(itertools.accumulate(key))
        cached = _CUMULATIVE[key] = (cumulative, cumulative[-1])
    cumulative, total = cached
    return items[bisect.bisect(cumulative, rng.random() * total)]


@functools.cache
def _north_american_area_codes() -> tuple[str, ...]:
    """Area codes where phonenumbers takes +1 AAA 555 XXXX for a valid US or Canadian number (about 400)."""
    codes = []
    for code in range(201, 990):
        number = phonenumbers.parse(f"+1{code}5550123")
        if (phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) in ("US", "CA")
                and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
            codes.append(str(code))
    return tuple(codes)


def _slug(text: str) -> str:
    """ASCII lower-case letters and digits only: "Cedar & Pine Design Co." -> "cedarpinedesignco"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


class _Tally:
    """A generated customer's engagement totals, added up while its orders and surveys are drawn, so that
    its row is written with them (what `storage.engagement.recompute` would compute, without the UPDATE)."""

    __slots__ = ("count", "cents", "first", "last", "last_number", "last_currency", "per_currency", "points", "responses")

    def __init__(self) -> None:
        self.count = self.cents = self.points = self.responses = 0
        self.first = self.last = self.last_number = self.last_currency = None
        self.per_currency: dict[str, int] = {}

    def order(self, at: datetime, cents: int, number: str, currency: str) -> None:
        self.count += 1
        self.cents += cents
        self.per_currency[currency] = self.per_currency.get(currency, 0) + cents
        if self.first is None or at < self.first:
            self.first = at
        if self.last is None or at >= self.last:  # ids grow: a tie goes to the later order
            self.last, self.last_number, self.last_currency = at, number, currency


# Column orders of the rows the generator writes (`BulkWriter.layout`); the rest take their defaults.
CUSTOMER_COLUMNS = (
    "id", "display_name", "name_key", "surname_key", "first_name", "last_name", "company", "job_title",
    "relationship_type", "city", "category", "primary_contact", "preferred_channel", "gender", "email",
    "mobile_phone", "home_phone", "tags", "notes", "created_at", "updated_at", "order_count", "order_total_cents",
    "first_order_at", "last_order_at", "last_order_number", "last_order_currency", "order_totals", "csat_points",
    "csat_responses",
)
IDENTITY_COLUMNS = ("id", "customer_id", "kind", "value", "created_at")
CASE_COLUMNS = ("id", "number", "customer_id", "title", "priority", "status", "product", "owner", "created_at", "updated_at")
COMMENT_COLUMNS = ("id", "case_id", "author", "text", "created_at")
ORDER_COLUMNS = ("id", "customer_id", "number", "total", "currency", "placed_at")
NOTE_COLUMNS = ("id", "customer_id", "author", "text", "created_at")
SURVEY_COLUMNS = ("id", "customer_id", "conversation_id", "score", "at")
ACTIVITY_COLUMNS = ("id", "customer_id", "at", "category", "kind", "title", "detail", "case_id", "conversation_id")
CONVERSATION_COLUMNS = (
    "id", "source", "external_id", "channel", "kind", "queue", "status", "customer_id", "case_id", "customer_input",
    "bot", "wrapup_code", "claimed_at", "wrapped_at", "sentiment", "topic_text", "revision", "last_activity_at",
    "created_at",
)
MESSAGE_COLUMNS = ("id", "conversation_id", "sender", "sender_name", "text", "transcript_index", "relayed_at", "at")

_ORDER_ITEMS = ((1, 2, 3, 4), (55, 25, 12, 8))
_COMMENT_COUNT = ((0, 1, 2), (40, 40, 20))
_CSAT = ((1, 2, 3, 4, 5), (6, 8, 14, 32, 40))


class _Generator:
    """Turns a random stream into rows; one instance per seeding run.

    Rows go to the writer as tuples in the column orders above, their values already as stored: the
    seeding of a million customers spends its time in the database, not in building dicts."""

    def __init__(self, writer: BulkWriter, rng: random.Random, now: datetime, used: set[tuple[str, str]]) -> None:
        self.w = writer
        self.rng = rng
        self.now = now
        self.used = used
        self._sentiment_cache: dict[str, float] = {}
        self._names: dict[str, tuple[str, str | None]] = {}
        self._json: dict[tuple, str] = {}
        self._tally: _Tally | None = None  # set while a generated customer's history is drawn
        self._next_phone = 0  # the fallback phone numbers' counter (`_phone`)
        self._ids = writer.new_id  # bound once: called for every row
        self.customers = writer.layout("customer", CUSTOMER_COLUMNS)
        self.identities = writer.layout("identity", IDENTITY_COLUMNS)
        self.cases = writer.layout("case", CASE_COLUMNS)
        self.comments = writer.layout("case_comment", COMMENT_COLUMNS)
        self.orders = writer.layout("order", ORDER_COLUMNS)
        self.notes = writer.layout("note", NOTE_COLUMNS)
        self.surveys = writer.layout("survey", SURVEY_COLUMNS)
        self.activities = writer.layout("activity", ACTIVITY_COLUMNS)
        self.conversations = writer.layout("conversation", CONVERSATION_COLUMNS)
        self.messages = writer.layout("message", MESSAGE_COLUMNS)
        self._wrapped = self.conversations.encode("status", ConversationStatus.WRAPPED)

    # ---- small helpers

    def _before(self, latest: datetime, earliest: datetime) -> datetime:
        span = max(1.0, (latest - earliest).total_seconds())
        return earliest + timedelta(seconds=self.rng.random() * span)

    def _sentiment(self, text: str) -> float:
        score = self._sentiment_cache.get(text)
        if score is None:
            score = self._sentiment_cache[text] = sentiment_scoring.score_text(text)
        return score

    def _encoded(self, layout, column: str, key, value) -> str:
        """A JSON column's stored text, computed once per distinct value."""
        cache_key = (layout.name, column, key)
        text = self._json.get(cache_key)
        if text is None:
            text = self._json[cache_key] = layout.encode(column, value)
        return text

    def _activity(self, cid: int, at: datetime, category: str, kind: str, title: str, detail: str | None = None,
                  case_id: int | None = None, conversation_id: int | None = None) -> None:
        self.w.put(self.activities, (self._ids("activity"), cid, at, category, kind, title, detail, case_id, conversation_id))

    def _unique(self, kind: str, make: Callable[[], str], fallback: Callable[[], str]) -> str:
        for _ in range(6):
            value = make()
            if (kind, value) not in self.used:
                break
        else:
            value = fallback()
            while (kind, value) in self.used:
                value = fallback()
        self.used.add((kind, value))
        return value

    def _phone(self, country: str, area_codes: tuple[str, ...]) -> str:
        rng = self.rng
        if country in ("US", "CA"):
            # 555 exchange: realistic-looking, valid for phonenumbers, and away from real subscribers.
            def make() -> str:
                return f"+1{rng.choice(area_codes)}555{rng.randrange(10000):04d}"

            def fallback() -> str:
                # The city's own area codes are full (10,000 numbers each): the next free number of
                # every US and Canadian area code in turn, so that millions of customers fit.
                codes = _north_american_area_codes()
                n = self._next_phone
                self._next_phone += 1
                if n >= 10_000 * len(codes):
                    raise ValueError("every generated North American phone number is taken")
                return f"+1{codes[n // 10_000]}555{n % 10_000:04d}"

        else:
            def make() -> str:
                return f"+447{rng.choice('4589')}{rng.randrange(10**8):08d}"

            fallback = make
        return self._unique("phone", make, fallback)

    # ---- customers

    def customer(self, index: int, previous: dict | None, *, with_history: bool = True) -> dict:
        """One customer with identities and history; returns its facts for the next one to share."""
        rng, now = self.rng, self.now
        roll = rng.random()
        if roll < 0.47:
            first, gender = rng.choice(FIRST_NAMES_FEMALE), "Female"
        elif roll < 0.94:
            first, gender = rng.choice(FIRST_NAMES_MALE), "Male"
        else:
            first, gender = rng.choice(FIRST_NAMES_NEUTRAL), rng.choice(GENDERS[2:])
        last = rng.choice(LAST_NAMES)
        city, country, area_codes, currency = _pick(rng, CITIES, CITY_WEIGHTS)
        category = _pick(rng, CATEGORIES, CATEGORY_WEIGHTS)
        company = None
        if category != "Retail" or rng.random() < 0.2:
            company = f"{rng.choice(COMPANY_STEMS)} {rng.choice(COMPANY_KINDS)}"
        share = previous is not None and index % SHARE_EVERY == 1
        shared_identity: tuple[str, str] | None = None
        home_phone = None
        if share and (index // SHARE_EVERY) % 2 == 0:
            # Same household: same surname, city and landline.
            last, city, country, area_codes, currency = (
                previous["last"], previous["city"], previous["country"], previous["area_codes"], previous["currency"]
            )
            home_phone = previous["home_phone"] or previous["mobile"]
            shared_identity = ("phone", home_phone)
        elif share:
            # Colleagues at one account who both write from its shared inbox.
            company = previous["company"] or f"{previous['last']} Family Office"
            inbox = self._unique(
                "email",
                lambda: f"orders@{_slug(company)}.example.com",
                lambda: f"orders{rng.randrange(2, 1000)}@{_slug(company)}.example.com",
            )
            self.add_identity(previous["id"], "email", inbox)
            shared_identity = ("email", inbox)
        elif rng.random() < 0.3:
            home_phone = self._phone(country, area_codes)

        slug_first, slug_last = _slug(first), _slug(last)
        domain = f"{_slug(company)}.example.com" if company and rng.random() < 0.6 else rng.choice(PERSONAL_DOMAINS)
        email = self._unique(
            "email",
            lambda: rng.choice(
                (f"{slug_first}.{slug_last}", f"{slug_first[0]}{slug_last}", f"{slug_first}{rng.randrange(10, 99)}")
            )
            + f"@{domain}",
            lambda: f"{slug_first}.{slug_last}{rng.randrange(100, 100000)}@{domain}",
        )
        mobile = self._phone(country, area_codes)
        created = now - timedelta(days=rng.uniform(30, 1500))
        tags = tuple(sorted(rng.sample(TAGS, k=_pick(rng, (0, 1, 2), (50, 35, 15)))))
        display_name = f"{first} {last}"
        keys = self._names.get(display_name)
        if keys is None:
            keys = self._names[display_name] = name_keys(display_name)
        profile = (
            display_name, *keys, first, last, company,
            rng.choice(JOB_TITLES) if company else None,
            _pick(rng, RELATIONSHIPS, RELATIONSHIP_WEIGHTS),
            city, category,
            (display_name if rng.random() < 0.5 else rng.choice(ACCOUNT_MANAGERS)) if company else None,
            _pick(rng, CHANNELS, CHANNEL_WEIGHTS),
            gender, email, mobile, home_phone,
            self._encoded(self.customers, "tags", tags, list(tags)),
            rng.choice(NOTES) if rng.random() < 0.1 else None,
            created, self._before(now, created),
        )
        cid = self._ids("customer")
        identities = [("email", email), ("phone", mobile)]
        if home_phone and home_phone != mobile:
            identities.append(("phone", home_phone))
        if shared_identity and shared_identity not in identities:
            identities.append(shared_identity)
        if rng.random() < 0.35:
            identities.append(("crm", f"C-{100000 + cid}"))  # six digits: never the featured C-1042
        if rng.random() < 0.05:
            identities.append(("sms", mobile))
        if rng.random() < 0.03:
            identities.append(("whatsapp", mobile))
        put, layout, ids = self.w.put, self.identities, self._ids
        for kind, value in identities:
            put(layout, (ids("identity"), cid, kind, value, created))

        tally = self._tally = _Tally()
        if with_history:
            self.history(cid, first, created, currency)
        self._tally = None
        totals = (
            self._encoded(self.customers, "order_totals", tuple(sorted(tally.per_currency.items())), tally.per_currency)
            if tally.count else None
        )
        put(self.customers, (
            cid, *profile, tally.count, tally.cents, tally.first, tally.last, tally.last_number, tally.last_currency,
            totals, tally.points, tally.responses,
        ))
        return {
            "id": cid,
            "last": last,
            "city": city,
            "country": country,
            "area_codes": area_codes,
            "currency": currency,
            "home_phone": home_phone,
            "mobile": mobile,
            "company": company,
            "shared": shared_identity,
        }

    def add_identity(self, customer_id: int, kind: str, value: str) -> None:
        self.w.put(self.identities, (self._ids("identity"), customer_id, kind, value, self.now))

    # ---- history

    def history(self, cid: int, first: str, created: datetime, currency: str) -> None:
        rng, now = self.rng, self.now
        start = max(created, now - timedelta(days=HISTORY_DAYS))
        end = now - timedelta(hours=1)
        cases = [self.case(cid, self._before(end, start)) for _ in range(_pick(rng, (0, 1, 2, 3), (45, 30, 17, 8)))]
        for _ in range(_pick(rng, (0, 1, 2, 3, 4, 5, 6), (15, 20, 20, 15, 12, 10, 8))):
            self.order(cid, self._before(end, start), currency)
        for _ in range(_pick(rng, (0, 1, 2), (60, 30, 10))):
            self.note(cid, self._before(end, start))
        for _ in range(_pick(rng, (0, 1, 2, 3), (35, 35, 20, 10))):
            case_id = rng.choice(cases)[0] if cases and rng.random() < 0.4 else None
            self.conversation(cid, first, self._before(end, start), case_id=case_id)
        for _ in range(_pick(rng, (0, 1, 2), (60, 30, 10))):
            self.contact(cid, self._before(end, start))

    def case(self, cid: int, at: datetime, *, status: str | None = None, number: str | None = None,
             title: str | None = None, priority: str | None = None, product: str | None = None,
             owner: str | None = None, updated: datetime | None = None, comments: bool = True) -> tuple[int, str]:
        """A case and its timeline entry (and, with `comments`, 0-2 random internal comments); what is
        given is kept, the rest is drawn. Generated customers, Dana Whitfield and `add_history` use it."""
        rng = self.rng
        case_id = self._ids("case")
        number = number or f"CAS-{case_id:06d}"  # six digits: never one of the featured five-digit numbers
        product = product or rng.choice(PRODUCTS)[0]
        title = title or rng.choice(CASE_TITLES).format(product=product)
        status = status or _pick(rng, CASE_STATUSES, CASE_STATUS_WEIGHTS)
        owner = owner or rng.choice(SUPPORT_AGENTS)
        priority = priority or _pick(rng, PRIORITIES, PRIORITY_WEIGHTS)
        updated = updated or self._before(min(self.now, at + timedelta(days=20)), at)
        self.w.put(self.cases, (case_id, number, cid, title, priority, status, product, owner, at, updated))
        self._activity(cid, at, "case", "case", f"Case {number} opened: {title}",
                       f"{priority} priority, {status}; owner {owner}", case_id)
        if comments and status != "canceled":  # comments of a canceled case are deleted (seed rule)
            for _ in range(_pick(rng, *_COMMENT_COUNT)):
                self.comment(cid, case_id, number, self._before(updated, at), author=owner)
        return case_id, number

    def comment(self, cid: int, case_id: int, number: str, at: datetime, *, author: str, text: str | None = None) -> None:
        text = text or self.rng.choice(COMMENTS)
        self.w.put(self.comments, (self._ids("case_comment"), case_id, author, text, at))
        self._activity(cid, at, "case", "comment", f"Internal comment on {number}", text, case_id)

    def order(self, cid: int, at: datetime, currency: str, *, total: Decimal | None = None, number: str | None = None) -> None:
        rng = self.rng
        if total is None:
            items = _pick(rng, *_ORDER_ITEMS)
            cents = sum(round(rng.uniform(low, high) * 100) for _, low, high in rng.sample(PRODUCTS, items))
            total = Decimal(cents).scaleb(-2)
        else:
            items = 1
            cents = int(total * 100)
        order_id = self._ids("order")
        number = number or f"SO-{100000 + order_id}"
        self.w.put(self.orders, (order_id, cid, number, total, currency, at))
        if self._tally is not None:
            self._tally.order(at, cents, number, currency)
        else:
            self.w.engaged(cid)
        self._activity(cid, at, "customer", "order", f"Order {number} placed",
                       f"{total:.2f} {currency}, {items} item{'s' if items > 1 else ''}")

    def note(self, cid: int, at: datetime, *, text: str | None = None, author: str | None = None) -> None:
        text = text or self.rng.choice(NOTES)
        author = author or self.rng.choice(SUPPORT_AGENTS)
        self.w.put(self.notes, (self._ids("note"), cid, author, text, at))
        self._activity(cid, at, "customer", "note", f"Note by {author}", text)

    def contact(self, cid: int, at: datetime) -> None:
        if self.rng.random() < 0.6:
            self._activity(cid, at, "customer", "email", f"Email: {self.rng.choice(EMAILS_SENT)}")
        else:
            title = self.rng.choice(CALLS)
            self._activity(cid, at, "customer", "call", title, f"{self.rng.randint(2, 25)} min")

    def conversation(
        self,
        cid: int,
        first: str,
        at: datetime,
        *,
        case_id: int | None = None,
        scenario: tuple[str, tuple[str, ...], str, str, str] | None = None,
        product: str | None = None,
        channel: str | None = None,
        survey: int | None | bool = True,
    ) -> int:
        """A wrapped-up past conversation with its messages, timeline entry and maybe a CSAT survey."""
        rng = self.rng
        topic, said, bot_line, agent_line, code = scenario or _pick(rng, SCENARIOS, SCENARIO_WEIGHTS)
        product = product or rng.choice(PRODUCTS)[0]
        channel = channel or _pick(rng, CONVERSATION_CHANNELS, CONVERSATION_CHANNEL_WEIGHTS)
        customer_lines = [line.format(product=product) for line in said]
        text = sentiment_scoring.customer_text(customer_lines)
        conv_id = self._ids("conversation")
        agent = rng.choice(SUPPORT_AGENTS)
        wrapped = at + timedelta(minutes=rng.randint(4, 40))
        layout = self.conversations
        self.w.put(layout, (
            conv_id, "seed", f"seed-{conv_id}", channel, "customer", rng.choice(QUEUES), self._wrapped, cid, case_id,
            self._encoded(layout, "customer_input", first, {"name": first}),
            self._encoded(layout, "bot", topic, {**BOT, "last_topic": topic}),
            code, at + timedelta(minutes=1), wrapped, self._sentiment(" ".join(customer_lines)), text, 1, wrapped, at,
        ))
        lines = [("customer", None, customer_lines[0]), ("bot", BOT["name"], bot_line)]
        lines += [("customer", None, extra) for extra in customer_lines[1:]]
        lines.append(("agent", agent, agent_line.format(first=first)))
        put, messages, ids = self.w.put, self.messages, self._ids
        for index, (sender, name, body) in enumerate(lines):
            line_at = at + timedelta(seconds=20 * index)
            agent_line_ = sender == "agent"
            put(messages, (ids("message"), conv_id, sender, name, body, None if agent_line_ else index,
                           line_at if agent_line_ else None, line_at))
        self._activity(cid, at, "conversation", "conversation", f"Conversation via {channel}", topic,
                       case_id, conv_id)
        score = survey if isinstance(survey, int) and not isinstance(survey, bool) else None
        if score is None and survey is True and rng.random() < 0.45:
            score = _pick(rng, *_CSAT)
        if score is not None:
            self.survey(cid, wrapped + timedelta(minutes=5), score, conversation_id=conv_id)
        return conv_id

    def survey(self, cid: int, at: datetime, score: int, *, conversation_id: int | None = None) -> None:
        self.w.put(self.surveys, (self._ids("survey"), cid, conversation_id, score, at))
        if self._tally is not None:
            self._tally.points += score
            self._tally.responses += 1
        else:
            self.w.engaged(cid)
        self._activity(cid, at, "conversation", "survey", f"CSAT survey: {score}/5", None, None, conversation_id)

    # ---- Dana Whitfield

    def featured(self) -> int:
        now, day = self.now, timedelta(days=1)
        created = now - 1100 * day
        cid = self.w.add(
            "customer",
            display_name=FEATURED_NAME, first_name=FEATURED_FIRST_NAME, last_name=FEATURED_LAST_NAME,
            company=FEATURED_COMPANY, job_title="Owner", relationship_type="Customer", city=FEATURED_CITY,
            category="SMB", primary_contact=FEATURED_NAME, preferred_channel="SMS", gender="Female",
            email=FEATURED_EMAIL, mobile_phone=FEATURED_PHONE, home_phone=None, tags=["vip", "trade-account"],
            notes="Interior designer; orders for client projects. Prefers SMS for delivery updates.",
            created_at=created, updated_at=now - 5 * day,
        )
        for kind, value in (("email", FEATURED_EMAIL), ("phone", FEATURED_PHONE), ("crm", FEATURED_CRM), ("sms", FEATURED_PHONE)):
            self.add_identity(cid, kind, value)
            self.used.add((kind, value))

        # Orders, oldest first; the newest is the one her handoff asks about.
        for days, total, number in zip((400, 300, 180, 75, 6), FEATURED_ORDER_TOTALS, ("SO-97120", "SO-97655", "SO-98230", "SO-99004", FEATURED_ORDER)):
            self.order(cid, now - days * day, "USD", total=total, number=number)

        def case(number: str, days: float, title: str, priority: str, status: str, product: str) -> int:
            return self.case(cid, now - days * day, number=number, title=title, priority=priority, status=status,
                             product=product, owner=FEATURED_CASE_OWNER, updated=now - max(days - 6, 0.5) * day,
                             comments=False)[0]

        table_case = case("CAS-00872", 289, "Oak side table arrived damaged", "Normal", "resolved", "Oak Side Table")
        lamp_case = case("CAS-00990", 119, "Refund not received for returned lamp", "Normal", "resolved", "Brass Floor Lamp")
        vase_case = case(FEATURED_CASE, 5, FEATURED_CASE_TITLE, FEATURED_CASE_PRIORITY, FEATURED_CASE_STATUS, FEATURED_CASE_PRODUCT)
        self.comment(cid, table_case, "CAS-00872", now - 287 * day, author=FEATURED_CASE_OWNER,
                     text="Replacement table shipped with signature-required delivery.")
        self.comment(cid, vase_case, FEATURED_CASE, now - 4.5 * day, author=FEATURED_CASE_OWNER,
                     text="Customer sent photos: two of the four vases are chipped. Carrier claim opened.")
        self.comment(cid, vase_case, FEATURED_CASE, now - 3 * day, author="Marcus Bell",
                     text="Replacement set reserved in the Austin warehouse; waiting on carrier inspection.")

        def scenario(topic: str, *said: str, code: str = "resolved") -> tuple:
            return (topic, said, "I'm sorry to hear that. Let me get a person.", "Thanks for your patience, {first}.", code)

        conversations = (  # days ago, channel, scenario, case, CSAT; three of six say "damaged"
            (420, "webchat", scenario("Product question", "Does the linen throw pillow come in grey?", "Lovely, thank you!"), None, 5),
            (290, "email", scenario("Damaged item", "The oak side table arrived damaged, one leg is cracked."), table_case, None),
            (200, "sms", scenario("Order status", "My order is late, tracking hasn't moved since Tuesday."), None, None),
            (120, "webchat", scenario("Damaged item", "Second delivery in a row that arrived damaged. The lamp shade is dented."), lamp_case, 2),
            (60, "webchat", scenario("Refund status", "Still waiting on my refund for the lamp I sent back."), lamp_case, None),
            (5, "sms", scenario("Damaged item", "The vase set arrived damaged again, two vases are chipped. Really disappointed.", code="follow_up"), vase_case, 4),
        )
        for days, channel, sc, case_id, csat in conversations:
            self.conversation(cid, FEATURED_FIRST_NAME, now - days * day, case_id=case_id, scenario=sc, channel=channel, survey=csat or False)
        self.note(cid, now - 118 * day, author=FEATURED_CASE_OWNER, text="Repeat damage on deliveries: use signature-required shipping and extra padding.")
        self.note(cid, now - 4 * day, author="Marcus Bell", text="Offered 15% off the replacement order as a goodwill gesture.")
        self.w.add("activity", customer_id=cid, at=now - 286 * day, category="customer", kind="email", title="Email: Your replacement has shipped")
        self.w.add("activity", customer_id=cid, at=now - 58 * day, category="customer", kind="email", title="Email: Your refund has been processed")
        self.w.add("activity", customer_id=cid, at=now - 4.2 * day, category="case", kind="call", title="Outbound follow-up on case",
                   detail="6 min; customer confirmed photos received", case_id=vase_case)
        return cid


# --------------------------------------------------------------------------- entry points


async def seed(
    customers: int,
    *,
    now: datetime,
    rng: random.Random,
    featured: bool = True,
    progress: Callable[[int, int], None] | None = None,
    set_indexes_aside: bool | None = None,
) -> SeedReport:
    """Add `customers` generated customers (plus Dana Whitfield when `featured` and not there yet).

    Needs an open connection (`storage.db.connect`). Returns what was written and how long it took.
    A large seed into a smaller database builds the secondary indexes after the load
    (`storage.seeding.bulk_load`; `set_indexes_aside` forces the choice either way).
    """
    started = time.perf_counter()
    report = SeedReport()
    used = await existing_identity_values(("email", "phone"))
    featured = featured and ("email", FEATURED_EMAIL) not in used
    used |= {("email", FEATURED_EMAIL), ("phone", FEATURED_PHONE)}
    ids: list[int] = []
    async with bulk_load(customers * ROWS_PER_CUSTOMER, set_indexes_aside=set_indexes_aside) as load, BulkWriter() as writer:
        generator = _Generator(writer, rng, now, used)
        if featured:
            report.featured_customer_id = generator.featured()
        previous = None
        step = max(1, customers // 100)
        for index in range(customers):
            previous = generator.customer(index, previous)
            ids.append(previous["id"])
            if previous["shared"]:
                report.shared_identities += 1
            if index % 16 == 15:
                await writer.maybe_flush()
                await asyncio.sleep(0)  # the write under way goes on meanwhile (BulkWriter.maybe_flush)
            if progress is not None and (index + 1) % step == 0:
                progress(index + 1, customers)
    await analyze()
    report._take(writer.counts)
    report.database_bytes = await database_size_bytes()
    report.customer_ids = tuple(ids)
    report.write_seconds = writer.wait_seconds + load.rebuild_seconds
    report.indexes_rebuilt = len(load.set_aside)
    report.seconds = time.perf_counter() - started
    return report


_seed = seed

# Share of each kind of history `add_history` writes; each entry is exactly one timeline activity.
HISTORY_MIX: tuple[tuple[str, int], ...] = (
    ("order", 25), ("conversation", 15), ("survey", 8), ("case", 8), ("comment", 12),
    ("note", 10), ("email", 12), ("call", 10),
)


async def add_customer(*, now: datetime, rng: random.Random, history: bool = False) -> int:
    """One generated customer with identities; without its random history unless asked."""
    used = await existing_identity_values(("email", "phone"))
    async with BulkWriter() as writer:
        facts = _Generator(writer, rng, now, used).customer(0, None, with_history=history)
    return facts["id"]


async def add_history(customer_id: int, activities: int, *, now: datetime, rng: random.Random) -> SeedReport:
    """Give a customer exactly `activities` more timeline entries, each with what it describes.

    Orders, conversations (with messages and sentiment), CSAT surveys, cases, internal comments,
    notes, emails and calls in the proportions of `HISTORY_MIX`, spread over the past two years.
    """
    started = time.perf_counter()
    kinds = [k for k, _ in HISTORY_MIX]
    weights = [w for _, w in HISTORY_MIX]
    async with BulkWriter() as writer:
        generator = _Generator(writer, rng, now, set())
        start, end = now - timedelta(days=HISTORY_DAYS), now - timedelta(hours=1)
        cases: list[tuple[int, str]] = []
        for _ in range(activities):
            kind = _pick(rng, kinds, weights)
            at = generator._before(end, start)
            if kind == "comment" and not cases:
                kind = "case"
            if kind == "order":
                generator.order(customer_id, at, "USD")
            elif kind == "conversation":
                generator.conversation(customer_id, "there", at, survey=False)
            elif kind == "survey":
                generator.survey(customer_id, at, _pick(rng, (1, 2, 3, 4, 5), (6, 8, 14, 32, 40)))
            elif kind == "case":
                # A case's own entry only: its comments are drawn separately to keep the count exact.
                case_id, number = generator.case(customer_id, at, updated=at, comments=False)
                cases.append((case_id, number))
            elif kind == "comment":
                case_id, number = rng.choice(cases)
                generator.comment(customer_id, case_id, number, at, author=rng.choice(SUPPORT_AGENTS))
            elif kind == "note":
                generator.note(customer_id, at)
            else:  # email or call
                generator.contact(customer_id, at)
            await writer.maybe_flush()
    report = SeedReport()
    report._take(writer.counts)
    report.write_seconds = writer.wait_seconds
    report.seconds = time.perf_counter() - started
    return report


async def run_seed(
    database_url: str,
    customers: int,
    *,
    seed: int = 7,
    featured: bool = True,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SeedReport:
    """`baton seed --customers N`: connect (applying migrations), seed, disconnect."""
    from bot.clock import utc_now

    await db.connect(database_url, migrate=True)
    try:
        return await _seed(customers, now=now or utc_now(), rng=random.Random(seed), featured=featured, progress=progress)
    finally:
        await db.disconnect()

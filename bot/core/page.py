"""What the customer page shows (SPEC 4.4), by the viewer's role, as the JSON the page renders.

The same rule as the card (`bot.core.roles.view_of`): a section the role may not see is left out, and
a hidden field (email, phone, lifetime value, identities) appears nowhere — not in a list, not in a
total, not in the name. The first view carries the first page of every list; each list continues with
its own cursor (`storage.page`), so a customer with 100,000 timeline entries opens like one with 10.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.core import page_links, sentiment
from bot.core.roles import CHANNEL_ROLE
from bot.core.services import Services
from bot.core.summary import hidden_profile_columns, visible_identities
from bot.domain import TIMELINE_CATEGORIES, Actor, UnfurlFacts, parse_public_id, public_id
from bot.errors import ApiError
from storage import page as store

PAGE_SIZE = 20
TIMELINE_PAGE = 25
MESSAGES_PAGE = 50
SEARCH_LIMIT = 20
SEARCH_CHARS = 200
SENTIMENT_INTERACTIONS = 10
PROFILE_FIELDS = ("first_name", "last_name", "company", "job_title", "relationship_type", "category",
                  "primary_contact", "preferred_channel", "gender", "email", "mobile_phone", "home_phone", "city")


class View:
    """What one role sees: its sections and hidden fields, from the settings."""

    def __init__(self, services: Services, actor: Actor) -> None:
        settings = services.settings
        self.sections = settings.sections_for(actor.role)
        self.hidden = settings.hidden_fields_for(actor.role)
        self.hidden_columns = hidden_profile_columns(self.hidden)
        self.topic_phrases = settings.topic_phrases

    def sees(self, section: str) -> bool:
        return section in self.sections

    @property
    def conversations(self) -> bool:
        return self.sees("conversation")

    @property
    def cases(self) -> bool:
        return self.sees("issue") or self.sees("recent_cases")

    @property
    def money(self) -> bool:
        return "lifetime_value" not in self.hidden


def _not_found(what: str = "customer") -> ApiError:
    return ApiError(404, "not_found", f"There is no such {what}.")


def _refused(section: str) -> ApiError:
    return ApiError(403, "forbidden", f"Your role does not see {section}.")


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value).quantize(Decimal('0.01'))}"


def display_name(row, view: View) -> str:
    secret = {getattr(row, c) for c in view.hidden_columns} - {None, ""}
    return f"Customer {row.id}" if row.display_name in secret else row.display_name


async def _customer(customer_id: int):
    row = await store.customer(customer_id)
    if row is None:
        raise _not_found()
    return row


# --------------------------------------------------------------------------- rows as JSON


def _conversation(row) -> dict[str, Any]:
    agent = row.claimed_by
    return {
        "id": public_id(row.id), "channel": row.channel, "source": row.source, "kind": row.kind, "queue": row.queue,
        "status": row.status, "started": _when(row.created_at), "last_activity": _when(row.last_activity_at),
        "claimed_by": (agent.display_name or agent.platform_user_id) if agent else None,
        "wrapup_code": row.wrapup_code, "wrapup_notes": row.wrapup_notes, "wrapped": _when(row.wrapped_at),
    }


def _message(row) -> dict[str, Any]:
    return {"id": row.id, "at": _when(row.at), "from": row.sender, "name": row.sender_name, "kind": row.kind,
            "text": row.text, "internal": row.internal, "files": [a.get("name") for a in row.attachments or ()
                                                                  if isinstance(a, dict)]}


def _case(row) -> dict[str, Any]:
    return {"number": row.number, "title": row.title, "status": row.status, "priority": row.priority,
            "product": row.product, "owner": row.owner, "opened": _when(row.created_at), "updated": _when(row.updated_at)}


def _order(row, view: View) -> dict[str, Any]:
    return {"number": row.number, "placed": _when(row.placed_at), "currency": row.currency,
            "total": _money(row.total) if view.money else None}


def _activity(row) -> dict[str, Any]:
    return {"at": _when(row.at), "category": row.category, "kind": row.kind, "title": row.title, "detail": row.detail,
            "conversation": public_id(row.conversation_id) if row.conversation_id else None}


def _listed(page: store.Page, shape) -> dict[str, Any]:
    return {"items": [shape(row) for row in page.rows], "next": page.next}


# --------------------------------------------------------------------------- the first view


async def first_view(services: Services, actor: Actor, customer_id: int) -> dict[str, Any]:
    """Everything the page opens with: the profile and the first page of each list the role sees."""
    view = View(services, actor)
    row = await _customer(customer_id)
    cid = row.id
    data: dict[str, Any] = {
        "id": cid, "name": display_name(row, view), "tags": list(row.tags or ()), "locked": row.locked,
        "anonymized": row.anonymized_at is not None,
        "viewer": {"name": actor.label, "role": actor.role},
        "sections": sorted(view.sections), "hidden": sorted(view.hidden),
        "categories": list(TIMELINE_CATEGORIES),
    }
    if view.sees("profile"):
        data["profile"] = {
            **{f: getattr(row, f) for f in PROFILE_FIELDS if f not in view.hidden_columns},
            "notes": row.notes, "created": _when(row.created_at), "updated": _when(row.updated_at),
        }
        data["identities"] = [{"kind": k, "value": v} for k, v in visible_identities(await store.identities(cid), view.hidden)]
        data["notes"] = _listed(await store.notes(cid, None, PAGE_SIZE), _note)
    if view.conversations:
        data["conversations"] = _listed(await store.conversations(cid, None, PAGE_SIZE), _conversation)
    if view.cases:
        data["cases"] = _listed(await store.cases(cid, None, PAGE_SIZE), _case)
    if view.sees("engagement"):
        data["orders"] = _listed(await store.orders(cid, None, PAGE_SIZE), lambda o: _order(o, view))
        data["totals"] = ([{"currency": c, "total": _money(t), "orders": n} for c, t, n in await store.order_totals(cid)]
                          if view.money else None)
        data["surveys"] = _listed(await store.surveys(cid, None, PAGE_SIZE), _survey)
    if view.sees("sentiment"):
        facts = sentiment.summarize(await store.interactions(cid, SENTIMENT_INTERACTIONS), view.topic_phrases)
        data["sentiment"] = None if facts is None else {
            "score": facts.score, "label": facts.label, "interactions": facts.interactions,
            "topics": [{"phrase": t.phrase, "mentions": t.mentions} for t in facts.topics if t.mentions]}
    if view.sees("timeline"):
        data["timeline"] = _listed(await store.timeline(cid, category=None, text=None, cursor=None, size=TIMELINE_PAGE),
                                   _activity)
    return data


def _note(row) -> dict[str, Any]:
    return {"at": _when(row.created_at), "author": row.author, "text": row.text,
            "conversation": public_id(row.conversation_id) if row.conversation_id else None}


def _survey(row) -> dict[str, Any]:
    return {"at": _when(row.at), "score": row.score,
            "conversation": public_id(row.conversation_id) if row.conversation_id else None}


# --------------------------------------------------------------------------- the next pages


async def more(services: Services, actor: Actor, customer_id: int, what: str, cursor: str | None, *,
               category: str | None = None, text: str | None = None) -> dict[str, Any]:
    """The next page of one list (`what`: timeline, conversations, cases, notes, orders, surveys)."""
    view = View(services, actor)
    cid = (await _customer(customer_id)).id
    if what == "timeline":
        if not view.sees("timeline"):
            raise _refused("the timeline")
        chosen = category if category in TIMELINE_CATEGORIES else None
        query = (text or "").strip()[:SEARCH_CHARS] or None
        return _listed(await store.timeline(cid, category=chosen, text=query, cursor=cursor, size=TIMELINE_PAGE), _activity)
    lists = {
        "conversations": (view.conversations, store.conversations, _conversation),
        "cases": (view.cases, store.cases, _case),
        "notes": (view.sees("profile"), store.notes, _note),
        "orders": (view.sees("engagement"), store.orders, lambda o: _order(o, view)),
        "surveys": (view.sees("engagement"), store.surveys, _survey),
    }
    if what not in lists:
        raise _not_found("list")
    allowed, read, shape = lists[what]
    if not allowed:
        raise _refused(what)
    return _listed(await read(cid, cursor, PAGE_SIZE), shape)


async def messages(services: Services, actor: Actor, customer_id: int, conversation_ref: str, after: str | None) -> dict[str, Any]:
    """A conversation's messages (customer, bot, agents, Baton's logs), oldest first, page by page."""
    view = View(services, actor)
    if not view.conversations:
        raise _refused("conversations")
    cid = (await _customer(customer_id)).id
    conversation_id = parse_public_id(conversation_ref)
    row = await store.conversation(conversation_id) if conversation_id else None
    if row is None or row.customer_id != cid:
        raise _not_found("conversation")
    page = await store.messages(row.id, after, MESSAGES_PAGE)
    return {"conversation": _conversation(row), **_listed(page, _message)}


async def comments(services: Services, actor: Actor, customer_id: int, number: str, after: str | None) -> dict[str, Any]:
    """A case's internal comments, oldest first, page by page."""
    view = View(services, actor)
    if not view.cases:
        raise _refused("cases")
    cid = (await _customer(customer_id)).id
    case = await store.case(cid, number)
    if case is None:
        raise _not_found("case")
    page = await store.comments(case.id, after, MESSAGES_PAGE)
    return {"case": _case(case), **_listed(page, lambda c: {"at": _when(c.created_at), "author": c.author, "text": c.text})}


async def search(services: Services, actor: Actor, query: str) -> list[dict[str, Any]]:
    """Customers for the Teams tab's search (by name, number or identity), named as the role may see them."""
    view = View(services, actor)
    rows = await store.search(query[:SEARCH_CHARS], SEARCH_LIMIT)
    return [{"id": r.id, "name": display_name(r, view), "company": r.company} for r in rows]


async def unfurl_url(services: Services, url: str) -> UnfurlFacts | None:
    """The unfurl of a pasted link, when it is a link to one of Baton's customer pages."""
    customer_id = page_links.customer_of_url(services.settings, url)
    if customer_id is None:
        return None
    facts = await unfurl(services, customer_id)
    return None if facts is None else UnfurlFacts(**facts)


async def unfurl(services: Services, customer_id: int) -> dict[str, Any] | None:
    """What a pasted page link shows in a channel: the `agent` role's view, since the whole channel sees it."""
    view = View(services, Actor(platform="system", user_id="unfurl", role=CHANNEL_ROLE))
    row = await store.customer(customer_id)
    if row is None:
        return None
    open_cases = await store.open_case_count(row.id) if view.cases else None
    last = await store.last_contact(row.id) if view.conversations else None
    last = datetime.fromisoformat(last) if last else None
    return {"id": row.id, "name": display_name(row, view), "open_cases": open_cases, "last_contact": last,
            "company": row.company if view.sees("profile") else None, "url": page_links.page_url(services.settings, row.id)}

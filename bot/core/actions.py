"""What agents can do, the same from Slack and Teams: claim, notes, comments, wrap-up, links, merges…

Every function takes the `Services` it needs and an `Actor`; refusals are `UserError`s with text fit
to show the agent. Changes that the card shows queue a card edit and wake the delivery worker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from bot.clock import Clock
from bot.core import sentiment
from bot.core.summary import hidden_profile_columns, summary_for_conversation, summary_for_customer
from bot.domain import Actor, CustomerSummary, MatchCandidate
from bot.errors import UserError
from bot.identity import identities_of, normalize_email, normalize_phone
from bot.settings import Settings
from storage import audit, cases, conversations, customer_admin, outbox, routes
from storage.customers import add_identities, create_customer, find_by_identities, find_by_identity_value
from storage.db import unit_of_work
from storage.intake import parse_public_id, public_id
from storage.summary import load_conversation

NOTE_PREFIX = "!note"


@dataclass
class Services:
    settings: Settings
    clock: Clock
    targets: list[str] = field(default_factory=list)
    wake: Callable[[], None] = lambda: None


def role_for(settings: Settings, platform: str, user_id: str) -> str:
    return settings.role_assignments.get(f"{platform}:{user_id}") or settings.role_assignments.get(user_id) or "agent"


def may(settings: Settings, actor: Actor, action: str) -> bool:
    return action in settings.roles.get(actor.role, {}).get("may", ())


def require(settings: Settings, actor: Actor, action: str) -> None:
    if not may(settings, actor, action):
        raise UserError(f"Your role ({actor.role}) may not {action} customers. Ask a supervisor or admin.")


def visible_sections(settings: Settings, actor: Actor) -> frozenset[str]:
    return settings.sections_for(actor.role)


# --------------------------------------------------------------------------- resolving references


async def conversation_id_from(ref: str | None, *, thread_conversation: int | None, actor: Actor) -> int:
    """#conv if given, else the thread's conversation, else the caller's current session."""
    if ref:
        conversation_id = parse_public_id(ref)
        if conversation_id is None or await load_conversation(conversation_id) is None:
            raise UserError(f"There is no conversation {ref}. `sessions` lists yours.")
        return conversation_id
    if thread_conversation is not None:
        return thread_conversation
    current = await conversations.current_conversation(actor)
    if current is None:
        raise UserError("Which conversation? Add #c<number>, or type the command in the handoff thread.")
    return current


async def find_customers(query: str) -> list[MatchCandidate]:
    """A customer by id, email, phone, case number, any identity value, or name."""
    query = query.strip()
    if query.isdigit():
        brief = await customer_admin.get_brief(int(query))
        if brief:
            ids = [brief.merged_into or brief.id]
            return await customer_admin.candidates(ids)
    case = await cases.find_case(query)
    if case and case.customer_id:
        return await customer_admin.candidates([case.customer_id])
    identities: list[tuple[str, str]] = []
    if email := normalize_email(query):
        identities.append(("email", email))
    elif phone := normalize_phone(query):
        identities.append(("phone", phone))
    if identities:
        return await customer_admin.candidates(await find_by_identities(identities))
    external = await customer_admin.candidates(await find_by_identity_value(query))
    return external or await customer_admin.search_by_name(query)


async def one_customer(query: str) -> MatchCandidate:
    found = await find_customers(query)
    if not found:
        raise UserError(f"No customer matches “{query}”.")
    if len(found) > 1:
        names = ", ".join(f"{c.display_name} ({c.customer_id})" for c in found[:5])
        raise UserError(f"Several customers match “{query}”: {names}. Use the number.")
    return found[0]


# --------------------------------------------------------------------------- conversation actions


async def changed(services: Services) -> None:
    services.wake()


@dataclass(frozen=True)
class ClaimResult:
    won: bool
    holder: str | None
    text: str


async def claim(services: Services, actor: Actor, conversation_id: int) -> ClaimResult:
    targets = services.targets
    outcome = await conversations.claim(conversation_id, actor, targets=targets, now=services.clock())
    services.wake()
    ref = public_id(conversation_id)
    if outcome.won:
        return ClaimResult(True, outcome.holder, f"You claimed #{ref}. Your thread replies now go to the customer.")
    if outcome.status == "wrapped":
        return ClaimResult(False, outcome.holder, f"#{ref} is already wrapped up.")
    return ClaimResult(False, outcome.holder, f"#{ref} is already claimed by {outcome.holder}.")


async def add_note(services: Services, actor: Actor, conversation_id: int, text: str) -> str:
    text = text.strip()
    if not text:
        raise UserError("A note needs some text.")
    record = await load_conversation(conversation_id)
    await conversations.add_note(
        customer_id=record.customer_id, conversation_id=conversation_id, author=actor.label, text=text,
        targets=services.targets, now=services.clock(),
    )
    await conversations.set_current(actor, conversation_id)
    services.wake()
    return f"Note added to #{public_id(conversation_id)}."


async def comment_on_case(services: Services, actor: Actor, case_number: str, text: str) -> str:
    case = await cases.find_case(case_number)
    if case is None:
        raise UserError(f"There is no case {case_number}.")
    if case.status == "canceled":
        raise UserError(f"Case {case.number} is canceled; it takes no comments.")
    if not text.strip():
        raise UserError("A comment needs some text.")
    await cases.add_comment(case, author=actor.label, text=text.strip(), now=services.clock())
    for conversation_id in await conversations.open_conversations_of_case(case.id):
        await conversations.touch(conversation_id, services.targets, services.clock())
    services.wake()
    return f"Internal comment added to {case.number}. The customer never sees it, and it cannot be edited or deleted."


def disposition_codes(settings: Settings) -> list[tuple[str, str]]:
    return list(settings.dispositions)


async def wrap_up(services: Services, actor: Actor, conversation_id: int, code: str, notes: str | None) -> str:
    codes = dict(services.settings.dispositions)
    codes.setdefault("timeout", "Timed out (automatic)")  # the auto-wrap-up timer's code always exists
    if code not in codes:
        raise UserError(f"Unknown disposition code “{code}”. Codes: {', '.join(codes)}.")
    done = await conversations.wrap_up(
        conversation_id, code=code, notes=(notes or None), author=actor.label, targets=services.targets, now=services.clock()
    )
    if not done:
        raise UserError(f"#{public_id(conversation_id)} is already wrapped up.")
    services.wake()
    return f"#{public_id(conversation_id)} wrapped up as {codes[code]}."


async def interaction_log(conversation_id: int) -> str:
    lines = [
        f"{at:%Y-%m-%d %H:%M} {'(internal) ' if internal else ''}{name or sender}: {text}"
        for at, sender, name, text, internal in await conversations.messages_for_log(conversation_id)
    ]
    return "\n".join(lines) or "(no messages)"


async def link_customer(services: Services, actor: Actor, conversation_id: int, customer_id: int) -> str:
    brief = await customer_admin.get_brief(customer_id)
    if brief is None:
        raise UserError(f"There is no customer {customer_id}.")
    survivor = brief.merged_into or brief.id
    await conversations.link_customer(conversation_id, survivor, targets=services.targets, now=services.clock())
    record = await load_conversation(conversation_id)
    await add_identities(survivor, _identities_from_input(record.customer_input), now=services.clock())
    await audit.record(actor, "link", customer_id=survivor, now=services.clock(), conversation=conversation_id)
    services.wake()
    return f"#{public_id(conversation_id)} is now linked to {brief.display_name}."


def _identities_from_input(customer_input: dict[str, Any]) -> list[tuple[str, str]]:
    from bot.domain import CustomerInput

    return identities_of(
        CustomerInput(
            name=customer_input.get("name"),
            email=customer_input.get("email"),
            phone=customer_input.get("phone"),
            external_ids=customer_input.get("external_ids") or {},
            channel_ids=tuple(tuple(x) for x in customer_input.get("channel_ids") or ()),
        )
    )


async def create_customer_for(services: Services, actor: Actor, conversation_id: int) -> str:
    record = await load_conversation(conversation_id)
    if record.customer_id is not None:
        raise UserError(f"#{public_id(conversation_id)} is already linked to a customer.")
    given = record.customer_input
    name = (given.get("name") or "").strip() or f"Customer from #{public_id(conversation_id)}"
    customer_id = await create_customer(
        display_name=name,
        identities=_identities_from_input(given),
        email=normalize_email(given.get("email") or "") if given.get("email") else None,
        mobile_phone=normalize_phone(given.get("phone") or "") if given.get("phone") else None,
        preferred_channel=record.channel,
        now=services.clock(),
    )
    await audit.record(actor, "create", customer_id=customer_id, now=services.clock(), conversation=conversation_id)
    await conversations.link_customer(conversation_id, customer_id, targets=services.targets, now=services.clock())
    services.wake()
    return f"Created customer {name} ({customer_id}) and linked #{public_id(conversation_id)}."


async def link_case(services: Services, actor: Actor, conversation_id: int, case_number: str) -> str:
    case = await cases.find_case(case_number)
    if case is None:
        raise UserError(f"There is no case {case_number}.")
    await conversations.link_case(conversation_id, case.id, targets=services.targets, now=services.clock())
    services.wake()
    return f"#{public_id(conversation_id)} is now about {case.number}: {case.title}."


async def open_case(services: Services, actor: Actor, conversation_id: int, title: str) -> str:
    if not title.strip():
        raise UserError("A new case needs a title: `case new <title>`.")
    record = await load_conversation(conversation_id)
    case = await cases.open_case(title=title.strip(), customer_id=record.customer_id, owner=actor.label, now=services.clock())
    await conversations.link_case(conversation_id, case.id, targets=services.targets, now=services.clock())
    services.wake()
    return f"Opened {case.number}: {case.title}, linked to #{public_id(conversation_id)}."


# --------------------------------------------------------------------------- customer views and admin


async def customer_view(
    services: Services, actor: Actor, customer_id: int, *, action: str = "view", timeline_filter: str | None = None
) -> CustomerSummary:
    summary = await summary_for_customer(
        customer_id,
        now=services.clock(),
        topic_phrases=services.settings.topic_phrases,
        visible_sections=visible_sections(services.settings, actor),
        hidden_fields=services.settings.hidden_fields_for(actor.role),
        timeline_filter=timeline_filter,
    )
    if summary is None:
        raise UserError(f"There is no customer {customer_id}.")
    await audit.record(actor, action, customer_id=summary.profile.customer_id, now=services.clock())
    return summary


async def conversation_view(
    services: Services, actor: Actor, conversation_id: int, *, timeline_filter: str | None = None
) -> CustomerSummary:
    summary = await summary_for_conversation(
        conversation_id,
        now=services.clock(),
        topic_phrases=services.settings.topic_phrases,
        visible_sections=visible_sections(services.settings, actor),
        hidden_fields=services.settings.hidden_fields_for(actor.role),
        timeline_filter=timeline_filter,
    )
    if summary is None:
        raise UserError(f"There is no conversation #{public_id(conversation_id)}.")
    if summary.profile:
        await audit.record(actor, "view", customer_id=summary.profile.customer_id, now=services.clock())
    return summary


async def _queue_card_updates(services: Services, customer_ids: Sequence[int]) -> None:
    for conversation_id in await conversations.open_conversations_of_customers(customer_ids):
        await conversations.touch(conversation_id, services.targets, services.clock())


async def _touch_customer_conversations(services: Services, customer_ids: Sequence[int]) -> None:
    await _queue_card_updates(services, customer_ids)
    services.wake()


async def check_mergeable(services: Services, actor: Actor, survivor_id: int, merged_id: int) -> tuple[str, str]:
    require(services.settings, actor, "merge")
    if survivor_id == merged_id:
        raise UserError("Pick two different customers to merge.")
    a, b = await customer_admin.get_brief(survivor_id), await customer_admin.get_brief(merged_id)
    if a is None or b is None:
        raise UserError("Both customers must exist.")
    for brief in (a, b):
        if brief.locked:
            raise UserError(f"{brief.display_name} is locked; locked customers cannot be merged.")
        if brief.merged_into:
            raise UserError(f"{brief.display_name} was already merged into customer {brief.merged_into}.")
    return a.display_name, b.display_name


async def merge_customers(services: Services, actor: Actor, survivor_id: int, merged_id: int) -> str:
    survivor_name, merged_name = await check_mergeable(services, actor, survivor_id, merged_id)
    now = services.clock()
    try:
        # The move, both audit records (the undo reads them) and the card updates commit together.
        async with unit_of_work():
            moved = await customer_admin.merge(survivor_id, merged_id, now=now)
            await audit.record(actor, "merge", customer_id=merged_id, now=now, survivor=survivor_id, moved=moved)
            await audit.record(actor, "merge", customer_id=survivor_id, now=now, merged=merged_id)
            await _queue_card_updates(services, [survivor_id])
    except customer_admin.CustomerLocked as locked:
        raise UserError(f"{locked} is locked; locked customers cannot be merged.") from None
    except ValueError:
        raise UserError(f"{merged_name} was already merged.") from None
    services.wake()
    return f"Merged {merged_name} ({merged_id}) into {survivor_name} ({survivor_id}). It can be undone for 24 hours."


async def undo_merge(services: Services, actor: Actor, merged_id: int) -> str:
    require(services.settings, actor, "merge")
    now = services.clock()
    try:
        async with unit_of_work():
            survivor = await customer_admin.undo_merge(merged_id, now=now)
            await audit.record(actor, "unmerge", customer_id=merged_id, now=now, survivor=survivor)
            await _queue_card_updates(services, [survivor, merged_id])
    except ValueError as reason:
        raise UserError(f"Cannot undo: {reason}.") from None
    services.wake()
    return f"Merge undone: customer {merged_id} is separate from {survivor} again."


async def set_lock(services: Services, actor: Actor, customer_id: int, locked: bool) -> str:
    require(services.settings, actor, "lock")
    await customer_admin.set_locked(customer_id, locked, now=services.clock())
    await audit.record(actor, "lock" if locked else "unlock", customer_id=customer_id, now=services.clock())
    return f"Customer {customer_id} is {'locked against edits and merges' if locked else 'unlocked'}."


ANONYMIZED_NOTICE = "This customer was anonymized: Baton removed their messages from this thread or blanked them."


async def anonymize(services: Services, actor: Actor, customer_id: int) -> str:
    require(services.settings, actor, "anonymize")
    now = services.clock()
    # Irreversible, so all of it or none: the data, the audit record, and the queued rewrites of
    # every card and customer message already posted (SPEC 5: privacy follows the data).
    async with unit_of_work():
        touched = await customer_admin.anonymize(customer_id, now=now, notice=ANONYMIZED_NOTICE)
        await audit.record(actor, "anonymize", customer_id=customer_id, now=now)
        for conversation_id in touched:
            await conversations.touch(conversation_id, services.targets, now)
    services.wake()
    return f"Customer {customer_id} is anonymized. This cannot be undone."


async def export(services: Services, actor: Actor, customer_id: int) -> tuple[str, bytes]:
    require(services.settings, actor, "export")
    data = await customer_admin.export(customer_id)
    await audit.record(actor, "export", customer_id=customer_id, now=services.clock())
    return f"customer-{customer_id}.json", json.dumps(data, indent=2, default=str, ensure_ascii=False).encode()


async def save_profile(services: Services, actor: Actor, customer_id: int, changes: dict[str, Any]) -> str:
    clean = {k: (v.strip() if isinstance(v, str) else v) or None for k, v in changes.items()}
    # A field the role does not see came back blank from the form: keep what is stored (a new value is written).
    unseen = hidden_profile_columns(services.settings.hidden_fields_for(actor.role))
    clean = {k: v for k, v in clean.items() if v is not None or k not in unseen}
    if "email" in clean and clean["email"]:
        if normalize_email(clean["email"]) is None:
            raise UserError("That email address does not look valid.")
        clean["email"] = normalize_email(clean["email"])
    for phone_field in ("mobile_phone", "home_phone"):
        if clean.get(phone_field):
            normalized = normalize_phone(clean[phone_field])
            if normalized is None:
                raise UserError(f"“{clean[phone_field]}” is not a phone number I can read.")
            clean[phone_field] = normalized
    if "tags" in clean:
        raw = clean["tags"] or ""
        clean["tags"] = [t.strip() for t in (raw if isinstance(raw, list) else raw.split(",")) if t.strip()]
    try:
        await customer_admin.update_profile(customer_id, clean, now=services.clock())
    except customer_admin.CustomerLocked:
        raise UserError("This customer is locked against edits.") from None
    new_identities = [("email", clean["email"])] if clean.get("email") else []
    new_identities += [("phone", clean[f]) for f in ("mobile_phone", "home_phone") if clean.get(f)]
    await add_identities(customer_id, new_identities, now=services.clock())
    await audit.record(actor, "edit", customer_id=customer_id, now=services.clock(), fields=sorted(clean))
    await _touch_customer_conversations(services, [customer_id])
    return "Profile saved."


async def route_here(services: Services, actor: Actor, target: str, channel: str, queue: str | None, reference: Any = None) -> str:
    require(services.settings, actor, "route")
    await routes.set_route(target, queue, channel, reference=reference, by=audit.actor_key(actor), now=services.clock())
    await _retry_unrouted(services, target)
    return f"This channel now receives {'the ' + queue + ' queue' if queue else 'every queue without its own channel'}."


async def _retry_unrouted(services: Services, target: str) -> None:
    """Work that waited for a route runs now instead of after its backoff."""
    await outbox.retry_now(target, error_prefix="no channel", now=services.clock())
    services.wake()


# --------------------------------------------------------------------------- thread messages


@dataclass(frozen=True)
class ThreadMessageOutcome:
    relayed: bool
    note: bool


async def thread_message(services: Services, actor: Actor, conversation_id: int, text: str, *, platform: str,
                         attachments: list | None = None) -> ThreadMessageOutcome:
    """An agent typed in the handoff thread: a !note, a reply to the customer, or internal chatter."""
    if text.lstrip().lower().startswith(NOTE_PREFIX):
        await add_note(services, actor, conversation_id, text.lstrip()[len(NOTE_PREFIX):].strip() or "(empty note)")
        return ThreadMessageOutcome(relayed=False, note=True)
    record = await load_conversation(conversation_id)
    is_claimer = (
        record.status == "claimed"
        and record.claimed_by_user == actor.user_id
        and record.claimed_by_platform == actor.platform
    )
    await conversations.add_message(
        conversation_id, sender="agent", text=text, sender_name=actor.label, posted_from=platform,
        internal=not is_claimer, attachments=attachments, targets=services.targets, now=services.clock(),
    )
    services.wake()
    return ThreadMessageOutcome(relayed=is_claimer, note=False)


async def customer_message(services: Services, conversation_id: int, text: str, *, sender_name: str | None = None,
                           attachments: list | None = None) -> None:
    """A later message from the customer (web chat, SMS, Bot Framework) arrives in the thread."""
    said = await conversations.customer_texts(conversation_id) + [text]
    scored = (sentiment.score_text(" ".join(said)), sentiment.customer_text(said))
    await conversations.add_message(
        conversation_id, sender="customer", text=text, sender_name=sender_name, posted_from=None, internal=False,
        attachments=attachments, targets=services.targets, now=services.clock(), sentiment=scored,
    )
    services.wake()

"""What agents can do, the same from Slack and Teams: claim, notes, comments, wrap-up, links, merges…

Every function takes the `Services` it needs and an `Actor`; refusals are `UserError`s with text fit
to show the agent. Changes that the card shows queue a card edit and wake the delivery worker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from bot.core import roles, routing, sentiment
from bot.core.services import Services
from bot.core.summary import hidden_profile_columns, summary_for_conversation, summary_for_customer, visible_identities
from bot.domain import (
    Actor,
    ConversationStatus,
    CustomerFile,
    CustomerSummary,
    MatchCandidate,
    ThreadMessage,
    ThreadMessageOutcome,
    parse_public_id,
    public_id,
)
from bot.errors import UserError
from bot.identity import identities_of, normalize_email, normalize_phone
from storage import audit, cases, conversations, customer_admin, customer_files
from storage.changes import card_changed
from storage.customers import add_identities, create_customer, find_by_identities, find_by_identity_value
from storage.db import unit_of_work
from storage.summary import load_conversation

NOTE_PREFIX = "!note"
# An interaction log is posted into the thread in parts of at most this many characters (Slack and Teams
# both show such a message whole; a longer log becomes several messages).
LOG_PART_CHARS = 9_000
LOG_TITLE = "Interaction log"
SUMMARY_TIMELINE = 10  # timeline entries on a card or a lookup (the details view reads more)

# --------------------------------------------------------------------------- resolving references


async def conversation_id_from(ref: str | None, *, thread_conversation: int | None, actor: Actor) -> int:
    """#conv if given, else the thread's conversation, else the caller's current session."""
    if ref:
        conversation_id = parse_public_id(ref)
        if conversation_id is None or not await conversations.exists(conversation_id):
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


async def identities_and_duplicates(services: Services, customer_id: int, actor: Actor
                                    ) -> tuple[list[tuple[str, str]], list[MatchCandidate]]:
    """The customer's identities the caller's role may see, and customers that look like the same person."""
    mine = visible_identities(await customer_admin.identities_of_customer(customer_id),
                              services.settings.hidden_fields_for(actor.role))
    return mine, await customer_admin.customers_sharing_identities(customer_id)


async def sessions_of(actor: Actor) -> list[tuple[int, ConversationStatus, str | None]]:
    """The caller's open conversations: (id, status, customer name)."""
    return await conversations.open_sessions(actor)


async def one_customer(query: str) -> MatchCandidate:
    found = await find_customers(query)
    if not found:
        raise UserError(f"No customer matches “{query}”.")
    if len(found) > 1:
        names = ", ".join(f"{c.display_name} ({c.customer_id})" for c in found[:5])
        raise UserError(f"Several customers match “{query}”: {names}. Use the number.")
    return found[0]


# --------------------------------------------------------------------------- conversation actions


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
    if outcome.status == ConversationStatus.WRAPPED:
        return ClaimResult(False, outcome.holder, f"#{ref} is already wrapped up.")
    return ClaimResult(False, outcome.holder, f"#{ref} is already claimed by {outcome.holder}.")


async def add_note(services: Services, actor: Actor, conversation_id: int, text: str, *,
                   once_key: str | None = None) -> str:
    text = text.strip()
    if not text:
        raise UserError("A note needs some text.", field="text")
    record = await load_conversation(conversation_id)
    await conversations.add_note(
        customer_id=record.customer_id, conversation_id=conversation_id, author=actor.label, text=text,
        targets=services.targets, now=services.clock(), once_key=once_key,
    )
    services.wake()  # the card edit is queued (committed): the worker need not wait for the bookkeeping below
    await conversations.set_current(actor, conversation_id)
    return f"Note added to #{public_id(conversation_id)}."


async def comment_on_case(services: Services, actor: Actor, case_number: str, text: str) -> str:
    case = await cases.find_case(case_number)
    if case is None:
        raise UserError(f"There is no case {case_number}.", field="case")
    if case.status == "canceled":
        raise UserError(f"Case {case.number} is canceled; it takes no comments.", field="case")
    if not text.strip():
        raise UserError("A comment needs some text.", field="text")
    await cases.add_comment(case, author=actor.label, text=text.strip(), now=services.clock())
    for conversation_id in await conversations.open_conversations_of_case(case.id):
        await card_changed(conversation_id, services.targets, services.clock())
    services.wake()
    return f"Internal comment added to {case.number}. The customer never sees it, and it cannot be edited or deleted."


async def wrap_up(services: Services, actor: Actor, conversation_id: int, code: str, notes: str | None, *,
                  logs: bool = False) -> str:
    """Ends the conversation with a disposition code; with `logs` the interaction log follows in the thread."""
    codes = dict(services.settings.dispositions)
    codes.setdefault("timeout", "Timed out (automatic)")  # the auto-wrap-up timer's code always exists
    codes.setdefault("visitor_ended", "Ended by the visitor")  # a web chat visitor's End always has its code
    if code not in codes:
        raise UserError(f"Unknown disposition code “{code}”. Codes: {', '.join(codes)}.", field="code")
    done = await conversations.wrap_up(
        conversation_id, code=code, notes=(notes or None), author=actor.label, targets=services.targets, now=services.clock()
    )
    if not done:
        raise UserError(f"#{public_id(conversation_id)} is already wrapped up.")
    if logs:
        await post_interaction_log(services, conversation_id)
    services.wake()
    return f"#{public_id(conversation_id)} wrapped up as {codes[code]}."


async def interaction_log(conversation_id: int) -> str:
    lines = [
        f"{at:%Y-%m-%d %H:%M} {'(internal) ' if internal else ''}{name or sender}: {text}"
        for at, sender, name, text, internal in await conversations.messages_for_log(conversation_id)
    ]
    return "\n".join(lines) or "(no messages)"


def _log_parts(log: str) -> list[str]:
    parts, current = [], ""
    for line in log.splitlines():
        while len(line) > LOG_PART_CHARS:  # one very long message: cut it where it must be
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:LOG_PART_CHARS])
            line = line[LOG_PART_CHARS:]
        if current and len(current) + 1 + len(line) > LOG_PART_CHARS:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return parts + [current] if current else parts


async def post_interaction_log(services: Services, conversation_id: int) -> None:
    """"Wrap up and see logs" (seed): the log goes into the thread as Baton's internal messages, through the
    outbox like every other post, so it is delivered once, in order, and can be reached again later."""
    parts = _log_parts(await interaction_log(conversation_id))
    for number, part in enumerate(parts, 1):
        title = f"{LOG_TITLE} of #{public_id(conversation_id)}" + (f" ({number}/{len(parts)})" if len(parts) > 1 else "")
        await conversations.add_message(
            conversation_id, sender="system", text=f"{title}\n{part}", sender_name="Baton", posted_from=None,
            internal=True, targets=services.thread_targets, now=services.clock(), kind="log",
        )


async def link_customer(services: Services, actor: Actor, conversation_id: int, customer_id: int) -> str:
    brief = await customer_admin.get_brief(customer_id)
    if brief is None:
        raise UserError(f"There is no customer {customer_id}.")
    survivor = brief.merged_into or brief.id
    await conversations.link_customer(conversation_id, survivor, targets=services.targets, now=services.clock())
    record = await load_conversation(conversation_id)
    await add_identities(survivor, identities_of(record.customer_input), now=services.clock())
    await audit.record(actor, "link", customer_id=survivor, now=services.clock(), conversation=conversation_id)
    services.wake()
    return f"#{public_id(conversation_id)} is now linked to {brief.display_name}."


async def create_customer_for(services: Services, actor: Actor, conversation_id: int) -> str:
    record = await load_conversation(conversation_id)
    if record.customer_id is not None:
        raise UserError(f"#{public_id(conversation_id)} is already linked to a customer.")
    given = record.customer_input
    name = (given.name or "").strip() or f"Customer from #{public_id(conversation_id)}"
    customer_id = await create_customer(
        display_name=name,
        identities=identities_of(given),
        email=normalize_email(given.email) if given.email else None,
        mobile_phone=normalize_phone(given.phone) if given.phone else None,
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
        raise UserError("A new case needs a title: `case new <title>`.", field="title")
    record = await load_conversation(conversation_id)
    case = await cases.open_case(title=title.strip(), customer_id=record.customer_id, owner=actor.label, now=services.clock())
    await conversations.link_case(conversation_id, case.id, targets=services.targets, now=services.clock())
    services.wake()
    return f"Opened {case.number}: {case.title}, linked to #{public_id(conversation_id)}."


# --------------------------------------------------------------------------- customer views and admin


async def customer_view(
    services: Services, actor: Actor, customer_id: int, *, action: str | None = "view",
    timeline_filter: str | None = None, timeline_limit: int = SUMMARY_TIMELINE,
) -> CustomerSummary:
    """A customer's summary for the caller alone, by the caller's role; audited as `action` (None: not again)."""
    summary = await summary_for_customer(
        customer_id, now=services.clock(), timeline_filter=timeline_filter, timeline_limit=timeline_limit,
        **roles.view_of(services.settings, actor.role),
    )
    if summary is None:
        raise UserError(f"There is no customer {customer_id}.")
    if action:
        await audit.record(actor, action, customer_id=summary.profile.customer_id, now=services.clock())
    return summary


async def conversation_view(
    services: Services, actor: Actor, conversation_id: int, *, timeline_filter: str | None = None,
    timeline_limit: int = SUMMARY_TIMELINE, audited: bool = True,
) -> CustomerSummary:
    """A conversation's summary for the caller alone, by the caller's role; audited as a view."""
    summary = await summary_for_conversation(
        conversation_id, now=services.clock(), timeline_filter=timeline_filter, timeline_limit=timeline_limit,
        **roles.view_of(services.settings, actor.role),
    )
    if summary is None:
        raise UserError(f"There is no conversation #{public_id(conversation_id)}.")
    if summary.profile and audited:
        await audit.record(actor, "view", customer_id=summary.profile.customer_id, now=services.clock())
    return summary


async def thread_card(services: Services, conversation_id: int) -> CustomerSummary | None:
    """The thread card as the channel sees it (the agent role's view): what the outbox posts, and what a
    platform that replaces a clicked card in place (Teams) shows the clicker. Not an audited view: it is
    the card already in the channel."""
    return await summary_for_conversation(conversation_id, now=services.clock(), **roles.channel_view(services.settings))


async def _queue_card_updates(services: Services, customer_ids: Sequence[int]) -> None:
    for conversation_id in await conversations.open_conversations_of_customers(customer_ids):
        await card_changed(conversation_id, services.targets, services.clock())


async def _touch_customer_conversations(services: Services, customer_ids: Sequence[int]) -> None:
    await _queue_card_updates(services, customer_ids)
    services.wake()


async def check_mergeable(services: Services, actor: Actor, survivor_id: int, merged_id: int) -> tuple[str, str]:
    roles.require(services.settings, actor, "merge")
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
    roles.require(services.settings, actor, "merge")
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
    roles.require(services.settings, actor, "lock")
    await customer_admin.set_locked(customer_id, locked, now=services.clock())
    await audit.record(actor, "lock" if locked else "unlock", customer_id=customer_id, now=services.clock())
    return f"Customer {customer_id} is {'locked against edits and merges' if locked else 'unlocked'}."


ANONYMIZED_NOTICE = "This customer was anonymized: Baton removed their messages from this thread or blanked them."


async def anonymize(services: Services, actor: Actor, customer_id: int) -> str:
    roles.require(services.settings, actor, "anonymize")
    now = services.clock()
    # Irreversible, so all of it or none: the data, the audit record, and the queued rewrites of
    # every card and customer message already posted (SPEC 5: privacy follows the data).
    async with unit_of_work():
        touched = await customer_admin.anonymize(customer_id, now=now, notice=ANONYMIZED_NOTICE)
        await audit.record(actor, "anonymize", customer_id=customer_id, now=now)
        for conversation_id in touched:
            await card_changed(conversation_id, services.targets, now)
    services.wake()
    return f"Customer {customer_id} is anonymized. This cannot be undone."


async def export(services: Services, actor: Actor, customer_id: int) -> tuple[str, bytes]:
    roles.require(services.settings, actor, "export")
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
            raise UserError("That email address does not look valid.", field="email")
        clean["email"] = normalize_email(clean["email"])
    for phone_field in ("mobile_phone", "home_phone"):
        if clean.get(phone_field):
            normalized = normalize_phone(clean[phone_field])
            if normalized is None:
                raise UserError(f"“{clean[phone_field]}” is not a phone number I can read.", field=phone_field)
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
    roles.require(services.settings, actor, "route")
    await routing.set_route(services, actor, target, channel, queue, reference)
    return f"This channel now receives {'the ' + queue + ' queue' if queue else 'every queue without its own channel'}."


# --------------------------------------------------------------------------- thread messages


async def thread_message(services: Services, message: ThreadMessage) -> ThreadMessageOutcome:
    """An agent typed in the handoff thread: a !note, a reply to the customer (the claiming agent only),
    or internal chatter (anyone else, or before a claim)."""
    actor, conversation_id, text = message.actor, message.conversation_id, message.text
    if text.lstrip().lower().startswith(NOTE_PREFIX):
        await add_note(services, actor, conversation_id, text.lstrip()[len(NOTE_PREFIX):].strip() or "(empty note)",
                       once_key=message.once_key)
        return ThreadMessageOutcome(relayed=False, note=True)
    record = await load_conversation(conversation_id)
    is_claimer = record is not None and record.claimed_by_actor(actor)
    await conversations.add_message(
        conversation_id, sender="agent", text=text, sender_name=actor.label, posted_from=actor.platform,
        internal=not is_claimer, attachments=[dict(a) for a in message.attachments] or None,
        targets=services.targets, now=services.clock(), once_key=message.once_key,
    )
    services.wake()
    return ThreadMessageOutcome(relayed=is_claimer, note=False)


async def store_customer_message(services: Services, conversation_id: int, text: str, *, sender_name: str | None = None,
                                 attachments: list | None = None, files: Sequence[CustomerFile] = ()) -> tuple[int, list]:
    """A later message from the customer, stored with its files (inside the caller's transaction, so an edge
    can store its own record beside it); the caller wakes the worker after its commit. Returns the message id
    and its attachments (`files` become attachments naming the stored file, which the outbox puts into
    every thread as a real file)."""
    said = await conversations.customer_texts(conversation_id) + [text]
    scored = (sentiment.score_text(" ".join(said)), sentiment.customer_text(said))
    async with unit_of_work():
        stored = await customer_files.store(conversation_id, files, now=services.clock()) if files else []
        attachments = [*(attachments or []), *stored]
        message_id = await conversations.add_message(
            conversation_id, sender="customer", text=text, sender_name=sender_name, posted_from=None, internal=False,
            attachments=attachments, targets=services.targets, now=services.clock(), sentiment=scored,
        )
    return message_id, attachments


async def customer_message(services: Services, conversation_id: int, text: str, *, sender_name: str | None = None,
                           attachments: list | None = None, files: Sequence[CustomerFile] = ()) -> int:
    """A later message from the customer (web chat, SMS, Bot Framework) arrives in the thread, with the
    customer's files (`CustomerFile`s: web chat uploads, MMS media) as real files there."""
    message_id, _ = await store_customer_message(services, conversation_id, text, sender_name=sender_name,
                                                 attachments=attachments, files=files)
    services.wake()
    return message_id

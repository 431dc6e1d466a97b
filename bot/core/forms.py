"""The forms agents fill in, decided once for every platform: what a form is prefilled with when it
opens, and what its submission does. Each edge renders a `Form` natively (a Slack modal, a Teams
dialog or inline card) and maps what was typed back to the same field names."""

from __future__ import annotations

from typing import Any, Mapping

from bot.core import actions, control, page_links, roles, threads
from bot.core.services import Services
from bot.domain import PROFILE_FORM_FIELDS, Actor, CustomerSummary, Form, FormSubmission, Outcome, public_id
from bot.errors import UserError
from storage import cases, conversations


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _need(ids: Mapping[str, Any], key: str) -> int:
    value = _int(ids.get(key))
    if value is None:
        raise UserError("This form no longer says which conversation or customer it is about.")
    return value


def _text(values: Mapping[str, Any], key: str) -> str:
    value = values.get(key)
    return value if isinstance(value, str) else ""


def _checked(value: object) -> bool:
    return value is True or value in ("true", "on", "logs") or (isinstance(value, (list, tuple)) and bool(value))


# --------------------------------------------------------------------------- opening


async def open_form(services: Services, actor: Actor, name: str, ids: Mapping[str, Any],
                    initial: Mapping[str, Any] | None = None) -> Form:
    """The form `name` for what `ids` point at, prefilled; `initial` adds what the edge already knows (the text
    of the message a shortcut was used on)."""
    initial = dict(initial or {})
    if name == "note":
        conversation = _need(ids, "conversation")
        return Form("note", {"conversation": conversation}, {"public_id": public_id(conversation), **initial})
    if name == "comment":
        conversation = _need(ids, "conversation")
        case = await threads.case_number_of(conversation)
        return Form("comment", {"conversation": conversation}, {"case": case, **initial})
    if name == "wrapup":
        conversation = _need(ids, "conversation")
        return Form("wrapup", {"conversation": conversation},
                    {"public_id": public_id(conversation), "codes": list(services.settings.dispositions),
                     "logs": _checked(ids.get("logs")) or _checked(initial.get("logs"))})
    if name == "profile":
        summary = await actions.customer_view(services, actor, _need(ids, "customer"))
        return profile_form(summary, conversation=_int(ids.get("conversation")))
    if name == "merge_confirm":
        survivor, merged = _need(ids, "survivor"), _need(ids, "merged")
        survivor_name, merged_name = await actions.check_mergeable(services, actor, survivor, merged)
        return Form("merge_confirm", {"survivor": survivor, "merged": merged},
                    {"survivor_name": survivor_name, "merged_name": merged_name})
    if name == "anonymize_confirm":
        candidate = await actions.one_customer(str(_need(ids, "customer")))
        roles.require(services.settings, actor, "anonymize")
        return Form("anonymize_confirm", {"customer": candidate.customer_id}, {"name": candidate.display_name})
    if name == "search":
        conversation = _need(ids, "conversation")
        return Form("search", {"conversation": conversation}, {"public_id": public_id(conversation)})
    if name == "transfer":
        conversation = _need(ids, "conversation")
        # The agents Baton has met on the caller's platform (a picker, the same on both), the caller left out.
        agents = tuple((user_id, label) for user_id, label in await conversations.known_agents(actor.platform)
                       if user_id != actor.user_id)
        return Form("transfer", {"conversation": conversation}, {"public_id": public_id(conversation), "agents": agents})
    if name == "priority":
        conversation = _need(ids, "conversation")
        case = await control.linked_case(conversation)  # no case: refused before a form opens
        return Form("priority", {"conversation": conversation},
                    {"public_id": public_id(conversation), "case": case.number, "priorities": control.PRIORITIES,
                     "priority": await cases.priority_of(case.id) or "Normal"})
    raise UserError("That form is not one Baton knows.")


def profile_form(summary: CustomerSummary, *, conversation: int | None = None) -> Form:
    """The profile form prefilled from a customer's (already audited) summary."""
    p = summary.profile
    values: dict[str, Any] = {field: getattr(p, field) for field, _ in PROFILE_FORM_FIELDS if field != "tags"}
    values.update(tags=", ".join(p.tags), locked=p.locked, display_name=p.display_name)
    ids = {"customer": p.customer_id, **({"conversation": conversation} if conversation is not None else {})}
    return Form("profile", ids, values)


def pick_form(conversation: int, candidates, query: str) -> Form:
    return Form("pick", {"conversation": conversation},
                {"public_id": public_id(conversation), "candidates": tuple(candidates), "query": query})


# --------------------------------------------------------------------------- submitting


async def _card_of(services: Services, conversation: int | None):
    return await actions.thread_card(services, conversation) if conversation is not None else None


async def _search_and_link(services: Services, actor: Actor, conversation: int, query: str) -> Outcome:
    """One match links it; several offer a pick; none is a refusal beside the search field."""
    query = query.strip()
    if not query:
        raise UserError("Type an email, phone, name or case number to search.", field="query")
    found = await actions.find_customers(query)
    if not found:
        raise UserError(f"No customer matches “{query}”.", field="query")
    if len(found) > 1:
        return Outcome(form=pick_form(conversation, found, query), candidates=tuple(found), conversation_id=conversation)
    text = await actions.link_customer(services, actor, conversation, found[0].customer_id)
    return Outcome(text=text, card=await _card_of(services, conversation), conversation_id=conversation)


async def _transfer(services: Services, actor: Actor, conversation: int, agent: str, queue: str) -> str:
    """The transfer form: an agent from the picker, or a queue typed; exactly one."""
    if agent and queue:
        raise UserError("Choose an agent or type a queue, not both.", field="queue")
    if queue:
        return await control.transfer_to_queue(services, actor, conversation, queue, field="queue")
    if not agent:
        raise UserError("Choose an agent, or type the queue to put it back in.", field="agent")
    known = dict(await conversations.known_agents(actor.platform))
    if agent not in known:
        raise UserError("That agent is not one Baton knows here; pick one from the list.", field="agent")
    to = Actor(platform=actor.platform, user_id=agent, display_name=known[agent], role="agent")
    return await control.transfer_to_agent(services, actor, conversation, to, field="agent")


async def submit(services: Services, submission: FormSubmission) -> Outcome:
    """What a submitted form does. Refusals are UserErrors naming their field."""
    actor, ids, values = submission.actor, submission.ids, submission.values
    name = submission.form
    if name == "note":
        conversation = _need(ids, "conversation")
        text = await actions.add_note(services, actor, conversation, _text(values, "text"))
        return Outcome(text=text, card=await _card_of(services, conversation), conversation_id=conversation)
    if name == "comment":
        case_number = _text(values, "case").strip()
        if not case_number:
            raise UserError("Which case? Type its number, e.g. CAS-01234.", field="case")
        return Outcome(text=await actions.comment_on_case(services, actor, case_number, _text(values, "text")))
    if name == "wrapup":
        conversation = _need(ids, "conversation")
        code = _text(values, "code").strip()
        if not code:
            raise UserError("Choose a disposition code.", field="code")
        notes = _text(values, "notes") or None
        logs = _checked(values.get("logs"))
        text = await actions.wrap_up(services, actor, conversation, code, notes, logs=logs)
        link = await page_links.logs_link(services, actor, conversation) if logs else None
        return Outcome(text=text, card=await _card_of(services, conversation), conversation_id=conversation, link=link)
    if name == "profile":
        customer = _need(ids, "customer")
        # Only the fields the form sent: an empty one clears its value, a missing one is left alone.
        changes = {field: values[field] for field, _ in PROFILE_FORM_FIELDS
                   if field in values and (values[field] is None or isinstance(values[field], str))}
        text = await actions.save_profile(services, actor, customer, changes)
        conversation = _int(ids.get("conversation"))
        return Outcome(text=text, card=await _card_of(services, conversation), conversation_id=conversation)
    if name == "merge_confirm":
        return Outcome(text=await actions.merge_customers(services, actor, _need(ids, "survivor"), _need(ids, "merged")))
    if name == "anonymize_confirm":
        return Outcome(text=await actions.anonymize(services, actor, _need(ids, "customer")))
    if name == "search":
        return await _search_and_link(services, actor, _need(ids, "conversation"), _text(values, "query"))
    if name == "transfer":
        conversation = _need(ids, "conversation")
        text = await _transfer(services, actor, conversation, _text(values, "agent").strip(), _text(values, "queue").strip())
        return Outcome(text=text, card=await _card_of(services, conversation), conversation_id=conversation)
    if name == "priority":
        conversation = _need(ids, "conversation")
        text = await control.set_priority(services, actor, conversation, _text(values, "priority"))
        return Outcome(text=text, card=await _card_of(services, conversation), conversation_id=conversation)
    if name == "pick":
        conversation = _need(ids, "conversation")
        chosen = _int(values.get("customer"))
        if chosen is None:
            raise UserError("Pick a customer.", field="customer")
        text = await actions.link_customer(services, actor, conversation, chosen)
        return Outcome(text=text, card=await _card_of(services, conversation), conversation_id=conversation)
    raise UserError("That form is not one Baton knows.")

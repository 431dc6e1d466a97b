"""One entry point per kind of interaction, the same for Slack, Teams and every future edge.

An edge maps its payload to a typed input (`CardAction`, `FormSubmission`, `CommandRequest`,
`ThreadMessage`), calls the function here, and renders the `Outcome`. Every card verb is decided in
`VERBS` below: adding a button is its verb (`bot/cards/actions.py`), one `Button` in `bot/cards/buttons.py`
and one function here (docs/architecture.md, "How to add…"). Refusals
come back as `Outcome(ok=False)` with their text and, for a form, the field at fault.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import replace
from typing import Awaitable, Callable

from bot.cards import actions as verbs
from bot.commands.builtin import registry
from bot.core import actions, control, forms, page_links
from bot.core.services import Services
from bot.domain import (
    TIMELINE_CATEGORIES,
    CardAction,
    CommandRequest,
    FormSubmission,
    Outcome,
    ThreadMessage,
    ThreadMessageOutcome,
)
from bot.errors import UserError
from storage import lanes

log = logging.getLogger(__name__)

Verb = Callable[[Services, CardAction], Awaitable[Outcome]]


def refusal(error: UserError) -> Outcome:
    return Outcome(text=error.text, ok=False, field_errors={error.field: error.text} if error.field else {})


def _conversation(action: CardAction) -> int:
    if action.conversation_id is None:
        raise UserError("This button does not say which conversation it is for.")
    return action.conversation_id


def _customer(action: CardAction, what: str = "This button does not say which customer it is about.") -> int:
    if action.customer_id is None:
        raise UserError(what)
    return action.customer_id


async def _with_card(services: Services, conversation_id: int, text: str) -> Outcome:
    return Outcome(text=text, card=await actions.thread_card(services, conversation_id), conversation_id=conversation_id)


# --------------------------------------------------------------------------- the card verbs


async def claim(services: Services, action: CardAction) -> Outcome:
    conversation = _conversation(action)
    result = await actions.claim(services, action.actor, conversation)
    if not result.won:
        return Outcome(text=result.text, ok=False, conversation_id=conversation)
    return await _with_card(services, conversation, result.text)


async def add_note(services: Services, action: CardAction) -> Outcome:
    form = await forms.open_form(services, action.actor, "note", {"conversation": _conversation(action)})
    return Outcome(form=form, conversation_id=action.conversation_id)


async def wrap_up(services: Services, action: CardAction) -> Outcome:
    form = await forms.open_form(services, action.actor, "wrapup", {"conversation": _conversation(action)})
    return Outcome(form=form, conversation_id=action.conversation_id)


async def link_customer(services: Services, action: CardAction) -> Outcome:
    conversation = _conversation(action)
    customer = _customer(action, "Pick a customer to link.")
    return await _with_card(services, conversation, await actions.link_customer(services, action.actor, conversation, customer))


async def search_customer(services: Services, action: CardAction) -> Outcome:
    """Without a query (Slack's button) the search form opens; with one (typed into a Teams card) it runs."""
    conversation = _conversation(action)
    if action.query is None:
        form = await forms.open_form(services, action.actor, "search", {"conversation": conversation})
        return Outcome(form=form, conversation_id=conversation)
    return await forms.submit(services, FormSubmission(action.actor, "search", {"conversation": conversation},
                                                       {"query": action.query}))


async def create_customer(services: Services, action: CardAction) -> Outcome:
    conversation = _conversation(action)
    return await _with_card(services, conversation, await actions.create_customer_for(services, action.actor, conversation))


async def open_profile(services: Services, action: CardAction) -> Outcome:
    customer = _customer(action, "This conversation is not linked to a customer yet.")
    ids = {"customer": customer, "conversation": action.conversation_id}
    return Outcome(form=await forms.open_form(services, action.actor, "profile", ids), conversation_id=action.conversation_id)


async def open_page(services: Services, action: CardAction) -> Outcome:
    """*Open full profile*: a link to the customer page for the clicker alone, with their role (SPEC 4.4).
    The card is shared by the channel and outlives 15 minutes, so the link is made on the click."""
    customer = _customer(action, "This conversation is not linked to a customer yet.")
    return Outcome(text="The full profile: this link is yours alone and works once, for 15 minutes.",
                   link=page_links.for_agent(services, action.actor, customer), conversation_id=action.conversation_id)


async def timeline_filter(services: Services, action: CardAction) -> Outcome:
    """The timeline of the card's customer, filtered, for the caller alone."""
    chosen = action.filter if action.filter in TIMELINE_CATEGORIES else None
    if action.conversation_id is not None:
        summary = await actions.conversation_view(services, action.actor, action.conversation_id, timeline_filter=chosen)
        return Outcome(summary=summary, view="card", conversation_id=action.conversation_id)
    customer = _customer(action, "This button does not say whose timeline to show.")
    summary = await actions.customer_view(services, action.actor, customer, timeline_filter=chosen)
    return Outcome(summary=summary, view="card")


async def show_customer(services: Services, action: CardAction) -> Outcome:
    customer = _customer(action, "This button does not say which customer to show.")
    return Outcome(summary=await actions.customer_view(services, action.actor, customer, action="lookup"))


# The details view reads this many timeline entries and pages them (a card shows the newest few).
DETAILS_TIMELINE = 50


async def _details_summary(services: Services, action: CardAction, *, audited: bool):
    chosen = action.filter if action.filter in TIMELINE_CATEGORIES else None
    if action.conversation_id is not None:
        return await actions.conversation_view(services, action.actor, action.conversation_id, timeline_filter=chosen,
                                               timeline_limit=DETAILS_TIMELINE, audited=audited)
    customer = _customer(action, "This button does not say whose details to show.")
    return await actions.customer_view(services, action.actor, customer, timeline_filter=chosen,
                                       timeline_limit=DETAILS_TIMELINE, action="view" if audited else None)


async def details(services: Services, action: CardAction) -> Outcome:
    """Every section of the card, for the clicker alone and by the clicker's role; audited as a view."""
    summary = await _details_summary(services, action, audited=True)
    if summary.full_page and summary.profile is not None:  # the modal is the clicker's: the URL can be theirs
        summary = replace(summary, profile_url=page_links.for_agent(services, action.actor, summary.profile.customer_id))
    return Outcome(summary=summary, view="details", conversation_id=action.conversation_id)


async def details_page(services: Services, action: CardAction) -> Outcome:
    """A timeline filter or another page inside the open details (the opening was the audited view)."""
    summary = await _details_summary(services, action, audited=False)
    return Outcome(summary=summary, view="details", page=action.page, conversation_id=action.conversation_id)


async def refresh(services: Services, action: CardAction) -> Outcome:
    """The card as it stands now (a cancelled inline form goes back to it)."""
    if action.conversation_id is not None:
        return Outcome(card=await actions.thread_card(services, action.conversation_id), conversation_id=action.conversation_id)
    if action.customer_id is not None:
        return Outcome(summary=await actions.customer_view(services, action.actor, action.customer_id))
    return Outcome(text="Nothing to refresh.")


async def open_form(services: Services, action: CardAction) -> Outcome:
    """A button that opens a form an answer asked for (where the platform gave the answer no way to open it)."""
    if not action.form:
        raise UserError("This button does not say which form to open.")
    return Outcome(form=await forms.open_form(services, action.actor, action.form, action.ids),
                   conversation_id=action.conversation_id)


async def unclaim(services: Services, action: CardAction) -> Outcome:
    conversation = _conversation(action)
    return await _with_card(services, conversation, await control.unclaim(services, action.actor, conversation))


async def case_close(services: Services, action: CardAction) -> Outcome:
    conversation = _conversation(action)
    return await _with_card(services, conversation, await control.close_case(services, action.actor, conversation))


async def case_cancel(services: Services, action: CardAction) -> Outcome:
    conversation = _conversation(action)
    return await _with_card(services, conversation, await control.cancel_case(services, action.actor, conversation))


async def transfer(services: Services, action: CardAction) -> Outcome:
    form = await forms.open_form(services, action.actor, "transfer", {"conversation": _conversation(action)})
    return Outcome(form=form, conversation_id=action.conversation_id)


async def case_priority(services: Services, action: CardAction) -> Outcome:
    form = await forms.open_form(services, action.actor, "priority", {"conversation": _conversation(action)})
    return Outcome(form=form, conversation_id=action.conversation_id)


VERBS: dict[str, Verb] = {
    verbs.CLAIM: claim,
    verbs.ADD_NOTE: add_note,
    verbs.WRAP_UP: wrap_up,
    verbs.LINK_CUSTOMER: link_customer,
    verbs.SEARCH_CUSTOMER: search_customer,
    verbs.CREATE_CUSTOMER: create_customer,
    verbs.OPEN_PROFILE: open_profile,
    verbs.OPEN_PAGE: open_page,
    verbs.TIMELINE_FILTER: timeline_filter,
    verbs.SHOW_CUSTOMER: show_customer,
    verbs.REFRESH: refresh,
    verbs.OPEN_FORM: open_form,
    verbs.DETAILS: details,
    verbs.DETAILS_PAGE: details_page,
    verbs.UNCLAIM: unclaim,
    verbs.CASE_CLOSE: case_close,
    verbs.CASE_CANCEL: case_cancel,
    verbs.TRANSFER: transfer,
    verbs.CASE_PRIORITY: case_priority,
}


# --------------------------------------------------------------------------- entry points
# Each runs in `lanes.urgent()`: an agent is looking at the card. On SQLite's one connection their
# statements, and the sync of the card edit they ask for, go before intake's and the outbox's.


def _agent_waiting(entry):
    @functools.wraps(entry)
    async def run(*args, **kwargs):
        with lanes.urgent():
            return await entry(*args, **kwargs)
    return run


@_agent_waiting
async def card_action(services: Services, action: CardAction) -> Outcome:
    verb = VERBS.get(action.verb)
    if verb is None:
        return Outcome(text="That button is not one Baton knows. Try `help`.", ok=False)
    try:
        return await verb(services, action)
    except UserError as error:
        return refusal(error)


@_agent_waiting
async def submit_form(services: Services, submission: FormSubmission) -> Outcome:
    try:
        return await forms.submit(services, submission)
    except UserError as error:
        return refusal(error)


@_agent_waiting
async def open_form_for(services: Services, actor, name: str, ids, initial=None) -> Outcome:
    """A form opened by an edge itself (a Slack message shortcut, a Teams task/fetch)."""
    try:
        return Outcome(form=await forms.open_form(services, actor, name, ids, initial))
    except UserError as error:
        return refusal(error)


@_agent_waiting
async def command(services: Services, request: CommandRequest) -> Outcome:
    """`/baton …` or `@Baton …`: the registry's answer, or the refusal."""
    try:
        return await registry.dispatch(services, request)
    except UserError as error:
        return refusal(error)


@_agent_waiting
async def thread_message(services: Services, message: ThreadMessage) -> ThreadMessageOutcome:
    return await actions.thread_message(services, message)

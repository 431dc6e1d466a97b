"""The card actions of SPEC 4.1, named once: the neutral verb, its Slack action_id and the payload it carries.

Teams uses the verb as the `Action.Execute` verb and `ActionPayload.to_data()` as its data; Slack uses
`slack_action_id(verb)` and `ActionPayload.to_value()` as the button or option value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from bot.domain import parse_public_id

CLAIM = "claim"
ADD_NOTE = "add_note"
WRAP_UP = "wrap_up"
LINK_CUSTOMER = "link_customer"  # carries the chosen candidate's customer id
SEARCH_CUSTOMER = "search_customer"  # opens a search whose result is then linked
CREATE_CUSTOMER = "create_customer"
OPEN_PROFILE = "open_profile"
OPEN_PAGE = "open_page"  # "Open full profile": a link to the customer page, signed for the one who clicked
TIMELINE_FILTER = "timeline_filter"  # carries the filter: all | customer | case | conversation
SHOW_CUSTOMER = "show_customer"  # from a lookup's list of matches: show that customer's summary
REFRESH = "refresh"  # show the card as it stands now (Teams: a cancelled inline form)
OPEN_FORM = "open_form"  # open the form an answer asked for; carries `form` and its ids
# Slack: the card's *Details* button; open (views.open) the details modal for the one who clicked.
DETAILS = "details"  # carries the conversation and customer
# Slack: a button inside the open details modal (a timeline filter, Previous / Next); update (views.update)
# that modal with `render_details_view(summary, timeline_filter=filter, page=page)`.
DETAILS_PAGE = "details_page"  # carries the conversation, customer, filter and page
# The claimed card's menu (Slack: an overflow menu; Teams: secondary actions under "…").
UNCLAIM = "unclaim"
CASE_CLOSE = "case_close"
CASE_CANCEL = "case_cancel"
TRANSFER = "transfer"  # opens the transfer form (an agent or a queue)
CASE_PRIORITY = "case_priority"  # opens the priority form of the linked case
# Slack: the overflow menu itself; the chosen option's value names the verb of one of the menu's buttons
# (which buttons are in the menu: `bot/cards/buttons.py`).
MENU = "menu"

VERBS: tuple[str, ...] = (
    CLAIM,
    ADD_NOTE,
    WRAP_UP,
    LINK_CUSTOMER,
    SEARCH_CUSTOMER,
    CREATE_CUSTOMER,
    OPEN_PROFILE,
    OPEN_PAGE,
    TIMELINE_FILTER,
    SHOW_CUSTOMER,
    REFRESH,
    OPEN_FORM,
    DETAILS,
    DETAILS_PAGE,
    UNCLAIM,
    CASE_CLOSE,
    CASE_CANCEL,
    TRANSFER,
    CASE_PRIORITY,
    MENU,
)

SLACK_PREFIX = "baton_"
# Slack wants action_ids unique within a block, so buttons sharing a verb get a variant after this mark:
# "baton_timeline_filter.case". Bolt listeners can match re.compile(r"^baton_timeline_filter(\..*)?$").
SLACK_VARIANT_MARK = "."

# Ids of the Teams inputs whose values Teams merges into the action data.
TEAMS_INPUT_CUSTOMER = "customer"
TEAMS_INPUT_QUERY = "query"
# The key under which Teams data carries the verb, so an Action.Submit fallback can be dispatched too.
TEAMS_VERB_KEY = "action"


def slack_action_id(verb: str, variant: str | None = None) -> str:
    if verb not in VERBS:
        raise ValueError(f"unknown card action {verb!r}")
    return SLACK_PREFIX + verb + (SLACK_VARIANT_MARK + variant if variant else "")


def verb_of_slack_action_id(action_id: str) -> str | None:
    """'baton_timeline_filter.case' → 'timeline_filter'; None for an action_id that is not Baton's."""
    if not action_id.startswith(SLACK_PREFIX):
        return None
    verb = action_id[len(SLACK_PREFIX) :].split(SLACK_VARIANT_MARK, 1)[0]
    return verb if verb in VERBS else None


def menu_value(verb: str, payload: "ActionPayload") -> str:
    """A Slack overflow option's value: the menu verb it stands for and the payload."""
    if verb not in VERBS or verb == MENU:
        raise ValueError(f"not a menu verb {verb!r}")
    return json.dumps({"verb": verb, **payload.to_data()}, separators=(",", ":"), sort_keys=True)


def verb_of_slack_action(action_id: str, value: str | None) -> str | None:
    """The verb of a Slack button or select; for the overflow menu, the verb its chosen option names."""
    verb = verb_of_slack_action_id(action_id)
    if verb != MENU:
        return verb
    try:
        chosen = json.loads(value or "{}").get("verb")
    except (ValueError, AttributeError):
        return None
    return chosen if chosen in VERBS and chosen != MENU else None


@dataclass(frozen=True)
class ActionPayload:
    """What a card action carries besides its verb: the conversation, a customer, a timeline filter, a page."""

    conversation: str | None = None
    customer: int | None = None
    filter: str | None = None
    page: int | None = None  # a page of the details modal, from 0

    def to_data(self) -> dict[str, Any]:
        data = {"conversation": self.conversation, "customer": self.customer, "filter": self.filter, "page": self.page}
        return {key: value for key, value in data.items() if value is not None}

    def to_value(self) -> str:
        return json.dumps(self.to_data(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ActionPayload:
        """Tolerant of what Teams adds: input values arrive as strings, unknown keys are ignored."""
        customer = data.get("customer")
        if isinstance(customer, str):
            customer = int(customer) if customer.strip().isdigit() else None
        elif not isinstance(customer, int) or isinstance(customer, bool):
            customer = None
        conversation = data.get("conversation")
        filter_ = data.get("filter")
        page = data.get("page")
        if isinstance(page, str):
            page = int(page) if page.strip().isdigit() else None
        elif not isinstance(page, int) or isinstance(page, bool) or page < 0:
            page = None
        return cls(
            conversation=conversation if isinstance(conversation, str) and conversation else None,
            customer=customer,
            filter=filter_ if isinstance(filter_, str) and filter_ else None,
            page=page,
        )

    @classmethod
    def from_value(cls, value: str | None) -> ActionPayload:
        try:
            data = json.loads(value or "{}")
        except ValueError:
            return cls()
        return cls.from_data(data) if isinstance(data, dict) else cls()


def teams_data(verb: str, payload: ActionPayload) -> dict[str, Any]:
    if verb not in VERBS:
        raise ValueError(f"unknown card action {verb!r}")
    return {TEAMS_VERB_KEY: verb, **payload.to_data()}


FORM_ID_KEYS = ("conversation", "customer", "survivor", "merged")


def form_ids(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ids a form button or submission carries, as the core takes them: a conversation as its number
    (buttons carry "c12"), customers as numbers; anything unreadable is left out."""
    ids: dict[str, Any] = {}
    for key in FORM_ID_KEYS:
        value = data.get(key)
        if key == "conversation" and isinstance(value, str) and not value.strip().isdigit():
            value = parse_public_id(value)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool):
            ids[key] = value
    if data.get("logs") in (True, "true"):
        ids["logs"] = True
    return ids


def form_data(form: str, ids: Mapping[str, Any]) -> dict[str, Any]:
    """What a button that (re)opens `form` carries; the inverse of `form_ids`."""
    data: dict[str, Any] = {"form": form}
    for key in FORM_ID_KEYS:
        if ids.get(key) is not None:
            data[key] = ids[key]
    if ids.get("logs"):
        data["logs"] = True
    return data

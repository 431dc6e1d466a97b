"""Block Kit views (modals) and ephemeral messages Baton's Slack edge opens: pure functions, dicts out.

Untrusted values (names, notes, anything a customer or integrator sent) only go into plain_text
objects or input initial values, through bot.cards.text; Baton's own words may use mrkdwn.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping, Sequence

from bot.cards import slack as slack_cards
from bot.cards.text import (
    SLACK_FALLBACK_TEXT,
    SLACK_MAX_BLOCKS,
    SLACK_OPTION_TEXT,
    SLACK_OPTION_VALUE,
    SLACK_SECTION_TEXT,
    SLACK_SELECT_OPTIONS,
    chunks,
    fit,
    slack_escape,
    slack_plain,
)
from bot.domain import PROFILE_FORM_FIELDS, Form, MatchCandidate, Outcome

Block = dict[str, Any]
View = dict[str, Any]

# callback_ids of the modals, per core form (the view_submission listener maps them back)
NOTE = "baton_note_modal"
COMMENT = "baton_comment_modal"
WRAPUP = "baton_wrapup_modal"
PROFILE = "baton_profile_modal"
MERGE = "baton_merge_modal"
ANONYMIZE = "baton_anonymize_modal"
SEARCH = "baton_search_modal"
PICK = "baton_pick_modal"
INFO = "baton_info_modal"
TRANSFER = "baton_transfer_modal"
PRIORITY = "baton_priority_modal"
CALLBACK_IDS: Mapping[str, str] = {
    "note": NOTE, "comment": COMMENT, "wrapup": WRAPUP, "profile": PROFILE, "merge_confirm": MERGE,
    "anonymize_confirm": ANONYMIZE, "search": SEARCH, "pick": PICK, "transfer": TRANSFER, "priority": PRIORITY,
}
FORM_OF_CALLBACK: Mapping[str, str] = {callback: form for form, callback in CALLBACK_IDS.items()}

INPUT_TEXT = 3000  # plain_text_input max_length
VIEW_METADATA = 3000
MODAL_TITLE = 24
LOGS_OPTION = "logs"

MULTILINE_PROFILE_FIELDS = frozenset({"notes"})


# --------------------------------------------------------------------------- small parts


def plain(text: object, limit: int = SLACK_SECTION_TEXT, *, single_line: bool = False) -> dict[str, Any]:
    return {"type": "plain_text", "text": slack_plain(text, limit, single_line=single_line) or " ", "emoji": True}


def label(text: str, limit: int = 2000) -> dict[str, Any]:
    """Baton's own label text (no untrusted data)."""
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def metadata(**values: Any) -> str:
    data = json.dumps({k: v for k, v in values.items() if v is not None}, separators=(",", ":"))
    if len(data) > VIEW_METADATA:
        raise ValueError("private_metadata too long")
    return data


def read_metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _modal(callback_id: str, title: str, blocks: list[Block], meta: str, submit: str | None = "Save") -> View:
    view: View = {
        "type": "modal",
        "callback_id": callback_id,
        "title": label(title, MODAL_TITLE),
        "close": label("Cancel"),
        "blocks": blocks[:100],
        "private_metadata": meta,
    }
    if submit:
        view["submit"] = label(submit, MODAL_TITLE)
    return view


def _text_input(block_id: str, title: str, *, initial: object = None, multiline: bool = False,
                optional: bool = False, placeholder: str | None = None) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": block_id, "multiline": multiline,
                               "max_length": INPUT_TEXT}
    if initial not in (None, ""):
        element["initial_value"] = fit(initial, INPUT_TEXT)
    if placeholder:
        element["placeholder"] = label(placeholder, 150)
    return {"type": "input", "block_id": block_id, "label": label(title), "element": element, "optional": optional}


def _info(text: object) -> Block:
    return {"type": "section", "text": plain(text)}


def state_values(view: Mapping[str, Any]) -> dict[str, Any]:
    """Every input of a submitted modal by its block_id, which is the core form's field name (None when empty)."""
    inputs = [b["block_id"] for b in view.get("blocks") or () if b.get("type") == "input" and b.get("block_id")]
    return {block_id: state_value(view, block_id) for block_id in inputs}


def state_value(view: Mapping[str, Any], block_id: str) -> Any:
    """The submitted value of an input: text, the selected option's value, or a list of selected values."""
    entry = ((view.get("state") or {}).get("values") or {}).get(block_id) or {}
    for element in entry.values():
        if "selected_option" in element:
            option = element.get("selected_option")
            return option.get("value") if option else None
        if "selected_options" in element:
            return [o.get("value") for o in element.get("selected_options") or []]
        return element.get("value")
    return None


# --------------------------------------------------------------------------- modals


def note_modal(form: Form, meta: str) -> View:
    blocks = [
        _info(f"A note on #{form.values.get('public_id')} and the customer's timeline. The customer never sees it."),
        _text_input("text", "Note", initial=form.values.get("text"), multiline=True),
    ]
    return _modal(NOTE, "Add note", blocks, meta, submit="Add note")


def comment_modal(form: Form, meta: str) -> View:
    blocks = [
        _info("An internal case comment: never shown to the customer, and it cannot be edited or deleted."),
        _text_input("case", "Case number", initial=form.values.get("case"), placeholder="CAS-01234"),
        _text_input("text", "Comment", initial=form.values.get("text"), multiline=True),
    ]
    return _modal(COMMENT, "Comment on case", blocks, meta, submit="Comment")


def wrapup_modal(form: Form, meta: str) -> View:
    codes: Sequence[tuple[str, str]] = form.values.get("codes") or ()
    options = [{"text": plain(text, SLACK_OPTION_TEXT, single_line=True), "value": code[:SLACK_OPTION_VALUE]}
               for code, text in codes[:SLACK_SELECT_OPTIONS]]
    select = {"type": "static_select", "action_id": "code", "placeholder": label("Disposition code"), "options": options}
    logs_option = {"text": label("Wrap up and see logs"), "value": LOGS_OPTION}
    checkbox: dict[str, Any] = {"type": "checkboxes", "action_id": "logs", "options": [logs_option]}
    if form.values.get("logs"):
        checkbox["initial_options"] = [logs_option]
    blocks = [
        _info(f"Ends #{form.values.get('public_id')}. The card shows the disposition; the notes go on the customer's timeline."),
        {"type": "input", "block_id": "code", "label": label("Disposition"), "element": select},
        _text_input("notes", "Notes", multiline=True, optional=True),
        {"type": "input", "block_id": "logs", "label": label("Interaction log"), "element": checkbox, "optional": True},
    ]
    return _modal(WRAPUP, "Wrap up", blocks, meta, submit="Wrap up")


def profile_modal(form: Form, meta: str) -> View:
    values = form.values
    name = " ".join(str(values.get(k) or "") for k in ("first_name", "last_name")).strip()
    heading = f"Profile of customer {form.ids.get('customer')}" + (f" — {name}" if name else "")
    if values.get("locked"):
        blocks = [_info(heading), _info("This customer is locked against edits. An admin can unlock it with `lock <customer> off`.")]
        for field, title in PROFILE_FORM_FIELDS:
            if values.get(field):
                blocks.append({"type": "section", "fields": [plain(title, 150), plain(values.get(field), 1800)]})
        return _modal(INFO, "Profile (locked)", blocks, meta, submit=None)
    blocks = [_info(heading)]
    for field, title in PROFILE_FORM_FIELDS:
        blocks.append(_text_input(field, title, initial=values.get(field), multiline=field in MULTILINE_PROFILE_FIELDS,
                                  optional=True))
    return _modal(PROFILE, "Profile", blocks, meta, submit="Save")


def merge_modal(form: Form, meta: str) -> View:
    ids, values = form.ids, form.values
    text = (f"Merge {values.get('merged_name')} ({ids.get('merged')}) into {values.get('survivor_name')} "
            f"({ids.get('survivor')})? Everything of {values.get('merged_name')} moves: identities, conversations, "
            "cases, notes, orders and activities. It can be undone for 24 hours.")
    return _modal(MERGE, "Merge customers", [_info(text)], meta, submit="Merge")


def anonymize_modal(form: Form, meta: str) -> View:
    text = (f"Anonymize {form.values.get('name')} ({form.ids.get('customer')})? Personal data of the customer, its "
            "identities and its messages are replaced, also in the threads Baton posted. This cannot be undone.")
    return _modal(ANONYMIZE, "Anonymize customer", [_info(text)], meta, submit="Anonymize")


def search_modal(form: Form, meta: str) -> View:
    blocks = [
        _info(f"Find the customer of #{form.values.get('public_id')} by email, phone, name or case number."),
        _text_input("query", "Search", placeholder="dana@example.com, +1 415 555 0123, Dana Whitfield, CAS-01234"),
    ]
    return _modal(SEARCH, "Link customer", blocks, meta, submit="Search")


def pick_modal(form: Form, meta: str) -> View:
    candidates: Sequence[MatchCandidate] = form.values.get("candidates") or ()
    options = [
        {"text": plain(_candidate_label(c), SLACK_OPTION_TEXT, single_line=True), "value": str(c.customer_id)}
        for c in candidates[:SLACK_SELECT_OPTIONS]
    ]
    select = {"type": "static_select", "action_id": "customer", "placeholder": label("Customer"), "options": options}
    blocks = [_info(f"{len(candidates)} customers match. Pick the one to link to #{form.values.get('public_id')}."),
              {"type": "input", "block_id": "customer", "label": label("Customer"), "element": select}]
    return _modal(PICK, "Link customer", blocks, meta, submit="Link")


def _option(text: object, value: str) -> dict[str, Any]:
    return {"text": plain(text, SLACK_OPTION_TEXT, single_line=True), "value": value[:SLACK_OPTION_VALUE]}


def transfer_modal(form: Form, meta: str) -> View:
    agents: Sequence[tuple[str, str]] = form.values.get("agents") or ()
    blocks = [_info(f"Give #{form.values.get('public_id')} to another agent (it is theirs at once), "
                    "or put it back in a queue for the next agent.")]
    if agents:
        select = {"type": "static_select", "action_id": "agent", "placeholder": label("Agent"),
                  "options": [_option(name, user_id) for user_id, name in agents[:SLACK_SELECT_OPTIONS]]}
        blocks.append({"type": "input", "block_id": "agent", "label": label("To an agent"), "element": select,
                       "optional": True})
    blocks.append(_text_input("queue", "Or to a queue", optional=True, placeholder="billing"))
    return _modal(TRANSFER, "Transfer", blocks, meta, submit="Transfer")


def priority_modal(form: Form, meta: str) -> View:
    options = [_option(p, p) for p in form.values.get("priorities") or ()]
    select: dict[str, Any] = {"type": "static_select", "action_id": "priority", "placeholder": label("Priority"),
                              "options": options}
    current = next((o for o in options if o["value"] == form.values.get("priority")), None)
    if current:
        select["initial_option"] = current
    blocks = [_info(f"The priority of case {form.values.get('case')}, linked to #{form.values.get('public_id')}."),
              {"type": "input", "block_id": "priority", "label": label("Priority"), "element": select}]
    return _modal(PRIORITY, "Case priority", blocks, meta, submit="Set priority")


FORM_VIEWS: Mapping[str, Callable[[Form, str], View]] = {
    "note": note_modal, "comment": comment_modal, "wrapup": wrapup_modal, "profile": profile_modal,
    "merge_confirm": merge_modal, "anonymize_confirm": anonymize_modal, "search": search_modal, "pick": pick_modal,
    "transfer": transfer_modal, "priority": priority_modal,
}


def form_view(form: Form, meta: str) -> View:
    """The modal of a core form; `meta` (private_metadata) carries its ids and where to answer."""
    return FORM_VIEWS[form.name](form, meta)


def info_modal(title: str, text: object) -> View:
    return _modal(INFO, title, [_info(text)], "{}", submit=None)


def _candidate_label(c: MatchCandidate) -> str:
    return f"{c.display_name} — {c.hint} ({c.customer_id})" if c.hint else f"{c.display_name} ({c.customer_id})"


# --------------------------------------------------------------------------- messages


def text_blocks(text: str) -> list[Block]:
    """Baton's answer text (which may quote a customer's name): escaped mrkdwn, split into sections."""
    pieces = chunks(text, SLACK_SECTION_TEXT, 10, slack_escape) or [" "]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece, "verbatim": True}} for piece in pieces]


def fallback(text: str) -> str:
    return fit(text, SLACK_FALLBACK_TEXT, slack_escape) or "Baton"


def outcome_message(outcome: Outcome) -> dict[str, Any]:
    """An answer as message kwargs: its text, then a summary (a conversation's, or a lookup's) or matches."""
    blocks = text_blocks(outcome.text) if outcome.text else []
    if outcome.summary is not None:
        if outcome.view == "card":
            blocks += slack_cards.render_summary_blocks(outcome.summary)
        else:
            blocks += slack_cards.render_lookup_blocks(outcome.summary)
    if outcome.candidates:
        blocks += slack_cards.render_match_list_blocks(tuple(outcome.candidates), "")
    text = outcome.text or (slack_cards.summary_fallback_text(outcome.summary) if outcome.summary else "Baton")
    return {"text": fallback(text), "blocks": (blocks or text_blocks(text))[:SLACK_MAX_BLOCKS]}


def link_message(text: str | None, url: str) -> dict[str, Any]:
    """An answer carrying a link for the caller alone (the customer page): its text and a URL button."""
    message = text or "Open full profile"
    return {"text": fallback(message), "blocks": text_blocks(message) + slack_cards.page_link_blocks(url)}


def form_button_message(text: str, action_id: str, value: str) -> dict[str, Any]:
    """For an answer that is a form where Slack gave no trigger (an @Baton mention): a button that opens it."""
    button = {"type": "button", "action_id": action_id, "text": label("Open form", 75), "value": value,
              "style": "primary"}
    blocks = text_blocks(text) + [{"type": "actions", "block_id": "baton_open_form", "elements": [button]}]
    return {"text": fallback(text), "blocks": blocks[:SLACK_MAX_BLOCKS]}

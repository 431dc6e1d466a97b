"""Block Kit views (modals) and ephemeral messages Baton's Slack edge opens: pure functions, dicts out.

Untrusted values (names, notes, anything a customer or integrator sent) only go into plain_text
objects or input initial values, through bot.cards.text; Baton's own words may use mrkdwn.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

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
    slack_literal,
    slack_plain,
)
from bot.domain import MatchCandidate, Reply

Block = dict[str, Any]
View = dict[str, Any]

# callback_ids of the modals (view_submission listeners match these)
NOTE = "baton_note_modal"
COMMENT = "baton_comment_modal"
WRAPUP = "baton_wrapup_modal"
PROFILE = "baton_profile_modal"
MERGE = "baton_merge_modal"
ANONYMIZE = "baton_anonymize_modal"
SEARCH = "baton_search_modal"
PICK = "baton_pick_modal"
INFO = "baton_info_modal"

# The button an @Baton reply carries when its answer is a form (an app_mention has no trigger_id).
OPEN_FORM_ACTION = "baton_open_form"

INPUT_TEXT = 3000  # plain_text_input max_length
VIEW_METADATA = 3000
MODAL_TITLE = 24
LOGS_OPTION = "logs"

PROFILE_FIELDS: tuple[tuple[str, str, bool], ...] = (
    # (field, label, multiline)
    ("first_name", "First name", False),
    ("last_name", "Last name", False),
    ("company", "Company", False),
    ("gender", "Gender", False),
    ("email", "Email", False),
    ("mobile_phone", "Mobile phone", False),
    ("home_phone", "Home phone", False),
    ("tags", "Tags (comma separated)", False),
    ("notes", "Notes", True),
)


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


def note_modal(public_id: str, *, initial: str = "", meta: str) -> View:
    blocks = [
        _info(f"A note on #{public_id} and the customer's timeline. The customer never sees it."),
        _text_input("note", "Note", initial=initial, multiline=True),
    ]
    return _modal(NOTE, "Add note", blocks, meta, submit="Add note")


def comment_modal(case_number: str | None, *, initial: str = "", meta: str) -> View:
    blocks = [
        _info("An internal case comment: never shown to the customer, and it cannot be edited or deleted."),
        _text_input("case", "Case number", initial=case_number, placeholder="CAS-01234"),
        _text_input("comment", "Comment", initial=initial, multiline=True),
    ]
    return _modal(COMMENT, "Comment on case", blocks, meta, submit="Comment")


def wrapup_modal(public_id: str, codes: Sequence[tuple[str, str]], *, logs: bool, meta: str) -> View:
    options = [{"text": plain(text, SLACK_OPTION_TEXT, single_line=True), "value": code[:SLACK_OPTION_VALUE]}
               for code, text in codes[:SLACK_SELECT_OPTIONS]]
    select = {"type": "static_select", "action_id": "code", "placeholder": label("Disposition code"), "options": options}
    logs_option = {"text": label("Wrap up and see logs"), "value": LOGS_OPTION}
    checkbox: dict[str, Any] = {"type": "checkboxes", "action_id": "logs", "options": [logs_option]}
    if logs:
        checkbox["initial_options"] = [logs_option]
    blocks = [
        _info(f"Ends #{public_id}. The card shows the disposition; the notes go on the customer's timeline."),
        {"type": "input", "block_id": "code", "label": label("Disposition"), "element": select},
        _text_input("notes", "Notes", multiline=True, optional=True),
        {"type": "input", "block_id": "logs", "label": label("Interaction log"), "element": checkbox, "optional": True},
    ]
    return _modal(WRAPUP, "Wrap up", blocks, meta, submit="Wrap up")


def profile_modal(values: Mapping[str, Any], *, meta: str) -> View:
    name = " ".join(str(values.get(k) or "") for k in ("first_name", "last_name")).strip()
    heading = f"Profile of customer {values.get('customer')}" + (f" — {name}" if name else "")
    if values.get("locked"):
        blocks = [_info(heading), _info("This customer is locked against edits. An admin can unlock it with `lock <customer> off`.")]
        for field, title, _ in PROFILE_FIELDS:
            if values.get(field):
                blocks.append({"type": "section", "fields": [plain(title, 150), plain(values.get(field), 1800)]})
        return _modal(INFO, "Profile (locked)", blocks, meta, submit=None)
    blocks = [_info(heading)]
    for field, title, multiline in PROFILE_FIELDS:
        blocks.append(_text_input(field, title, initial=values.get(field), multiline=multiline, optional=True))
    return _modal(PROFILE, "Profile", blocks, meta, submit="Save")


def merge_modal(values: Mapping[str, Any], *, meta: str) -> View:
    text = (f"Merge {values.get('merged_name')} ({values.get('merged')}) into {values.get('survivor_name')} "
            f"({values.get('survivor')})? Everything of {values.get('merged_name')} moves: identities, conversations, "
            "cases, notes, orders and activities. It can be undone for 24 hours.")
    return _modal(MERGE, "Merge customers", [_info(text)], meta, submit="Merge")


def anonymize_modal(values: Mapping[str, Any], *, meta: str) -> View:
    text = (f"Anonymize {values.get('name')} ({values.get('customer')})? Personal data of the customer, its identities "
            "and its messages are replaced, also in the threads Baton posted. This cannot be undone.")
    return _modal(ANONYMIZE, "Anonymize customer", [_info(text)], meta, submit="Anonymize")


def search_modal(public_id: str, *, meta: str) -> View:
    blocks = [
        _info(f"Find the customer of #{public_id} by email, phone, name or case number."),
        _text_input("query", "Search", placeholder="dana@example.com, +1 415 555 0123, Dana Whitfield, CAS-01234"),
    ]
    return _modal(SEARCH, "Link customer", blocks, meta, submit="Search")


def pick_modal(public_id: str, candidates: Sequence[MatchCandidate], *, meta: str) -> View:
    options = [
        {"text": plain(_candidate_label(c), SLACK_OPTION_TEXT, single_line=True), "value": str(c.customer_id)}
        for c in candidates[:SLACK_SELECT_OPTIONS]
    ]
    select = {"type": "static_select", "action_id": "customer", "placeholder": label("Customer"), "options": options}
    blocks = [_info(f"{len(candidates)} customers match. Pick the one to link to #{public_id}."),
              {"type": "input", "block_id": "customer", "label": label("Customer"), "element": select}]
    return _modal(PICK, "Link customer", blocks, meta, submit="Link")


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


def reply_message(reply: Reply, *, query: str = "") -> dict[str, Any]:
    """A command's answer as message kwargs: its text, then a summary or a list of matches."""
    blocks = text_blocks(reply.text)
    if reply.summary is not None:
        blocks += slack_cards.render_lookup_blocks(reply.summary)
    if reply.candidates:
        blocks += slack_cards.render_match_list_blocks(tuple(reply.candidates), query)
    return {"text": fallback(reply.text), "blocks": blocks[:SLACK_MAX_BLOCKS]}


def form_button_message(reply: Reply, value: str) -> dict[str, Any]:
    """For an @Baton command answered with a form: a button that opens it (Slack gives mentions no trigger)."""
    button = {"type": "button", "action_id": OPEN_FORM_ACTION, "text": label("Open form", 75), "value": value,
              "style": "primary"}
    blocks = text_blocks(reply.text) + [{"type": "actions", "block_id": "baton_open_form", "elements": [button]}]
    return {"text": fallback(reply.text), "blocks": blocks[:SLACK_MAX_BLOCKS]}


def log_messages(log_text: str, title: str) -> list[dict[str, Any]]:
    """The interaction log posted into the thread: plain text (it quotes the customer), several messages if long."""
    pieces = chunks(log_text, SLACK_SECTION_TEXT, 13 * 3, slack_escape) or ["(no messages)"]
    messages = []
    for start in range(0, len(pieces), 13):
        part = pieces[start : start + 13]
        blocks: list[Block] = [{"type": "header", "text": label(title, 150)}] if start == 0 else []
        blocks += [{"type": "section", "text": {"type": "plain_text", "text": p, "emoji": True}} for p in part]
        messages.append({"text": slack_literal(f"{title}\n{log_text}", SLACK_FALLBACK_TEXT), "blocks": blocks})
    return messages


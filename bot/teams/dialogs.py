"""Teams-only cards and payload shapes: dialogs (task modules) for note, wrap-up, profile and
confirmations, the link picker, export pages, thread lines, and invoke response bodies.

Pure functions like bot/cards: facts in, dicts out; untrusted text goes through bot/cards/text.py.
The same form card serves as a task-module dialog (Action.Submit → `task/submit`) and inline as a
Universal Action (Action.Execute with an Action.Submit fallback → `adaptiveCard/action` or a message).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from bot.cards import actions as act
from bot.cards.actions import ActionPayload
from bot.cards.teams import CONTENT_TYPE, SCHEMA_URL, card_attachment
from bot.cards.text import TEAMS_CARD_VERSION, chunks, clean, fit, teams_escape, teams_text
from bot.domain import PROFILE_FORM_FIELDS, Form, MatchCandidate, public_id

# An inline form's submit button (Action.Execute): the Teams edge turns it into the core's FormSubmission.
# The other verbs (the card's, refresh, open_form) live in bot/cards/actions.py.
SUBMIT_FORM = "submit_form"
OPEN_FORM = act.OPEN_FORM
REFRESH = act.REFRESH
VERB_KEY = act.TEAMS_VERB_KEY

FORM_TITLES = {
    "note": "Add note",
    "comment": "Comment on case",
    "wrapup": "Wrap up",
    "profile": "Customer profile",
    "merge_confirm": "Merge customers",
    "anonymize_confirm": "Anonymize customer",
    "search": "Link customer",
    "pick": "Link customer",
    "transfer": "Transfer",
    "priority": "Case priority",
}
# Teams input limits of the profile form's fields (the fields themselves: bot.domain.PROFILE_FORM_FIELDS).
PROFILE_LIMITS = {"first_name": 100, "last_name": 100, "company": 200, "gender": 30, "email": 320,
                  "mobile_phone": 32, "home_phone": 32, "tags": 500, "notes": 4000}
NOTE_MAX = 4000
THREAD_TEXT_MAX = 20_000
EXPORT_PAGE = 24_000
EXPORT_PAGES = 10
ROLE_WORDS = {"customer": "customer", "bot": "virtual agent", "agent": "agent", "system": "Baton"}

Card = dict[str, Any]


# --- building blocks -----------------------------------------------------------------------------


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None, *, fallback: str = "Baton") -> Card:
    out: Card = {"type": "AdaptiveCard", "$schema": SCHEMA_URL, "version": TEAMS_CARD_VERSION,
                 "fallbackText": fallback, "body": body}
    if actions:
        out["actions"] = actions
    return out


def plain(value: object, limit: int = 2000, **style: Any) -> dict[str, Any]:
    """Untrusted text: a TextRun never reads markdown, and teams_text defuses links and mentions."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": teams_text(value, limit) or " ", **style}]}


def heading(trusted: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": trusted, "weight": "Bolder", "size": "Medium", "wrap": True}


def _submit(title: str, data: Mapping[str, Any], *, inline: bool) -> dict[str, Any]:
    """In a dialog, Action.Submit (→ task/submit); inline, Action.Execute with the Submit fallback."""
    submit = {"type": "Action.Submit", "title": title, "data": dict(data)}
    if not inline:
        return submit
    return {"type": "Action.Execute", "title": title, "verb": data[VERB_KEY], "data": dict(data), "fallback": submit}


def _form_data(form: str, **ids: Any) -> dict[str, Any]:
    return {VERB_KEY: SUBMIT_FORM, "form": form, **{k: v for k, v in ids.items() if v is not None}}


def _cancel(conversation: str | None, customer: int | None) -> dict[str, Any]:
    data = {VERB_KEY: REFRESH, "conversation": conversation, "customer": customer}
    data = {k: v for k, v in data.items() if v is not None}
    return {"type": "Action.Execute", "title": "Cancel", "verb": REFRESH, "data": data,
            "fallback": {"type": "Action.Submit", "title": "Cancel", "data": data}}


def _input_value(value: object, limit: int) -> str:
    """Input values are never rendered as markdown: cleaned and cut, not escaped (it would be saved back)."""
    return fit(value, limit) if value is not None else ""


# --- forms ---------------------------------------------------------------------------------------


def note_form(conversation: str, *, inline: bool = False) -> Card:
    body = [
        heading(f"Add a note to #{clean(conversation)}"),
        {"type": "Input.Text", "id": "text", "label": "Note", "isMultiline": True, "isRequired": True,
         "errorMessage": "Write the note first.", "maxLength": NOTE_MAX,
         "placeholder": "Visible to agents on the customer's timeline, never to the customer"},
    ]
    actions = [_submit("Save note", _form_data("note", conversation=conversation), inline=inline)]
    if inline:
        actions.append(_cancel(conversation, None))
    return card(body, actions, fallback="Add note")


def wrapup_form(conversation: str, codes: Sequence[tuple[str, str]], *, logs: bool = False, inline: bool = False) -> Card:
    choices = [{"title": teams_text(label, 75, single_line=True), "value": code} for code, label in codes]
    body = [
        heading(f"Wrap up #{clean(conversation)}"),
        {"type": "Input.ChoiceSet", "id": "code", "label": "Disposition", "isRequired": True,
         "errorMessage": "Choose a disposition code.", "choices": choices, "style": "compact",
         **({"value": codes[0][0]} if codes else {})},
        {"type": "Input.Text", "id": "notes", "label": "Notes", "isMultiline": True, "maxLength": NOTE_MAX},
        {"type": "Input.Toggle", "id": "logs", "title": "Also post the interaction log in the thread",
         "value": "true" if logs else "false", "valueOn": "true", "valueOff": "false"},
    ]
    actions = [_submit("Wrap up", _form_data("wrapup", conversation=conversation), inline=inline)]
    if inline:
        actions.append(_cancel(conversation, None))
    return card(body, actions, fallback="Wrap up")


def profile_form(customer: int, values: Mapping[str, Any], *, locked: bool = False, inline: bool = False,
                 conversation: str | None = None) -> Card:
    name = " ".join(clean(values.get(k) or "") for k in ("first_name", "last_name")).strip() or f"customer {customer}"
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": "Profile", "weight": "Bolder", "size": "Medium"},
                                  plain(name, 200, weight="Bolder")]
    if locked:
        body.append(plain("This customer is locked against edits.", 200, isSubtle=True))
    for key, label in PROFILE_FORM_FIELDS:
        limit = PROFILE_LIMITS[key]
        value = values.get(key)
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        field = {"type": "Input.Text", "id": key, "label": label, "maxLength": limit,
                 "value": _input_value(value, limit)}
        if key == "notes":
            field["isMultiline"] = True
        body.append(field)
    actions = [] if locked else [_submit("Save profile", _form_data("profile", customer=customer,
                                                                     conversation=conversation), inline=inline)]
    if inline:
        actions.append(_cancel(conversation, customer))
    return card(body, actions, fallback="Customer profile")


def merge_form(survivor: int, merged: int, survivor_name: str, merged_name: str, *, inline: bool = False) -> Card:
    question = (f"Merge {clean(merged_name)} ({merged}) into {clean(survivor_name)} ({survivor})? Everything of "
                f"{clean(merged_name)} moves. It can be undone for 24 hours.")
    actions = [_submit("Merge", _form_data("merge_confirm", survivor=survivor, merged=merged), inline=inline)]
    return card([heading("Merge customers"), plain(question, 1000)], actions, fallback="Merge customers")


def anonymize_form(customer: int, name: str, *, inline: bool = False) -> Card:
    question = f"Anonymize {clean(name)} ({customer})? Personal data is replaced everywhere. This cannot be undone."
    actions = [_submit("Anonymize", _form_data("anonymize_confirm", customer=customer), inline=inline)]
    return card([heading("Anonymize customer"), plain(question, 1000)], actions, fallback="Anonymize customer")


def comment_form(conversation: str, case: str | None, initial: str = "", *, inline: bool = False) -> Card:
    body = [
        heading("Comment on a case"),
        plain("An internal case comment: never shown to the customer, and it cannot be edited or deleted.", 300,
              isSubtle=True),
        {"type": "Input.Text", "id": "case", "label": "Case number", "isRequired": True, "maxLength": 100,
         "errorMessage": "Type the case number.", "value": _input_value(case, 100)},
        {"type": "Input.Text", "id": "text", "label": "Comment", "isMultiline": True, "isRequired": True,
         "maxLength": NOTE_MAX, "errorMessage": "Write the comment first.", "value": _input_value(initial, NOTE_MAX)},
    ]
    actions = [_submit("Comment", _form_data("comment", conversation=conversation), inline=inline)]
    return card(body, actions, fallback="Comment on case")


def search_form(conversation: str, *, inline: bool = False) -> Card:
    body = [
        heading(f"Find the customer of #{clean(conversation)}"),
        {"type": "Input.Text", "id": act.TEAMS_INPUT_QUERY, "label": "Email, phone, name or case number",
         "isRequired": True, "maxLength": 320, "errorMessage": "Type something to search for."},
    ]
    actions = [_submit("Search", _form_data("search", conversation=conversation), inline=inline)]
    if inline:
        actions.append(_cancel(conversation, None))
    return card(body, actions, fallback="Link customer")


def transfer_form(conversation: str, agents: Sequence[tuple[str, str]], *, inline: bool = False) -> Card:
    body: list[dict[str, Any]] = [
        heading(f"Transfer #{clean(conversation)}"),
        plain("Give it to another agent (it is theirs at once), or put it back in a queue for the next agent.", 300,
              isSubtle=True),
    ]
    if agents:
        choices = [{"title": teams_text(name, 75, single_line=True) or user_id, "value": user_id}
                   for user_id, name in list(agents)[:100]]
        body.append({"type": "Input.ChoiceSet", "id": "agent", "label": "To an agent", "style": "compact",
                     "choices": choices, "placeholder": "Agent"})
    body.append({"type": "Input.Text", "id": "queue", "label": "Or to a queue", "maxLength": 100,
                 "placeholder": "billing"})
    actions = [_submit("Transfer", _form_data("transfer", conversation=conversation), inline=inline)]
    if inline:
        actions.append(_cancel(conversation, None))
    return card(body, actions, fallback="Transfer")


def priority_form(conversation: str, case: str, priorities: Sequence[str], current: str | None, *,
                  inline: bool = False) -> Card:
    body = [
        heading(f"Priority of case {clean(case)}"),
        {"type": "Input.ChoiceSet", "id": "priority", "label": "Priority", "isRequired": True, "style": "expanded",
         "errorMessage": "Choose a priority.", "choices": [{"title": p, "value": p} for p in priorities],
         **({"value": current} if current in priorities else {})},
    ]
    actions = [_submit("Set priority", _form_data("priority", conversation=conversation), inline=inline)]
    if inline:  # the claimed card's "Case…": the case's close and cancel are here too (see bot/cards/teams.py)
        for title, verb in (("Close case", act.CASE_CLOSE), ("Cancel case (deletes its comments)", act.CASE_CANCEL)):
            data = act.teams_data(verb, ActionPayload(conversation=conversation))
            actions.append({"type": "Action.Execute", "title": title, "verb": verb, "data": data,
                            "fallback": {"type": "Action.Submit", "title": title, "data": data}})
        actions.append(_cancel(conversation, None))
    return card(body, actions, fallback="Case priority")


def form_card(form: Form, *, inline: bool) -> Card:
    """A core form as a Teams card: a dialog (task module) or, `inline`, in place of the clicked card."""
    ids, values = form.ids, form.values
    conversation = public_id(ids["conversation"]) if ids.get("conversation") is not None else None
    if form.name == "note":
        return note_form(conversation, inline=inline)
    if form.name == "comment":
        return comment_form(conversation, values.get("case"), values.get("text") or "", inline=inline)
    if form.name == "wrapup":
        return wrapup_form(conversation, values.get("codes") or (), logs=bool(values.get("logs")), inline=inline)
    if form.name == "profile":
        return profile_form(ids["customer"], values, locked=bool(values.get("locked")), inline=inline,
                            conversation=conversation)
    if form.name == "merge_confirm":
        return merge_form(ids["survivor"], ids["merged"], values.get("survivor_name") or "", values.get("merged_name") or "",
                          inline=inline)
    if form.name == "anonymize_confirm":
        return anonymize_form(ids["customer"], values.get("name") or "", inline=inline)
    if form.name == "search":
        return search_form(conversation, inline=inline)
    if form.name == "transfer":
        return transfer_form(conversation, values.get("agents") or (), inline=inline)
    if form.name == "priority":
        return priority_form(conversation, values.get("case") or "", values.get("priorities") or (),
                             values.get("priority"), inline=inline)
    if form.name == "pick":
        return link_picker(conversation, values.get("candidates") or (), values.get("query") or "")
    raise ValueError(f"no Teams card for form {form.name!r}")


def open_form_card(text: str, form: str, ids: Mapping[str, Any]) -> Card:
    """A reply carrying a button that opens the form as a dialog (task module)."""
    data = {"msteams": {"type": "task/fetch"}, VERB_KEY: OPEN_FORM, "form": form,
            **{k: v for k, v in ids.items() if v is not None}}
    return card([plain(text, 2000)], [{"type": "Action.Submit", "title": FORM_TITLES.get(form, "Open"), "data": data}],
                fallback=FORM_TITLES.get(form, "Baton"))


def link_picker(conversation: str, candidates: Sequence[MatchCandidate], query: str) -> Card:
    """A search on the card found several customers: pick the one to link."""
    shown = list(candidates)[:25]
    choices = [{"title": teams_text(f"{c.display_name} — {c.hint}" if c.hint else c.display_name, 75, single_line=True)
                or str(c.customer_id), "value": str(c.customer_id)} for c in shown]
    body = [
        plain(f"{len(candidates)} customers match “{clean(query)}”. Pick the one to link to #{clean(conversation)}:", 500,
              weight="Bolder"),
        {"type": "Input.ChoiceSet", "id": act.TEAMS_INPUT_CUSTOMER, "style": "expanded", "choices": choices,
         **({"value": choices[0]["value"]} if choices else {})},
    ]
    data = act.teams_data(act.LINK_CUSTOMER, ActionPayload(conversation=conversation))
    link = {"type": "Action.Execute", "title": "Link customer", "verb": act.LINK_CUSTOMER, "data": data,
            "fallback": {"type": "Action.Submit", "title": "Link customer", "data": data}}
    return card(body, [link, _cancel(conversation, None)], fallback="Pick a customer")


def link_card(text: str | None, url: str, *, conversation: str | None = None, customer: int | None = None) -> Card:
    """A link for one agent (the customer page, signed for them): Action.OpenUrl, and the way back to the card."""
    actions: list[dict[str, Any]] = [{"type": "Action.OpenUrl", "title": "Open full profile", "url": url}]
    if conversation or customer:
        actions.append(_cancel(conversation, customer) | {"title": "Back to the card"})
    return card([plain(text or "Open full profile", 1000)], actions, fallback="Open full profile")


def text_card(text: str) -> Card:
    return card([plain(text, 4000)], fallback=teams_text(text, 200, single_line=True) or "Baton")


def export_pages(name: str, content: bytes) -> list[Card]:
    """An export shown inline in the personal chat: monospace pages that each fit a Teams card."""
    pages = chunks(content.decode("utf-8", "replace"), EXPORT_PAGE, EXPORT_PAGES, teams_escape)
    total = len(pages)
    return [
        card([plain(f"{name} — part {i} of {total}", 300, weight="Bolder"),
              {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": page, "fontType": "Monospace"}]}],
             fallback=f"{name} ({i}/{total})")
        for i, page in enumerate(pages, 1)
    ]


# --- messages ------------------------------------------------------------------------------------


def message(text: str | None = None, *, cards: Sequence[Card] = (), text_format: str = "markdown") -> dict[str, Any]:
    activity: dict[str, Any] = {"type": "message"}
    if text:
        activity["text"] = text
        activity["textFormat"] = text_format
    if cards:
        activity["attachments"] = [card_attachment(c) for c in cards]
    return activity


def safe_text(value: object, limit: int = THREAD_TEXT_MAX) -> str:
    """Untrusted text for a Teams message: no markdown links, no <at> mentions, no HTML tags."""
    return teams_text(value, limit)


def thread_line(sender_label: str, sender: str, text: str, *, internal: bool = False,
                attachments: Sequence[Mapping[str, Any]] = ()) -> str:
    """`**Dana Whitfield** (customer): …` — the name and the words escaped; Baton adds the bold only."""
    role = ROLE_WORDS.get(sender, sender)
    label = teams_text(sender_label, 100, single_line=True).replace("*", "\u2217") or "Someone"
    tag = f"{role}, internal" if internal else role
    line = f"**{label}** ({tag}): {safe_text(text)}"
    for attachment in attachments:
        name = teams_text(attachment.get("name") or "attachment", 200, single_line=True)
        url = attachment.get("url")
        line += f"\n\n📎 {name}" + (f": {safe_text(url, 2000)}" if isinstance(url, str) else "")
    return line


def thread_header(public_id: str, kind: str, channel: str, source: str) -> str:
    """The root of a thread without a summary card (internal, agent-to-agent, unrouted)."""
    what = {"internal": "Internal conversation", "agent_to_agent": "Agent-to-agent conversation",
            "unrouted": "Unrouted conversation"}.get(kind, "Conversation")
    return safe_text(f"{what} #{public_id} · {channel} via {source}", 500)


# --- invoke answers ------------------------------------------------------------------------------


def invoke_card(card_: Card) -> dict[str, Any]:
    return {"statusCode": 200, "type": CONTENT_TYPE, "value": card_}


def invoke_message(text: str) -> dict[str, Any]:
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def invoke_error(status: int, code: str, text: str) -> dict[str, Any]:
    return {"statusCode": status, "type": "application/vnd.microsoft.error", "value": {"code": code, "message": text}}


def task_continue(title: str, card_: Card) -> dict[str, Any]:
    return {"task": {"type": "continue", "value": {"title": title, "card": card_attachment(card_),
                                                   "width": "medium", "height": "medium"}}}


def task_message(text: str) -> dict[str, Any]:
    return {"task": {"type": "message", "value": text}}

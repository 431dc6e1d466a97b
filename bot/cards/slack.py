"""Slack Block Kit for the summary card, its details modal, lookups, match lists and transcript lines.

The thread card is the first view of SPEC 4.1 ("at a glance") with a *Details* button; the sections are in
the modal `render_details_view` builds. Untrusted text only ever goes into `plain_text` objects (escaped by
`text.slack_plain`); mrkdwn and rich_text carry Baton's own words alone (a time is a rich_text date element,
drawn by Slack in the reader's time zone), and the notification `text` goes through `text.slack_literal`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from bot import cards
from bot.cards import actions as act
from bot.cards.actions import ActionPayload
from bot.cards.buttons import Button, card_buttons
from bot.cards.text import (
    DETAILS_BUDGET,
    GLANCE_LINE,
    GLANCE_PRECHAT,
    LOOKUP_BUDGET,
    SLACK_BUDGET,
    SLACK_BUTTON_TEXT,
    SLACK_BUTTON_VALUE,
    SLACK_CONTEXT_ELEMENTS,
    SLACK_FALLBACK_TEXT,
    SLACK_FIELD_TEXT,
    SLACK_FIELDS_PER_SECTION,
    SLACK_HEADER_TEXT,
    SLACK_MAX_BLOCKS,
    SLACK_MODAL_BLOCKS,
    SLACK_OPTION_TEXT,
    SLACK_OPTION_VALUE,
    SLACK_PLACEHOLDER,
    SLACK_PRIVATE_METADATA,
    SLACK_SECTION_TEXT,
    SLACK_SELECT_OPTIONS,
    SLACK_TRANSCRIPT_SECTIONS,
    Budget,
    chunks,
    clean,
    link_url,
    measure,
    slack_escape,
    slack_literal,
    slack_plain,
)
from bot.domain import CustomerSummary, MatchCandidate, UnfurlFacts

Block = dict[str, Any]

LABEL_TEXT = 150  # the label line of a field
LINE_TEXT = 300  # one line of the timeline, one identity, one context element
MATCH_LIST_MAX = 40  # one section per match; leaves room for the heading and a "more" note
EMPTY = "(empty)"  # Slack refuses an empty text object
NO_TEXT = "(no text)"


# --- public --------------------------------------------------------------------------------------


def render_summary_blocks(summary: CustomerSummary) -> list[Block]:
    """The thread-root card, at a glance: the name, who, why, the state, a one-line issue, sentiment and
    engagement, the linking controls of an unmatched card, then the actions with *Details*.

    A summary asked for with a timeline filter (a filter button outside the modal) also shows that timeline.
    """
    body = [_header(summary), *_glance(summary), *_state_blocks(summary, SLACK_BUDGET)]
    if cards.timeline_filter(summary) != "all" and "timeline" in cards.sections(summary):
        body += [_divider(), *_timeline(summary, SLACK_BUDGET, with_filters=True)]
    return _assemble(body, _card_actions(summary, details=True))


DETAILS_CALLBACK_ID = "baton_details"
DETAILS_TITLE = "Customer details"
NAV_BLOCK_ID = "baton_details_pages"


def render_details_view(summary: CustomerSummary, *, timeline_filter: str | None = None, page: int = 0) -> dict:
    """The *Details* modal: every section the viewer's role may see, in `[card] sections` order, with the
    timeline filters; past 100 blocks it is paged with Previous / Next. Open it with views.open (or
    views.update from a button inside it); `private_metadata` carries the payload of what it shows."""
    if timeline_filter is not None:
        summary = replace(summary, timeline_filter=timeline_filter)
    active = cards.timeline_filter(summary)
    head = [_header(summary), _who_context(summary)] + _state_glance(summary)
    body = _section_blocks(summary, DETAILS_BUDGET, with_filters=True, filter_verb=act.DETAILS_PAGE, one_per_entry=True)
    if not body:
        body = [_plain_section("Nothing more to show for your role.")]
    per_page = SLACK_MODAL_BLOCKS - len(head) - 2  # the page line and the Previous / Next buttons
    pages = [body[i : i + per_page] for i in range(0, len(body), per_page)]
    page = min(max(page, 0), len(pages) - 1)
    c, p = summary.conversation, summary.profile
    here = ActionPayload(conversation=c.public_id if c else None, customer=p.customer_id if p else None,
                         filter=None if active == "all" else active, page=page)
    blocks = head + _page_link(summary) + pages[page]
    if len(pages) > 1:
        blocks += _page_nav(here, page, len(pages))
    return {
        "type": "modal",
        "callback_id": DETAILS_CALLBACK_ID,
        "title": {"type": "plain_text", "text": DETAILS_TITLE, "emoji": True},
        "close": {"type": "plain_text", "text": "Close", "emoji": True},
        "private_metadata": _value(here, SLACK_PRIVATE_METADATA),
        "blocks": blocks,
    }


PAGE_LINK_ACTION = "baton_page_link"  # a URL button: Slack opens it and also sends an action Baton only acks


def page_link_blocks(url: str | None) -> list[Block]:
    """*Open full profile* as a URL button, for a message or modal one agent alone sees (its link is theirs)."""
    url = link_url(url)
    if url is None:
        return []
    button = {"type": "button", "action_id": PAGE_LINK_ACTION, "text": _plain("Open full profile", SLACK_BUTTON_TEXT),
              "url": url, "style": "primary"}
    return [{"type": "actions", "block_id": "baton_page_link", "elements": [button]}]


def _page_link(summary: CustomerSummary) -> list[Block]:
    return page_link_blocks(summary.profile_url) if summary.full_page else []


def _page_nav(here: ActionPayload, page: int, pages: int) -> list[Block]:
    buttons = []
    if page > 0:
        buttons.append(_button("Previous", act.DETAILS_PAGE, replace(here, page=page - 1), variant="previous"))
    if page < pages - 1:
        buttons.append(_button("Next", act.DETAILS_PAGE, replace(here, page=page + 1), variant="next", style="primary"))
    return [
        {"type": "context", "elements": [_plain(f"Page {page + 1} of {pages}", LINE_TEXT)]},
        {"type": "actions", "block_id": NAV_BLOCK_ID, "elements": buttons},
    ]


def summary_fallback_text(summary: CustomerSummary) -> str:
    """Top-level `text` for notifications and screen readers: literal, never empty, at most 3000."""
    return slack_literal(cards.fallback_line(summary), SLACK_FALLBACK_TEXT)


def render_lookup_blocks(summary: CustomerSummary) -> list[Block]:
    """The compact ephemeral answer to `/baton lookup`: no conversation, claim or wrap-up controls."""
    if summary.state == "multi_match":
        return render_match_list_blocks(summary.candidates, "")
    body = [_header(summary), _status_context(summary)]
    if summary.state == "no_data":
        body.append(_mrkdwn_section("*No customer matches.* Try an email, a phone number, a name or a case number."))
    lookup = replace(summary, conversation=None)
    body += _section_blocks(lookup, LOOKUP_BUDGET, with_filters=False, skip={"conversation"})
    return _assemble(body, _card_actions(lookup))


def render_match_list_blocks(candidates: tuple[MatchCandidate, ...], query: str) -> list[Block]:
    """Several customers match a lookup: one line each with a button that shows that customer."""
    asked = f" “{clean(query)}”" if clean(query) else ""
    if not candidates:
        return [_plain_section(f"No customer matches{asked}.")]
    blocks = [_plain_section(f"{cards.plural(len(candidates), 'customer')} match{asked}. Pick one:")]
    for c in candidates[:MATCH_LIST_MAX]:
        show = _button("Show", act.SHOW_CUSTOMER, ActionPayload(customer=c.customer_id), variant=str(c.customer_id))
        blocks.append({"type": "section", "text": _plain(_candidate_label(c), LINE_TEXT), "accessory": show})
    if len(candidates) > MATCH_LIST_MAX:
        more = f"{len(candidates) - MATCH_LIST_MAX} more not shown — narrow the search."
        blocks.append({"type": "context", "elements": [_plain(more, LINE_TEXT)]})
    return blocks


def render_transcript_line(sender_label: str, text: str) -> tuple[str, list[Block]]:
    """A thread reply attributed to its sender by name: (fallback text, blocks). Long text is split."""
    sender = clean(sender_label) or "Unknown sender"
    fallback = slack_literal(f"{sender}: {clean(text) or NO_TEXT}", SLACK_FALLBACK_TEXT)
    pieces = chunks(text, SLACK_SECTION_TEXT, SLACK_TRANSCRIPT_SECTIONS, slack_escape) or [NO_TEXT]
    blocks = [{"type": "context", "elements": [_plain(sender, LINE_TEXT, single_line=True)]}]
    blocks += [{"type": "section", "text": {"type": "plain_text", "text": piece, "emoji": True}} for piece in pieces]
    return fallback, blocks


# --- text objects and elements -------------------------------------------------------------------


def _plain(value: object, limit: int, *, single_line: bool = False) -> dict[str, Any]:
    return {"type": "plain_text", "text": slack_plain(value, limit, single_line=single_line) or EMPTY, "emoji": True}


def _mrkdwn(trusted: str) -> dict[str, Any]:
    """Only for Baton's own words; never for anything a customer, a bot or an integrator sent."""
    return {"type": "mrkdwn", "text": trusted}


def _plain_section(value: object, limit: int = SLACK_SECTION_TEXT) -> Block:
    return {"type": "section", "text": _plain(value, limit)}


def _mrkdwn_section(trusted: str) -> Block:
    return {"type": "section", "text": _mrkdwn(trusted)}


def _field(label: str, value: object, limit: int) -> dict[str, Any]:
    """A two-line plain_text field: the label, then the value; both escaped, the whole ≤ 2000."""
    head = slack_plain(label, LABEL_TEXT, single_line=True)
    value_limit = min(limit, SLACK_FIELD_TEXT - measure(head) - 1)
    return {"type": "plain_text", "text": f"{head}\n{slack_plain(value, value_limit)}", "emoji": True}


def _value(payload: ActionPayload, limit: int) -> str:
    value = payload.to_value()
    if measure(value) > limit:  # ids are Baton's own and short; a longer one is a bug, not data to cut
        raise ValueError(f"action value longer than {limit}: {value[:80]}")
    return value


def _button(
    text: str, verb: str, payload: ActionPayload, *, variant: str | None = None, style: str | None = None,
    value: str | None = None,
) -> dict[str, Any]:
    """`value`: the payload's value when the caller encoded it already (one payload for a card's buttons)."""
    button = {
        "type": "button",
        "text": _plain(text, SLACK_BUTTON_TEXT, single_line=True),
        "action_id": act.slack_action_id(verb, variant),
        "value": value if value is not None else _value(payload, SLACK_BUTTON_VALUE),
    }
    if style:
        button["style"] = style
    return button


def _divider() -> Block:
    return {"type": "divider"}


# --- card parts ----------------------------------------------------------------------------------


def _header(summary: CustomerSummary) -> Block:
    return {"type": "header", "text": _plain(cards.headline(summary), SLACK_HEADER_TEXT, single_line=True)}


def _who_context(summary: CustomerSummary) -> Block:
    parts = cards.who_parts(summary)[:SLACK_CONTEXT_ELEMENTS]
    return {"type": "context", "elements": [_plain(p, LINE_TEXT, single_line=True) for p in parts]}


def _glance(summary: CustomerSummary) -> list[Block]:
    """The first view after the name, in `[card] glance` order."""
    blocks: list[Block] = []
    for kind, content in cards.glance_plan(summary, GLANCE_PRECHAT):
        if kind == "who":
            blocks.append(_who_context(summary))
        elif kind == "returning":
            blocks.append(_words_and_time(*content))
        elif kind == "given":
            fields = [_field(label, value, GLANCE_LINE) for label, value in content[:SLACK_FIELDS_PER_SECTION]]
            blocks.append({"type": "section", "text": _mrkdwn(f"*{cards.GIVEN_TITLE}*"), "fields": fields})
        elif kind == "why":
            fields = [_field(label, value, GLANCE_LINE) for label, value in content[:SLACK_FIELDS_PER_SECTION]]
            blocks.append({"type": "section", "fields": fields})
        elif kind == "latest":
            line = f"Latest from the customer: “{content}”"
            blocks.append({"type": "context", "elements": [_plain(line, GLANCE_LINE, single_line=True)]})
        elif kind == "state":
            blocks += _state_glance(summary)
        elif kind == "issue":
            blocks.append(_plain_section(content, GLANCE_LINE))
        elif kind == "pulse":
            blocks.append({"type": "context", "elements": [_plain(content, GLANCE_LINE)]})
    return blocks


def _state_glance(summary: CustomerSummary) -> list[Block]:
    """The status and queue (plain_text: a claimer's name is untrusted), then the time as a date element."""
    parts = cards.state_parts(summary)
    if not parts:
        return []
    blocks = [{"type": "context", "elements": [_plain(p, LINE_TEXT, single_line=True) for p in parts]}]
    since = cards.state_since(summary)
    if since is not None:
        label, at = since
        blocks.append(_words_and_time(f"{label} ", at))
    return blocks


def _words_and_time(before: str, at: datetime | None, after: str = "") -> Block:
    """Baton's words around a time Slack draws in the reader's time zone (a rich_text date element). The
    words may carry a public id or a disposition code: they go into a rich_text `text`, which Slack never
    reads as mrkdwn or a mention."""
    elements: list[dict[str, Any]] = [{"type": "text", "text": before if at is None else before.rstrip() + " "}]
    if at is not None:
        utc = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
        elements.append({"type": "date", "timestamp": int(utc.timestamp()), "format": "{date_short_pretty} at {time}",
                         "fallback": cards.when(utc)})
    if after:
        elements.append({"type": "text", "text": after})
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}


def _status_context(summary: CustomerSummary) -> Block:
    parts = [cards.state_line(summary)]
    if summary.state == "matched" and summary.profile and summary.profile.company:
        parts.append(summary.profile.company)
    c = summary.conversation
    if c is not None:
        parts += [f"#{c.public_id}", f"{c.channel} via {c.source}", cards.status_line(c)]
        if c.queue:
            parts.append(f"Queue: {c.queue}")
    return {"type": "context", "elements": [_plain(p, LINE_TEXT, single_line=True) for p in parts if clean(p)]}


def _link_hint(public_id: str) -> Block:
    command = f"@Baton link #{slack_escape(public_id)} &lt;email, phone, name or case&gt;"
    return {"type": "context", "elements": [_mrkdwn(f"Or type `{command}` in this thread.")]}


def _candidate_label(c: MatchCandidate) -> str:
    return f"{c.display_name} — {c.hint}" if c.hint and clean(c.hint) else c.display_name


def _state_blocks(summary: CustomerSummary, budget: Budget) -> list[Block]:
    """multi_match: a select of the matches, a search and "create new"; no_data: search and create."""
    c = summary.conversation
    if summary.state == "matched" or c is None:
        return []
    subject = ActionPayload(conversation=c.public_id)
    search = _button("Search customers", act.SEARCH_CUSTOMER, subject)
    if summary.state == "no_data":
        prompt = "*No customer matches this conversation.* Search and link one, or create one from the handoff."
        buttons = [_button("Search and link", act.SEARCH_CUSTOMER, subject, style="primary"),
                   _button("Create customer", act.CREATE_CUSTOMER, subject)]
    else:
        n = len(summary.candidates)
        prompt = f"*{n} customers share this identifier.* Pick the right one, search for another, or create a new one."
        buttons = [search, _button("Create new customer", act.CREATE_CUSTOMER, subject)]
        if summary.candidates:
            buttons.insert(0, _candidate_select(summary, c.public_id, budget))
    actions = {"type": "actions", "block_id": "baton_link", "elements": buttons}
    return [_mrkdwn_section(prompt), actions, _link_hint(c.public_id)]


def _candidate_select(summary: CustomerSummary, public_id: str, budget: Budget) -> dict[str, Any]:
    limit = min(budget.candidates, SLACK_SELECT_OPTIONS)
    options = [
        {
            "text": _plain(_candidate_label(c), SLACK_OPTION_TEXT, single_line=True),
            "value": _value(ActionPayload(conversation=public_id, customer=c.customer_id), SLACK_OPTION_VALUE),
        }
        for c in summary.candidates[:limit]
    ]
    return {
        "type": "static_select",
        "action_id": act.slack_action_id(act.LINK_CUSTOMER),
        "placeholder": _plain("Link to customer…", SLACK_PLACEHOLDER),
        "options": options,
    }


def _card_actions(summary: CustomerSummary, *, details: bool = False) -> Block | None:
    c, p = summary.conversation, summary.profile
    payload = ActionPayload(conversation=c.public_id if c else None, customer=p.customer_id if p else None)
    shown = card_buttons(summary, details=details)
    value = _value(payload, SLACK_BUTTON_VALUE)  # encoded once: every button of the card carries it
    elements = [_card_button(button, payload, value) for button in shown if not button.menu]
    menu = [button for button in shown if button.menu]
    if menu:
        elements.append(_menu(menu, payload))
    return {"type": "actions", "block_id": "baton_card_actions", "elements": elements} if elements else None


def _card_button(button: Button, payload: ActionPayload, value: str) -> dict[str, Any]:
    element = _button(button.label, button.verb, payload, style="primary" if button.primary else None, value=value)
    if link_url(button.url):
        element["url"] = button.url
    return element


def _menu(buttons: list[Button], payload: ActionPayload) -> dict[str, Any]:
    """The claimed card's overflow menu: each option's value names its verb."""
    return {
        "type": "overflow",
        "action_id": act.slack_action_id(act.MENU),
        "options": [{"text": _plain(b.label, SLACK_BUTTON_TEXT, single_line=True), "value": act.menu_value(b.verb, payload)}
                    for b in buttons],
    }


def _assemble(body: list[Block], actions: Block | None) -> list[Block]:
    """The body cut so that, with the actions last, the message holds at most 50 blocks."""
    tail = [actions] if actions else []
    return body[: SLACK_MAX_BLOCKS - len(tail)] + tail


# --- sections ------------------------------------------------------------------------------------


def _titled(title: str, rows: list[cards.Row], budget: Budget) -> list[Block]:
    """A heading and its facts as fields, ten to a section."""
    fields = [_field(label, value, budget.fact) for label, value in rows]
    if not fields:
        return [_mrkdwn_section(f"*{title}*")]
    step = SLACK_FIELDS_PER_SECTION
    blocks = [{"type": "section", "fields": fields[i : i + step]} for i in range(0, len(fields), step)]
    blocks[0]["text"] = _mrkdwn(f"*{title}*")
    return blocks


def _more(hidden: int, one: str, many: str) -> list[Block]:
    if hidden <= 0:
        return []
    return [{"type": "context", "elements": [_plain(cards.hidden_line(hidden, one, many), LINE_TEXT)]}]


def _section_blocks(
    summary: CustomerSummary,
    budget: Budget,
    *,
    with_filters: bool,
    skip: frozenset[str] | set[str] = frozenset(),
    filter_verb: str = act.TIMELINE_FILTER,
    one_per_entry: bool = False,
) -> list[Block]:
    builders = {
        "profile": _profile,
        "conversation": _conversation,
        "issue": lambda s, b: _titled(cards.SECTION_TITLES["issue"], cards.case_rows(s.issue), b),
        "recent_cases": _recent_cases,
        "timeline": lambda s, b: _timeline(s, b, with_filters, filter_verb=filter_verb, one_per_entry=one_per_entry),
        "sentiment": lambda s, b: _titled(
            cards.SECTION_TITLES["sentiment"], cards.sentiment_rows(s.sentiment, b.topics), b
        ),
        "engagement": lambda s, b: _titled(
            cards.SECTION_TITLES["engagement"], cards.engagement_rows(s.engagement), b
        ),
    }
    blocks: list[Block] = []
    for section in cards.sections(summary):
        if section not in skip:
            blocks += [_divider(), *builders[section](summary, budget)]
    return blocks


def _profile(summary: CustomerSummary, budget: Budget) -> list[Block]:
    rows = cards.profile_rows(summary.profile) if summary.profile else []
    blocks = _titled(cards.SECTION_TITLES["profile"], rows, budget)
    identities = cards.identity_rows(summary)
    if identities and budget.identities:
        shown = [f"{kind}: {value}" for kind, value in identities[: budget.identities]]
        if len(identities) > budget.identities:
            shown.append(f"+{len(identities) - budget.identities} more")
        title = _mrkdwn(f"*{cards.identities_title(summary)}*")
        values = _plain(" · ".join(shown), SLACK_FIELD_TEXT, single_line=True)
        blocks.append({"type": "context", "elements": [title, values]})
    return blocks


def _conversation(summary: CustomerSummary, budget: Budget) -> list[Block]:
    c, blocks = summary.conversation, []
    if c is not None:
        blocks += _titled(cards.SECTION_TITLES["conversation"], cards.conversation_rows(c), budget)
        bot_rows = cards.bot_rows(c.bot)
        if bot_rows:
            blocks += _titled("Virtual agent", bot_rows, budget)
        if c.bot and c.bot.agent_message and clean(c.bot.agent_message):
            note = f"Note from the bot:\n{slack_plain(c.bot.agent_message, budget.long)}"
            blocks.append({"type": "section", "text": {"type": "plain_text", "text": note, "emoji": True}})
    answers = summary.prechat[: budget.prechat]
    step = SLACK_FIELDS_PER_SECTION
    for i in range(0, len(answers), step):
        block = {"type": "section", "fields": [_field(a.question, a.answer, budget.fact) for a in answers[i : i + step]]}
        if i == 0:
            block["text"] = _mrkdwn("*Pre-chat*")
        blocks.append(block)
    blocks += _more(cards.hidden_prechat(summary, len(answers)), "more answer", "more answers")
    visitor = cards.visitor_rows(summary.visitor)
    if visitor:
        blocks += _titled("Visitor", visitor, budget)
    return blocks


def _recent_cases(summary: CustomerSummary, budget: Budget) -> list[Block]:
    shown = summary.recent_cases[: budget.cases]
    fields = [_plain(cards.case_line(c), budget.fact) for c in shown]
    step = SLACK_FIELDS_PER_SECTION
    heading = {"type": "section", "text": _mrkdwn(f"*{cards.SECTION_TITLES['recent_cases']}*")}
    blocks = [heading] + [{"type": "section", "fields": fields[i : i + step]} for i in range(step, len(fields), step)]
    if fields:
        heading["fields"] = fields[:step]
    return [*blocks, *_more(len(summary.recent_cases) - len(shown), "more case", "more cases")]


def _timeline(
    summary: CustomerSummary,
    budget: Budget,
    with_filters: bool,
    *,
    filter_verb: str = act.TIMELINE_FILTER,
    one_per_entry: bool = False,
) -> list[Block]:
    """The title, the filters (in the modal right under the title, so they stay on its first page), then the
    entries: one section for all in a message, one per entry in the modal."""
    entries = cards.timeline_entries(summary)
    shown = entries[: budget.timeline]
    blocks = [_mrkdwn_section(f"*{cards.timeline_title(summary)}*")]
    if with_filters and one_per_entry:
        blocks.append(_timeline_filters(summary, filter_verb))
    if one_per_entry:
        blocks += [_plain_section(cards.timeline_line(e), LINE_TEXT) for e in shown]
        hidden = len(entries) - len(shown)
    else:
        lines: list[str] = []
        for entry in shown:
            line = slack_plain(cards.timeline_line(entry), LINE_TEXT)
            if measure("\n".join([*lines, line])) > SLACK_SECTION_TEXT:
                break
            lines.append(line)
        if lines:
            blocks.append({"type": "section", "text": {"type": "plain_text", "text": "\n".join(lines), "emoji": True}})
        hidden = len(entries) - len(lines)
    if not shown:
        blocks.append(_plain_section("No activities under this filter."))
    blocks += _more(hidden, "older entry", "older entries")
    if with_filters and not one_per_entry:
        blocks.append(_timeline_filters(summary, filter_verb))
    return blocks


def _timeline_filters(summary: CustomerSummary, verb: str = act.TIMELINE_FILTER) -> Block:
    c, p, active = summary.conversation, summary.profile, cards.timeline_filter(summary)
    buttons = []
    for name in cards.TIMELINE_FILTERS:
        payload = ActionPayload(
            conversation=c.public_id if c else None, customer=p.customer_id if p else None, filter=name,
            page=0 if verb == act.DETAILS_PAGE else None,
        )
        style = "primary" if name == active else None
        buttons.append(_button(cards.FILTER_LABELS[name], verb, payload, variant=name, style=style))
    return {"type": "actions", "block_id": "baton_timeline_filters", "elements": buttons}


def render_unfurl_blocks(facts: UnfurlFacts) -> list[Block]:
    """A pasted customer-page link as a small card (SPEC 4.4): name, open cases, last contact — facts the
    `agent` role may see. Every value is plain_text; the last contact is drawn by Slack's own date element."""
    fields = [_field("Customer", f"{facts.name} ({facts.id})", 200)]
    if facts.company:
        fields.append(_field("Company", facts.company, 200))
    if facts.open_cases is not None:
        fields.append(_field("Open cases", str(facts.open_cases), 20))
    blocks: list[Block] = [{"type": "section", "fields": fields}]
    if facts.last_contact is not None:
        stamp = int(facts.last_contact.timestamp())
        blocks.append({"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
            {"type": "text", "text": "Last contact "},
            {"type": "date", "timestamp": stamp, "format": "{date_short_pretty} at {time}",
             "fallback": facts.last_contact.strftime("%Y-%m-%d %H:%M UTC")}]}]})
    blocks.append({"type": "context", "elements": [_plain("Baton customer page: opens for agents with a link from Baton",
                                                          LINE_TEXT)]})
    return blocks

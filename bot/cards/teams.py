"""Adaptive Cards 1.5 for Teams: the summary card, lookups and match lists; facts in, dicts out.

The summary card is the first view of SPEC 4.1 ("at a glance"), then each section behind a header that
shows or hides it in place (`Action.ToggleVisibility`), its label–value pairs as FactSets. Untrusted text
goes into TextRuns (which never read markdown), choice and action titles, always through `text.teams_text`,
or into FactSet titles and values through `text.teams_fact` (Teams reads markdown there, so it is made
inert); TextBlocks carry Baton's own words alone. A card that would pass 40 KB is rebuilt with a smaller
`Budget`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Callable, Iterable

from bot import cards
from bot.cards import actions as act
from bot.cards.actions import ActionPayload
from bot.cards.buttons import Button, card_buttons
from bot.cards.text import (
    TEAMS_BUDGETS,
    TEAMS_BUTTON_TEXT,
    TEAMS_CARD_VERSION,
    TEAMS_CHOICE_TEXT,
    TEAMS_MAX_CARD_BYTES,
    GLANCE_LINE,
    GLANCE_PRECHAT,
    Budget,
    clean,
    json_size,
    link_url,
    teams_fact,
    teams_text,
)
from bot.domain import CustomerSummary, MatchCandidate

Element = dict[str, Any]

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
LABEL_TEXT = 150
HEADER_TEXT = 150
EMPTY = "(empty)"
EXPANDED_CHOICES = 8  # up to this many matches show as radio buttons, more as a drop-down
# Element ids of a section: its body, and the "Show" / "Hide" words of its header (the toggle).
SECTION_ID = "baton-section-{}"
SHOW_ID = "baton-show-{}"
HIDE_ID = "baton-hide-{}"


# --- public --------------------------------------------------------------------------------------


def render_summary_card(summary: CustomerSummary, *, expanded: Iterable[str] = ()) -> dict[str, Any]:
    """The thread-root card at a glance, its sections collapsed below; shrunk (timeline first, then text)
    until it fits in 40 KB.

    `expanded` names sections to render open: an edit re-renders the whole card, so a card answering an
    agent's action in a section (a timeline filter) opens that section again. A summary with a timeline
    filter opens the timeline by itself.
    """
    open_ = set(expanded)
    if cards.timeline_filter(summary) != "all":
        open_.add("timeline")
    return _fitted(lambda budget: _summary_card(summary, budget, frozenset(open_)))


def render_lookup_card(summary: CustomerSummary) -> dict[str, Any]:
    """The compact answer to `@Baton lookup`: no conversation, claim or wrap-up controls; sections open."""
    if summary.state == "multi_match":
        return render_match_list_card(summary.candidates, "")
    return _fitted(lambda budget: _lookup_card(summary, budget))


def render_match_list_card(candidates: tuple[MatchCandidate, ...], query: str) -> dict[str, Any]:
    """Several customers match a lookup: pick one to see their summary."""
    return _fitted(lambda budget: _match_list_card(candidates, query, budget))


def card_attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": card}


def _fitted(build: Callable[[Budget], dict[str, Any]]) -> dict[str, Any]:
    for budget in TEAMS_BUDGETS:
        card = build(budget)
        if json_size(card) <= TEAMS_MAX_CARD_BYTES:
            return card
    return card  # the last budget keeps only header, state and actions: small by construction


# --- elements ------------------------------------------------------------------------------------


def _card(body: list[Element], actions: list[Element], fallback: str) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": TEAMS_CARD_VERSION,
        "fallbackText": teams_text(fallback, 500) or "Customer summary",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def _run(value: object, limit: int, *, single_line: bool = False, **style: Any) -> Element:
    return {"type": "TextRun", "text": teams_text(value, limit, single_line=single_line) or EMPTY, **style}


def _rich(*inlines: Element, **props: Any) -> Element:
    return {"type": "RichTextBlock", "inlines": list(inlines), **props}


def _facts_set(rows: list[cards.Row], limit: int, **props: Any) -> list[Element]:
    """A FactSet: label–value pairs, both through `teams_fact` (Teams reads markdown in facts)."""
    facts = [
        {"title": teams_fact(label, LABEL_TEXT, single_line=True) or EMPTY, "value": teams_fact(value, limit) or EMPTY}
        for label, value in rows
    ]
    return [{"type": "FactSet", "facts": facts, **props}] if facts else []


def _time(at: datetime) -> str:
    """Teams' own date and time functions: drawn in the reader's time zone and locale, never stale."""
    stamp = f"{at:%Y-%m-%dT%H:%M:%S}Z"
    return f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"


def _note(value: str, limit: int = 500) -> Element:
    return _rich(_run(value, limit, isSubtle=True))


def _execute(title: str, verb: str, payload: ActionPayload, *, enabled: bool = True) -> Element:
    """Action.Execute with an Action.Submit fallback carrying the same data (PROTOCOLS 2.1)."""
    data = act.teams_data(verb, payload)
    label = teams_text(title, TEAMS_BUTTON_TEXT, single_line=True)
    submit: Element = {"type": "Action.Submit", "title": label, "data": data}
    action: Element = {"type": "Action.Execute", "title": label, "verb": verb, "data": data, "fallback": submit}
    if not enabled:
        action["isEnabled"] = submit["isEnabled"] = False
    return action


def _action_set(*actions: Element, **props: Any) -> Element:
    return {"type": "ActionSet", "actions": list(actions), **props}


def _choices(candidates: tuple[MatchCandidate, ...], budget: Budget) -> Element:
    shown = candidates[: budget.candidates]
    return {
        "type": "Input.ChoiceSet",
        "id": act.TEAMS_INPUT_CUSTOMER,
        "style": "expanded" if len(shown) <= EXPANDED_CHOICES else "compact",
        "placeholder": "Choose a customer",
        "choices": [
            {"title": teams_text(_candidate_label(c), TEAMS_CHOICE_TEXT, single_line=True) or EMPTY,
             "value": str(c.customer_id)}
            for c in shown
        ],
    }


def _candidate_label(c: MatchCandidate) -> str:
    return f"{c.display_name} — {c.hint}" if c.hint and clean(c.hint) else c.display_name


# --- cards ---------------------------------------------------------------------------------------


def _summary_card(summary: CustomerSummary, budget: Budget, expanded: frozenset[str]) -> dict[str, Any]:
    body = [_title(summary), *_glance(summary), *_state(summary, budget)]
    if budget.details:
        body += _sections(summary, budget, with_filters=True, expanded=expanded)
    if budget is not TEAMS_BUDGETS[0]:
        body.append(_note("Shortened to fit the Teams card size; open the profile for everything."))
    return _card(body, _card_actions(summary), cards.fallback_line(summary))


def _lookup_card(summary: CustomerSummary, budget: Budget) -> dict[str, Any]:
    lookup = replace(summary, conversation=None)
    body = _header(lookup)
    if summary.state == "no_data":
        body.append(_note("No customer matches. Try an email, a phone number, a name or a case number."))
    if budget.details:
        body += _sections(lookup, replace(budget, timeline=min(budget.timeline, 5)), with_filters=False,
                          skip={"conversation"}, expanded=frozenset(cards.sections(lookup)))
    return _card(body, _card_actions(lookup), cards.fallback_line(lookup))


def _match_list_card(candidates: tuple[MatchCandidate, ...], query: str, budget: Budget) -> dict[str, Any]:
    asked = f" “{clean(query)}”" if clean(query) else ""
    if not candidates:
        return _card([_rich(_run(f"No customer matches{asked}.", 500))], [], f"No customer matches{asked}.")
    heading = f"{cards.plural(len(candidates), 'customer')} match{asked}. Pick one:"
    body = [_rich(_run(heading, 500, weight="Bolder")), _choices(candidates, budget)]
    if len(candidates) > budget.candidates:
        body.append(_note(f"{len(candidates) - budget.candidates} more not shown — narrow the search."))
    return _card(body, [_execute("Show summary", act.SHOW_CUSTOMER, ActionPayload())], heading)


def _title(summary: CustomerSummary) -> Element:
    return _rich(_run(cards.headline(summary), HEADER_TEXT, single_line=True, size="Large", weight="Bolder"))


def _header(summary: CustomerSummary) -> list[Element]:
    parts = [cards.state_line(summary)]
    if summary.state == "matched" and summary.profile and summary.profile.company:
        parts.append(summary.profile.company)
    c = summary.conversation
    if c is not None:
        parts += [f"#{c.public_id}", f"{c.channel} via {c.source}", cards.status_line(c)]
        if c.queue:
            parts.append(f"Queue: {c.queue}")
    line = " · ".join(clean(p) for p in parts if clean(p))
    return [_title(summary), _rich(_run(line, 600, single_line=True, isSubtle=True), spacing="None")]


def _glance(summary: CustomerSummary) -> list[Element]:
    """The first view after the name, in `[card] glance` order."""
    body: list[Element] = []
    for kind, content in cards.glance_plan(summary, GLANCE_PRECHAT):
        if kind == "who":
            line = " · ".join(clean(p) for p in content)
            body.append(_rich(_run(line, 600, single_line=True, isSubtle=True), spacing="None"))
        elif kind == "returning":
            before, at, after = content
            words = teams_text(before, 300, single_line=True) + (f" {_time(at)}" if at else "")
            body.append({"type": "TextBlock", "text": words + teams_text(after, 100, single_line=True), "wrap": True,
                         "spacing": "Small", "weight": "Bolder"})
        elif kind == "given":
            body.append(_rich(_run(cards.GIVEN_TITLE, 100, isSubtle=True, weight="Bolder"), spacing="Small"))
            body += _facts_set(content, GLANCE_LINE, spacing="None")
        elif kind == "why":
            body += _facts_set(content, GLANCE_LINE, spacing="Small")
        elif kind == "latest":
            body.append(_rich({"type": "TextRun", "text": "Latest from the customer: ", "weight": "Bolder"},
                              _run(f"“{content}”", GLANCE_LINE, single_line=True, italic=True), spacing="Small"))
        elif kind == "state":
            parts, since = content
            runs = [_run(parts[0], 300, single_line=True, weight="Bolder")]
            for part in parts[1:]:
                runs += [{"type": "TextRun", "text": " · "}, _run(part, 300, single_line=True)]
            body.append(_rich(*runs, spacing="Small"))
            if since is not None:
                label, at = since
                body.append({"type": "TextBlock", "text": f"{label} {_time(at)}", "isSubtle": True, "wrap": True,
                             "spacing": "None", "size": "Small"})
        elif kind == "issue":
            body.append(_rich(_run(content, GLANCE_LINE), spacing="Small"))
        elif kind == "pulse":
            body.append(_rich(_run(content, GLANCE_LINE, isSubtle=True), spacing="Small"))
    return body


def _state(summary: CustomerSummary, budget: Budget) -> list[Element]:
    """multi_match: a choice of the matches, a search and "create new"; no_data: search and create."""
    c = summary.conversation
    if summary.state == "matched" or c is None:
        return []
    subject = ActionPayload(conversation=c.public_id)
    search = {"type": "Input.Text", "id": act.TEAMS_INPUT_QUERY, "placeholder": "Email, phone, name or case number"}
    if summary.state == "no_data":
        prompt = "No customer matches this conversation. Search and link one, or create one from the handoff."
        return [
            _rich(_run(prompt, 500, weight="Bolder"), spacing="Medium"),
            search,
            _action_set(_execute("Search and link", act.SEARCH_CUSTOMER, subject),
                        _execute("Create customer", act.CREATE_CUSTOMER, subject)),
        ]
    n = len(summary.candidates)
    prompt = f"{n} customers share this identifier. Pick the right one, search for another, or create a new one."
    elements = [_rich(_run(prompt, 500, weight="Bolder"), spacing="Medium")]
    if summary.candidates:
        elements += [_choices(summary.candidates, budget),
                     _action_set(_execute("Link customer", act.LINK_CUSTOMER, subject))]
    return elements + [
        search,
        _action_set(_execute("Search", act.SEARCH_CUSTOMER, subject),
                    _execute("Create new customer", act.CREATE_CUSTOMER, subject)),
    ]


# Teams draws at most 6 actions on a card; the case's priority, close and cancel share one "Case…" form
# (bot/teams/dialogs.priority_form).
TEAMS_MAX_CARD_ACTIONS = 6


def _card_actions(summary: CustomerSummary) -> list[Element]:
    c, p = summary.conversation, summary.profile
    payload = ActionPayload(conversation=c.public_id if c else None, customer=p.customer_id if p else None)
    shown = card_buttons(summary, max_actions=TEAMS_MAX_CARD_ACTIONS, collapse_groups=True)
    actions = [_card_action(button, payload) for button in shown if not button.menu]
    secondary = [_card_action(button, payload) for button in shown if button.menu]
    for action in secondary:  # the claimed card's menu: Teams shows secondary actions under "…"
        action["mode"] = action["fallback"]["mode"] = "secondary"
    return actions + secondary


def _card_action(button: Button, payload: ActionPayload) -> Element:
    url = link_url(button.url)
    if url:
        return {"type": "Action.OpenUrl", "title": teams_text(button.label, TEAMS_BUTTON_TEXT, single_line=True), "url": url}
    return _execute(button.label, button.verb, payload)


# --- sections ------------------------------------------------------------------------------------


def _sections(
    summary: CustomerSummary,
    budget: Budget,
    *,
    with_filters: bool,
    expanded: frozenset[str],
    skip: frozenset[str] | set[str] = frozenset(),
) -> list[Element]:
    """Each section as a header that shows or hides it (the whole header is the toggle), then its body."""
    builders = {
        "profile": _profile,
        "conversation": _conversation,
        "issue": lambda s, b: _facts(cards.case_rows(s.issue), b),
        "recent_cases": _recent_cases,
        "timeline": lambda s, b: _timeline(s, b, with_filters),
        "sentiment": lambda s, b: _facts(cards.sentiment_rows(s.sentiment, b.topics), b),
        "engagement": lambda s, b: _facts(cards.engagement_rows(s.engagement), b),
    }
    body: list[Element] = []
    for section in cards.sections(summary):
        if section in skip:
            continue
        title = cards.timeline_title(summary) if section == "timeline" else cards.SECTION_TITLES[section]
        is_open = section in expanded
        body.append(_section_header(section, title, is_open))
        items = builders[section](summary, budget) or [_note("Nothing to show.")]
        body.append({"type": "Container", "id": SECTION_ID.format(section), "isVisible": is_open, "items": items,
                     "spacing": "Small"})
    return body


def _section_header(section: str, title: str, is_open: bool) -> Element:
    targets = [SECTION_ID.format(section), SHOW_ID.format(section), HIDE_ID.format(section)]
    word = {"type": "TextBlock", "color": "Accent", "size": "Small", "wrap": False}
    return {
        "type": "ColumnSet",
        "separator": True,
        "spacing": "Small",
        "selectAction": {"type": "Action.ToggleVisibility", "title": f"Show or hide {title}", "targetElements": targets},
        "columns": [
            {"type": "Column", "width": "stretch", "verticalContentAlignment": "Center",
             "items": [{"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True}]},
            {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": [
                {**word, "id": SHOW_ID.format(section), "text": "Show", "isVisible": not is_open},
                {**word, "id": HIDE_ID.format(section), "text": "Hide", "isVisible": is_open},
            ]},
        ],
    }


def _facts(rows: list[cards.Row], budget: Budget) -> list[Element]:
    return _facts_set(rows, budget.fact)


def _subheading(trusted: str) -> Element:
    return {"type": "TextBlock", "text": trusted, "weight": "Bolder", "wrap": True, "spacing": "Small",
            "isSubtle": True, "size": "Small"}


def _more(hidden: int, one: str, many: str) -> list[Element]:
    return [_note(cards.hidden_line(hidden, one, many))] if hidden > 0 else []


def _profile(summary: CustomerSummary, budget: Budget) -> list[Element]:
    body = _facts(cards.profile_rows(summary.profile), budget) if summary.profile else []
    identities = cards.identity_rows(summary)
    if identities and budget.identities:
        shown = [f"{kind}: {value}" for kind, value in identities[: budget.identities]]
        if len(identities) > budget.identities:
            shown.append(f"+{len(identities) - budget.identities} more")
        body += [_subheading(cards.identities_title(summary)), _rich(_run(" · ".join(shown), budget.long))]
    return body


def _conversation(summary: CustomerSummary, budget: Budget) -> list[Element]:
    c, body = summary.conversation, []
    if c is not None:
        body += _facts(cards.conversation_rows(c), budget)
        bot_rows = cards.bot_rows(c.bot)
        if bot_rows:
            body += [_subheading("Virtual agent"), *_facts(bot_rows, budget)]
        if c.bot and c.bot.agent_message and clean(c.bot.agent_message):
            body += [_subheading("Note from the bot"), _rich(_run(c.bot.agent_message, budget.long))]
    answers = summary.prechat[: budget.prechat]
    if answers:
        body += [_subheading("Pre-chat"), *_facts([(a.question, a.answer) for a in answers], budget)]
        body += _more(cards.hidden_prechat(summary, len(answers)), "more answer", "more answers")
    visitor = cards.visitor_rows(summary.visitor)
    if visitor:
        body += [_subheading("Visitor"), *_facts(visitor, budget)]
    return body


def _recent_cases(summary: CustomerSummary, budget: Budget) -> list[Element]:
    shown = summary.recent_cases[: budget.cases]
    return [_rich(_run(cards.case_line(c), budget.fact)) for c in shown] + _more(
        len(summary.recent_cases) - len(shown), "more case", "more cases"
    )


def _timeline(summary: CustomerSummary, budget: Budget, with_filters: bool) -> list[Element]:
    entries = cards.timeline_entries(summary)
    shown = entries[: budget.timeline]
    body = [_rich(_run(cards.timeline_line(e), budget.fact)) for e in shown]
    if not entries:
        body.append(_note("No activities under this filter."))
    body += _more(len(entries) - len(shown), "older entry", "older entries")
    if with_filters:
        body.append(_timeline_filters(summary))
    return body


def _timeline_filters(summary: CustomerSummary) -> Element:
    c, p, active = summary.conversation, summary.profile, cards.timeline_filter(summary)
    buttons = [
        _execute(
            cards.FILTER_LABELS[name],
            act.TIMELINE_FILTER,
            ActionPayload(conversation=c.public_id if c else None, customer=p.customer_id if p else None, filter=name),
            enabled=name != active,
        )
        for name in cards.TIMELINE_FILTERS
    ]
    return _action_set(*buttons)

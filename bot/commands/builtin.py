"""Every subcommand of SPEC 4.2. Each handler's docstring is its help line; each answers an `Outcome`."""

from __future__ import annotations

from bot.commands.args import Args
from bot.commands.registry import Registry
from bot.core import actions, audit_log, control, forms, page_links
from bot.core.services import Services
from bot.domain import TIMELINE_CATEGORIES, CommandRequest, Outcome, public_id
from bot.errors import UserError

registry = Registry()


async def _conversation(request: CommandRequest, args: Args) -> int:
    return await actions.conversation_id_from(
        args.conversation(), thread_conversation=request.thread_conversation, actor=request.actor
    )


async def _customer(args: Args, what: str = "customer") -> int:
    return (await actions.one_customer(args.word(what))).customer_id


@registry.command("lookup <email | phone | name | case number>")
async def lookup(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """The customer's summary, visible only to you; a list when several match."""
    query = args.rest("what to look up")
    found = await actions.find_customers(query)
    if not found:
        return Outcome(text=f"No customer matches “{query}”.")
    if len(found) > 1:
        return Outcome(text=f"{len(found)} customers match “{query}”.", candidates=tuple(found))
    summary = await actions.customer_view(services, request.actor, found[0].customer_id, action="lookup")
    return Outcome(text=f"{summary.profile.display_name} ({summary.profile.customer_id})", summary=summary)


@registry.command("note [#conv] <text>")
async def note(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """A quick note on the customer's timeline and the conversation."""
    conversation_id = await _conversation(request, args)
    text = args.rest("the note's text")
    return Outcome(text=await actions.add_note(services, request.actor, conversation_id, text), conversation_id=conversation_id)


@registry.command("comment <case> <text>")
async def comment(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """An internal case comment: never shown to the customer, never editable or deletable."""
    case_number = args.word("case number")
    text = args.rest("the comment's text")
    return Outcome(text=await actions.comment_on_case(services, request.actor, case_number, text))


@registry.command("merge <customer> <customer>")
async def merge(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Merges the second customer into the first, after a confirmation; refused if either is locked."""
    if args.peek() == "undo":
        args.word("undo")
        ref = args.word("customer number")
        if not ref.isdigit():
            raise UserError(f"`merge undo` takes the number of the customer that was merged (e.g. `merge undo 42`), "
                            f"not “{ref}”. The merge's confirmation and `audit` show it.")
        merged = int(ref)
        return Outcome(text=await actions.undo_merge(services, request.actor, merged))
    survivor = await _customer(args, "first customer")
    merged = await _customer(args, "second customer")
    form = await forms.open_form(services, request.actor, "merge_confirm", {"survivor": survivor, "merged": merged})
    survivor_name, merged_name = form.values["survivor_name"], form.values["merged_name"]
    return Outcome(
        text=f"Merge {merged_name} ({merged}) into {survivor_name} ({survivor})? Everything of {merged_name} moves.",
        form=form,
    )


@registry.command("wrapup [#conv] [<code>] [notes] [--logs]")
async def wrapup(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Ends the session with a disposition code and notes; without a code opens the form; --logs posts the log."""
    conversation_id = await _conversation(request, args)
    with_logs = args.flag("--logs")
    code = args.word("code", required=False)
    if code is None:
        form = await forms.open_form(services, request.actor, "wrapup", {"conversation": conversation_id, "logs": with_logs})
        return Outcome(text="Choose a disposition code.", form=form, conversation_id=conversation_id)
    notes = args.rest("notes", required=False) or None
    text = await actions.wrap_up(services, request.actor, conversation_id, code, notes, logs=with_logs)
    link = await page_links.logs_link(services, request.actor, conversation_id) if with_logs else None
    return Outcome(text=text, conversation_id=conversation_id, link=link)


@registry.command("link [#conv] <customer>")
async def link(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Links the conversation to a customer."""
    conversation_id = await _conversation(request, args)
    customer = await _customer(args)
    return Outcome(text=await actions.link_customer(services, request.actor, conversation_id, customer),
                   conversation_id=conversation_id)


@registry.command("new [#conv]")
async def new(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Creates a customer from what the conversation knows and links it."""
    conversation_id = await _conversation(request, args)
    args.done()
    return Outcome(text=await actions.create_customer_for(services, request.actor, conversation_id),
                   conversation_id=conversation_id)


@registry.command("case [#conv] <case> | new <title> | close | cancel | priority <p>")
async def case(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Links the conversation to a case or opens one; closes, cancels (deleting its comments) or reprioritizes it."""
    conversation_id = await _conversation(request, args)
    first = args.word("case number, `new`, `close`, `cancel` or `priority`")
    word = first.lower()
    if word in ("close", "cancel"):
        args.done()
        change = control.close_case if word == "close" else control.cancel_case
        return Outcome(text=await change(services, request.actor, conversation_id), conversation_id=conversation_id)
    if word == "priority":
        priority = args.word("priority")
        args.done()
        return Outcome(text=await control.set_priority(services, request.actor, conversation_id, priority),
                       conversation_id=conversation_id)
    if word == "new":
        text = await actions.open_case(services, request.actor, conversation_id, args.rest("the case title"))
    else:
        args.done()
        text = await actions.link_case(services, request.actor, conversation_id, first)
    return Outcome(text=text, conversation_id=conversation_id)


@registry.command("transfer [#conv] <agent mention | queue>")
async def transfer(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Hands a claimed conversation to another agent or queue; the card and the customer's side follow."""
    conversation_id = await _conversation(request, args)
    target = args.word("@agent or queue")
    args.done()
    return Outcome(text=await control.transfer(services, request.actor, conversation_id, target),
                   conversation_id=conversation_id)


@registry.command("unclaim [#conv]")
async def unclaim(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Gives a claimed conversation back to its queue."""
    conversation_id = await _conversation(request, args)
    args.done()
    return Outcome(text=await control.unclaim(services, request.actor, conversation_id), conversation_id=conversation_id)


@registry.command("timeline <customer> [customer|case|conversation]")
async def timeline(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """The customer's timeline, optionally only customer, case or conversation activities."""
    customer = await _customer(args)
    category = (args.word("filter", required=False) or "").lower() or None
    if category and category not in TIMELINE_CATEGORIES:
        raise UserError(f"Filter by one of: {', '.join(TIMELINE_CATEGORIES)}.")
    summary = await actions.customer_view(services, request.actor, customer, timeline_filter=category)
    return Outcome(text=f"Timeline of {summary.profile.display_name}", summary=summary)


@registry.command("profile <customer>")
async def profile(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """View and edit the profile: names, company, gender, email, phones, tags, notes."""
    customer = await _customer(args)
    summary = await actions.customer_view(services, request.actor, customer)
    return Outcome(text=f"Profile of {summary.profile.display_name}", summary=summary, form=forms.profile_form(summary))


@registry.command("page [<customer>]")
async def page(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """A link, for you alone (15 minutes, once), to the customer's full page, or to the customer search."""
    if args.peek() is None:
        return Outcome(text="The customer search: this link is yours alone and works once, for 15 minutes.",
                       link=page_links.for_agent(services, request.actor, None))
    customer = await _customer(args)
    return Outcome(text="The full profile: this link is yours alone and works once, for 15 minutes.",
                   link=page_links.for_agent(services, request.actor, customer))


@registry.command("identities <customer>")
async def identities(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """The customer's identities, and customers that look like the same person (to merge)."""
    customer = await _customer(args)
    summary = await actions.customer_view(services, request.actor, customer, action="identities")
    mine, similar = await actions.identities_and_duplicates(services, customer, request.actor)
    lines = [f"• {kind}: {value}" for kind, value in mine] or ["(none)"]
    text = f"Identities of {summary.profile.display_name}:\n" + "\n".join(lines)
    if similar:
        text += "\nPossible duplicates (use `merge`):"
    return Outcome(text=text, candidates=tuple(similar))


@registry.command("export <customer>")
async def export(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """A JSON export of everything Baton holds about the customer, to you only."""
    customer = await _customer(args)
    name, content = await actions.export(services, request.actor, customer)
    return Outcome(text=f"Export of customer {customer} ({len(content)} bytes).", attachment=(name, content))


@registry.command("lock <customer> [off]")
async def lock(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Locks the customer against edits and merges (`off` unlocks)."""
    customer = await _customer(args)
    off = (args.word("off", required=False) or "").lower() == "off"
    return Outcome(text=await actions.set_lock(services, request.actor, customer, not off))


@registry.command("anonymize <customer>")
async def anonymize(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Irreversibly replaces the customer's personal data, after a confirmation."""
    candidate = await actions.one_customer(args.word("customer"))
    form = await forms.open_form(services, request.actor, "anonymize_confirm", {"customer": candidate.customer_id})
    return Outcome(text=f"Anonymize {candidate.display_name} ({candidate.customer_id})? This cannot be undone.", form=form)


@registry.command("audit <customer> [--since <date>]")
async def audit(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Who viewed, looked up, exported, merged, edited, locked or anonymized the customer, newest first."""
    customer = await _customer(args)
    since_text = next((f.split("=", 1)[1] for f in args.flags if f.startswith("--since=")), None)
    if since_text is None and args.flag("--since"):
        since_text = args.word("date after --since")
    since = audit_log.parse_since(since_text, services.clock()) if since_text else None
    entries = await audit_log.read(services, request.actor, customer, since)
    return Outcome(text=audit_log.chat_text(customer, entries))


@registry.command("route here [queue]")
async def route(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Makes this channel the handoff channel for a queue (or for every queue without one)."""
    if (args.word("here") or "").lower() != "here":
        raise UserError("Usage: route here [queue]")
    queue = args.word("queue", required=False)
    if not request.channel_id:
        raise UserError("Run `route here` in the channel that should receive handoffs.")
    text = await actions.route_here(services, request.actor, request.platform, request.channel_id, queue,
                                    reference=dict(request.channel_reference) if request.channel_reference else None)
    return Outcome(text=text, private=False)


@registry.command("sessions")
async def sessions(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """Your open conversations; `#c<number>` picks one in other commands."""
    rows = await actions.sessions_of(request.actor)
    if not rows:
        return Outcome(text="You have no open conversations.")
    lines = [f"• #{public_id(cid)} — {name or 'unknown customer'} ({status})" for cid, status, name in rows]
    return Outcome(text="Your open conversations:\n" + "\n".join(lines))


@registry.command("help")
async def help_(services: Services, request: CommandRequest, args: Args) -> Outcome:
    """This list."""
    prefix = "/baton" if request.platform == "slack" else "@Baton"
    return Outcome(text=registry.help_text(prefix))

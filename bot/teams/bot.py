"""The Teams turn logic: one activity in, dispatched by type (SPEC 4.2, 4.3; PROTOCOLS 2.1–2.2, 3.1).

It only translates: an activity becomes one of the core's typed inputs (`CommandRequest`, `CardAction`,
`FormSubmission`, `ThreadMessage`, a `Handoff`), `bot.core` decides, and the `Outcome` is rendered the
Teams way (an invoke answer that replaces the clicked card, a dialog, a message in the conversation or in
the caller's personal chat).

- `invoke` (card actions, dialogs) is answered synchronously — it must be fast, and it is;
- `event` `handoff.initiate` is stored before it is acknowledged (one intake for every source);
- `message` (commands, thread replies, customer messages, Action.Submit fallbacks) and installs are
  acknowledged at once and worked on afterwards, replying through the Bot Connector.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Mapping

from bot.cards import actions as act
from bot.cards.actions import ActionPayload, form_data, form_ids
from bot.cards.teams import render_lookup_card, render_match_list_card, render_summary_card
from bot.core import actions, events, installs, interactions, roles, threads
from bot.core.intake import accept_handoff
from bot.core.services import Services
from bot.delivery.poster import RetryLater
from bot.domain import Actor, CardAction, CommandRequest, FormSubmission, Outcome, ThreadMessage, public_id
from bot.intake.botframework import is_handoff_initiate, parse_handoff_initiate
from bot.intake.generic import answer_of
from bot.teams import activities as acts
from bot.teams import dialogs
from bot.teams.connector import BotConnector, ConnectorError

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Sorry, that did not work. Try again in a moment, or type `@Baton help`."
# Keys of a card action's data that are not a form's typed values.
_NOT_VALUES = frozenset({act.TEAMS_VERB_KEY, "form", "msteams"})


def _teams_data(form: str, ids: Mapping[str, Any]) -> dict[str, Any]:
    """A form's ids as Teams card data: the conversation as its public id ("c12"), like every card button."""
    data = form_data(form, ids)
    if isinstance(data.get("conversation"), int):
        data["conversation"] = public_id(data["conversation"])
    return data


class TeamsBot:
    def __init__(self, services: Services, connector: BotConnector) -> None:
        self.services = services
        self.connector = connector
        self._tasks: set[asyncio.Task] = set()

    # --- plumbing ------------------------------------------------------------------------------

    def later(self, coroutine, what: str) -> None:
        """Work done after the HTTP answer; failures are logged with ids only."""

        async def guarded() -> None:
            try:
                await coroutine
            except Exception:
                log.exception("teams: %s failed", what)

        task = asyncio.create_task(guarded(), name=f"teams-{what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def actor(self, activity: Mapping[str, Any]) -> Actor:
        sender = acts.sender(activity)
        user_id = acts.text_of(sender.get("id")) or "unknown"
        settings = self.services.settings
        role = roles.role_for(settings, "teams", user_id)
        aad = acts.text_of(sender.get("aadObjectId"))
        if role == "agent" and aad:
            role = roles.role_for(settings, "teams", aad)
        return Actor(platform="teams", user_id=user_id, display_name=acts.text_of(sender.get("name")), role=role,
                     team_id=acts.tenant_id(activity))

    # --- dispatch by activity type -------------------------------------------------------------

    async def on_activity(self, activity: dict[str, Any]) -> tuple[int, Any]:
        kind = activity.get("type")
        if kind == "invoke":
            return 200, await self.on_invoke(activity)
        if kind == "event":
            return await self.on_event(activity)
        if kind in ("conversationUpdate", "installationUpdate"):
            self.later(self.on_install_change(activity), "install")
            return 200, None
        if kind == "message":
            if await self._first_time(activity):
                self.later(self.on_message(activity), "message")
            return 200, None
        return 200, None  # typing, messageReaction, …: nothing to do

    async def _first_time(self, activity: Mapping[str, Any]) -> bool:
        activity_id = acts.text_of(activity.get("id"))
        if not activity_id:
            return True
        key = f"{activity.get('channelId')}:{acts.conversation_id(activity)}:{activity_id}"
        return await events.first_time("bf", key, now=self.services.clock())

    # --- handoff.initiate -----------------------------------------------------------------------

    async def on_event(self, activity: dict[str, Any]) -> tuple[int, Any]:
        if not is_handoff_initiate(activity):
            return 200, None  # handoff.status from another hub and other events: accepted, ignored
        handoff = parse_handoff_initiate(activity)
        services = self.services
        result = await accept_handoff(handoff, targets=services.targets, now=services.clock())
        services.wake()
        # 200 either way (Bot Framework channels expect it); the body says whether it was new, as /handoff does.
        return 200, answer_of(result)

    # --- installs ------------------------------------------------------------------------------

    async def on_install_change(self, activity: Mapping[str, Any]) -> None:
        bot_id = acts.bot_account(activity).get("id")
        added = [acts.mapping(m).get("id") for m in activity.get("membersAdded") or ()]
        removed = [acts.mapping(m).get("id") for m in activity.get("membersRemoved") or ()]
        action = activity.get("action")
        if (bot_id and bot_id in removed) or action == "remove":
            await installs.forget_teams_install(team_id=acts.team_id(activity),
                                                conversation_id=acts.base_conversation_id(acts.conversation_id(activity)),
                                                now=self.services.clock())
            return
        if (bot_id and bot_id in added) or action == "add":
            await self.remember(activity)

    async def remember(self, activity: Mapping[str, Any]) -> None:
        conversation = acts.base_conversation_id(acts.conversation_id(activity))
        service_url = acts.text_of(activity.get("serviceUrl"))
        if not conversation or not service_url:
            return
        await installs.remember_teams_install(
            conversation_id=conversation,
            conversation_type=acts.conversation_type(activity),
            team_id=acts.team_id(activity),
            channel_id=acts.teams_channel_id(activity),
            tenant_id=acts.tenant_id(activity),
            service_url=service_url,
            reference=acts.reference_of(activity, conversation=conversation),
            now=self.services.clock(),
        )

    # --- messages ------------------------------------------------------------------------------

    async def on_message(self, activity: dict[str, Any]) -> None:
        conversation = acts.conversation_id(activity)
        channel = acts.text_of(activity.get("channelId")) or "msteams"
        handed_off = await threads.open_conversation_of(f"botframework:{channel}", conversation)
        if handed_off is not None:
            await self.on_customer_message(activity, handed_off)
            return
        if channel != "msteams" and channel != "emulator":
            return
        if acts.conversation_type(activity) != "personal":
            base = acts.base_conversation_id(conversation)
            if not await installs.teams_installed(base):
                await self.remember(activity)
        value = activity.get("value")
        if isinstance(value, Mapping) and value.get(act.TEAMS_VERB_KEY):
            await self.on_submit_fallback(activity, dict(value))
            return
        thread_conversation = await threads.conversation_of_thread("teams", conversation)
        if acts.conversation_type(activity) == "personal" or acts.mentions_bot(activity):
            await self.on_command(activity, acts.command_text(activity), thread_conversation)
            return
        if thread_conversation is not None:
            await self.on_thread_reply(activity, thread_conversation)

    async def on_customer_message(self, activity: Mapping[str, Any], conversation_id: int) -> None:
        sender = acts.sender(activity)
        if sender.get("role") in ("bot", "skill"):
            return  # the virtual agent's own lines are not the customer's words
        text = activity.get("text") if isinstance(activity.get("text"), str) else ""
        files = _linked_files(activity)
        if not text.strip() and not files:
            return
        await actions.customer_message(self.services, conversation_id, text, sender_name=acts.text_of(sender.get("name")),
                                       attachments=files or None)

    async def on_thread_reply(self, activity: Mapping[str, Any], conversation_id: int) -> None:
        text = acts.plain_text(activity.get("text") or "") if isinstance(activity.get("text"), str) else ""
        files = _linked_files(activity)
        if not text and not files:
            return
        message = ThreadMessage(actor=self.actor(activity), conversation_id=conversation_id, text=text,
                                attachments=tuple(files))
        await interactions.thread_message(self.services, message)

    # --- commands ------------------------------------------------------------------------------

    async def on_command(self, activity: Mapping[str, Any], text: str, thread_conversation: int | None) -> None:
        kind = acts.conversation_type(activity)
        channel_id = acts.teams_channel_id(activity) if kind == "channel" else None
        reference = None
        if channel_id:
            reference = acts.reference_of(activity, conversation=acts.base_conversation_id(acts.conversation_id(activity)))
        request = CommandRequest(actor=self.actor(activity), text=text, platform="teams", channel_id=channel_id,
                                 thread_conversation=thread_conversation, channel_reference=reference)
        try:
            outcome = await interactions.command(self.services, request)
        except (RetryLater, ConnectorError):
            raise
        except Exception:
            log.exception("teams: command failed (activity %s)", activity.get("id"))
            await self.answer(activity, dialogs.message(GENERIC_FAILURE))
            return
        if not outcome.ok:
            await self.answer(activity, dialogs.message(dialogs.safe_text(outcome.text or "Not done.", 4000)))
            return
        await self.render_answer(activity, outcome)

    async def render_answer(self, activity: Mapping[str, Any], outcome: Outcome) -> None:
        """A command's answer: in the conversation when it concerns it, else in the caller's personal chat."""
        messages = self.answer_messages(outcome)
        detailed = bool(outcome.summary or outcome.candidates or outcome.attachment or outcome.link)
        public = not outcome.private or (outcome.conversation_id is not None and not detailed)
        if public or acts.conversation_type(activity) == "personal":
            for message in messages:
                await self.answer(activity, message)
            return
        sent = await self.send_privately(activity, messages)
        name = acts.text_of(acts.sender(activity).get("name")) or "You"
        note = (f"{name}: I sent you the answer in our personal chat." if sent else
                f"{name}: the answer is private, but I cannot message you. Open Baton in Teams' apps (personal "
                "scope) and try again there.")
        await self.answer(activity, dialogs.message(dialogs.safe_text(note, 500)))

    def answer_messages(self, outcome: Outcome) -> list[dict[str, Any]]:
        cards: list[dict[str, Any]] = []
        text: str | None = dialogs.safe_text(outcome.text, 20_000) if outcome.text else None
        if outcome.form is not None:
            cards.append(dialogs.open_form_card(outcome.text or dialogs.FORM_TITLES.get(outcome.form.name, "Baton"),
                                                outcome.form.name, _teams_data(outcome.form.name, outcome.form.ids)))
            text = None
        if outcome.link is not None:
            cards.append(dialogs.link_card(outcome.text, outcome.link))
            text = None
        if outcome.summary is not None:
            cards.append(_summary_card(outcome.summary))
        if outcome.candidates and outcome.form is None:
            cards.append(render_match_list_card(outcome.candidates, ""))
        messages = [dialogs.message(text, cards=cards)]
        if outcome.attachment:
            name, content = outcome.attachment
            messages += [dialogs.message(cards=[page]) for page in dialogs.export_pages(name, content)]
        return messages

    async def answer(self, activity: Mapping[str, Any], message: dict[str, Any]) -> None:
        """A reply in the conversation (and thread) the activity came from."""
        service_url = activity["serviceUrl"]
        conversation = acts.conversation_id(activity)
        body = {**message, "from": acts.bot_account(activity), "conversation": {"id": conversation},
                "recipient": dict(acts.sender(activity))}
        reply_to = acts.text_of(activity.get("id"))
        if reply_to:
            await self.connector.reply(service_url, conversation, reply_to, body)
        else:
            await self.connector.send(service_url, conversation, body)

    async def send_privately(self, activity: Mapping[str, Any], messages: list[dict[str, Any]]) -> bool:
        """Create (or reopen) the 1:1 chat with the caller and post there."""
        user = acts.sender(activity)
        tenant = acts.tenant_id(activity)
        parameters = {
            "isGroup": False,
            "bot": acts.bot_account(activity),
            "members": [{"id": user.get("id")}],
            "channelData": {"tenant": {"id": tenant}} if tenant else {},
            **({"tenantId": tenant} if tenant else {}),
        }
        try:
            created = await self.connector.create_conversation(activity["serviceUrl"], parameters)
        except ConnectorError as refused:
            log.warning("teams: cannot open a personal chat (%s)", refused.status)
            return False
        chat = created.get("id")
        if not chat:
            return False
        for message in messages:
            await self.connector.send(activity["serviceUrl"], chat, {**message, "from": acts.bot_account(activity),
                                                                    "conversation": {"id": chat}})
        return True

    # --- card actions and dialogs --------------------------------------------------------------

    async def act(self, actor: Actor, verb: str, data: Mapping[str, Any]) -> Outcome:
        """A card button's verb and data, as the core's CardAction or (an inline form's submit) FormSubmission."""
        if verb == dialogs.SUBMIT_FORM:
            return await interactions.submit_form(self.services, _submission(actor, data))
        payload = ActionPayload.from_data(data)
        ids = form_ids(data)
        query = data.get(act.TEAMS_INPUT_QUERY)
        action = CardAction(
            actor=actor, verb=verb, conversation_id=ids.get("conversation"), customer_id=payload.customer,
            filter=payload.filter, query=(query if isinstance(query, str) else "") if verb == act.SEARCH_CUSTOMER else None,
            form=data.get("form") if isinstance(data.get("form"), str) else None, ids=ids,
        )
        return await interactions.card_action(self.services, action)

    async def on_submit_fallback(self, activity: Mapping[str, Any], data: dict[str, Any]) -> None:
        """Action.Submit (old clients): a message whose value carries the verb; answer in the conversation."""
        outcome = await self.act(self.actor(activity), str(data[act.TEAMS_VERB_KEY]), data)
        shown = _outcome_card(outcome, inline=False)
        message = dialogs.message(dialogs.safe_text(outcome.text, 4000) if outcome.text and not shown else None,
                                  cards=[shown] if shown else ())
        await self.answer(activity, message)

    async def on_invoke(self, activity: Mapping[str, Any]) -> dict[str, Any]:
        name = activity.get("name")
        value = acts.mapping(activity.get("value"))
        actor = self.actor(activity)
        if name == "adaptiveCard/action":
            action = acts.mapping(value.get("action"))
            data = dict(acts.mapping(action.get("data")))
            verb = acts.text_of(action.get("verb")) or acts.text_of(data.get(act.TEAMS_VERB_KEY)) or ""
            outcome = await self.act(actor, verb, data)
            shown = _outcome_card(outcome, inline=True) if outcome.ok else None
            return dialogs.invoke_card(shown) if shown else dialogs.invoke_message(outcome.text or "Done.")
        if name == "task/fetch":
            data = dict(acts.mapping(value.get("data")))
            form = acts.text_of(data.get("form")) or ""
            outcome = await interactions.open_form_for(self.services, actor, form, form_ids(data))
            if outcome.form is None:
                return dialogs.task_message(outcome.text or "That form is not one Baton knows.")
            title = dialogs.FORM_TITLES.get(outcome.form.name, "Baton")
            return dialogs.task_continue(title, dialogs.form_card(outcome.form, inline=False))
        if name == "task/submit":
            data = dict(acts.mapping(value.get("data")))
            outcome = await interactions.submit_form(self.services, _submission(actor, data))
            return dialogs.task_message(outcome.text or "Done.")
        return {}


def _summary_card(summary) -> dict[str, Any]:
    return render_summary_card(summary) if summary.conversation else render_lookup_card(summary)


def _outcome_card(outcome: Outcome, *, inline: bool) -> dict[str, Any] | None:
    """What replaces the clicked card: a form, a private view, or the card as it stands now."""
    if outcome.form is not None:
        return dialogs.form_card(outcome.form, inline=inline)
    if outcome.link is not None:
        return dialogs.link_card(outcome.text, outcome.link, conversation=public_id(outcome.conversation_id)
                                 if outcome.conversation_id else None)
    if outcome.summary is not None:
        return _summary_card(outcome.summary)
    if outcome.card is not None:
        return render_summary_card(outcome.card)
    return None


def _submission(actor: Actor, data: Mapping[str, Any]) -> FormSubmission:
    """Teams merges a card's inputs into its action data: the inputs are the form's values by field name."""
    values = {key: value for key, value in data.items() if key not in _NOT_VALUES}
    return FormSubmission(actor=actor, form=str(data.get("form") or ""), ids=form_ids(data), values=values)


def _linked_files(activity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The attachments of a message that point at a file by URL (cards and inline HTML have none)."""
    return [
        {"name": a.get("name") or "attachment", "url": a.get("contentUrl"), "content_type": a.get("contentType")}
        for a in (acts.mapping(x) for x in activity.get("attachments") or ())
        if str(a.get("contentUrl") or "").startswith(("https://", "http://"))
    ]

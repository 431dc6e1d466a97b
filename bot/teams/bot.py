"""The Teams turn logic: one activity in, dispatched by type (SPEC 4.2, 4.3; PROTOCOLS 2.1–2.2, 3.1).

- `invoke` (card actions, dialogs) is answered synchronously — it must be fast, and it is;
- `event` `handoff.initiate` is stored before it is acknowledged (one intake for every source);
- `message` (commands, thread replies, customer messages, Action.Submit fallbacks) and installs are
  acknowledged at once and worked on afterwards, replying through the Bot Connector.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from aiohttp import web

from bot.cards import actions as act
from bot.cards.actions import ActionPayload
from bot.cards.teams import render_lookup_card, render_match_list_card, render_summary_card
from bot.commands.builtin import registry
from bot.core import actions
from bot.core.actions import Services
from bot.core.intake import accept_handoff
from bot.delivery.poster import RetryLater
from bot.domain import Actor, CommandRequest, Reply
from bot.errors import UserError
from bot.intake.botframework import is_handoff_initiate, parse_handoff_initiate
from bot.teams import activities as acts
from bot.teams import dialogs
from bot.teams.connector import BotConnector, ConnectorError
from storage import posts, teams_store
from storage.intake import parse_public_id, public_id

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Sorry, that did not work. Try again in a moment, or type `@Baton help`."


@dataclass
class CardResult:
    """What a card action answers: a card (replaces the caller's card / is sent) or a short text."""

    card: dict[str, Any] | None = None
    text: str | None = None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class TeamsBot:
    def __init__(self, app: web.Application, connector: BotConnector) -> None:
        self.app = app
        self.connector = connector
        self._tasks: set[asyncio.Task] = set()

    # --- plumbing ------------------------------------------------------------------------------

    @property
    def services(self) -> Services:
        from bot.web.app import services_of

        return services_of(self.app)

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
        role = actions.role_for(settings, "teams", user_id)
        aad = acts.text_of(sender.get("aadObjectId"))
        if role == "agent" and aad:
            role = actions.role_for(settings, "teams", aad)
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
        key = f"bf:{activity.get('channelId')}:{acts.conversation_id(activity)}:{activity_id}"
        return await teams_store.first_time(key, self.services.clock())

    # --- handoff.initiate -----------------------------------------------------------------------

    async def on_event(self, activity: dict[str, Any]) -> tuple[int, Any]:
        if not is_handoff_initiate(activity):
            return 200, None  # handoff.status from another hub and other events: accepted, ignored
        handoff = parse_handoff_initiate(activity)
        services = self.services
        result = await accept_handoff(handoff, targets=services.targets, now=services.clock())
        services.wake()
        # 200 either way (Bot Framework channels expect it); the body says whether it was new, as /handoff does.
        return 200, {"conversation": result.conversation_public_id, "status": "queued" if result.created else "existing"}

    # --- installs ------------------------------------------------------------------------------

    async def on_install_change(self, activity: Mapping[str, Any]) -> None:
        bot_id = acts.bot_account(activity).get("id")
        added = [acts.mapping(m).get("id") for m in activity.get("membersAdded") or ()]
        removed = [acts.mapping(m).get("id") for m in activity.get("membersRemoved") or ()]
        action = activity.get("action")
        now = self.services.clock()
        if (bot_id and bot_id in removed) or action == "remove":
            await teams_store.mark_removed(team_id=acts.team_id(activity),
                                           conversation_id=acts.base_conversation_id(acts.conversation_id(activity)),
                                           now=now)
            return
        if (bot_id and bot_id in added) or action == "add":
            await self.remember(activity)

    async def remember(self, activity: Mapping[str, Any]) -> None:
        conversation = acts.base_conversation_id(acts.conversation_id(activity))
        service_url = acts.text_of(activity.get("serviceUrl"))
        if not conversation or not service_url:
            return
        await teams_store.save_install(
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
        handed_off = await teams_store.handed_off_conversation(f"botframework:{channel}", conversation)
        if handed_off is not None:
            await self.on_customer_message(activity, handed_off)
            return
        if channel != "msteams" and channel != "emulator":
            return
        if acts.conversation_type(activity) != "personal":
            base = acts.base_conversation_id(conversation)
            if not await teams_store.is_installed(base):
                await self.remember(activity)
        value = activity.get("value")
        if isinstance(value, Mapping) and value.get(act.TEAMS_VERB_KEY):
            await self.on_submit_fallback(activity, dict(value))
            return
        thread_conversation = await posts.find_conversation_by_thread("teams", conversation)
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
        await actions.thread_message(self.services, self.actor(activity), conversation_id, text, platform="teams",
                                     attachments=files or None)

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
            reply = await registry.dispatch(self.services, request)
        except UserError as refusal:
            await self.answer(activity, dialogs.message(dialogs.safe_text(str(refusal), 4000)))
            return
        except (RetryLater, ConnectorError):
            raise
        except Exception:
            log.exception("teams: command failed (activity %s)", activity.get("id"))
            await self.answer(activity, dialogs.message(GENERIC_FAILURE))
            return
        await self.render_reply(activity, reply)

    async def render_reply(self, activity: Mapping[str, Any], reply: Reply) -> None:
        messages = self.reply_messages(reply)
        detailed = bool(reply.summary or reply.candidates or reply.attachment)
        public = not reply.private or (reply.conversation_id is not None and not detailed)
        if public or acts.conversation_type(activity) == "personal":
            for message in messages:
                await self.answer(activity, message)
        else:
            sent = await self.send_privately(activity, messages)
            name = acts.text_of(acts.sender(activity).get("name")) or "You"
            note = (f"{name}: I sent you the answer in our personal chat." if sent else
                    f"{name}: the answer is private, but I cannot message you. Open Baton in Teams' apps (personal "
                    "scope) and try again there.")
            await self.answer(activity, dialogs.message(dialogs.safe_text(note, 500)))
        if reply.thread_text and reply.conversation_id is not None:
            await self.post_in_thread(reply.conversation_id, reply.thread_text)

    def reply_messages(self, reply: Reply) -> list[dict[str, Any]]:
        cards: list[dict[str, Any]] = []
        text: str | None = dialogs.safe_text(reply.text, 20_000)
        if reply.form:
            ids = {k: reply.form_values.get(k) for k in ("conversation", "customer", "survivor", "merged", "logs")}
            cards.append(dialogs.open_form_card(reply.text, reply.form, ids))
            text = None
        if reply.summary is not None:
            cards.append(render_summary_card(reply.summary) if reply.summary.conversation else
                         render_lookup_card(reply.summary))
        if reply.candidates:
            cards.append(render_match_list_card(reply.candidates, ""))
        messages = [dialogs.message(text, cards=cards)]
        if reply.attachment:
            name, content = reply.attachment
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

    async def post_in_thread(self, conversation_id: int, text: str) -> None:
        root = await posts.get_root("teams", conversation_id)
        poster = self.poster
        if root is None or not root.thread_ref or poster is None:
            return
        await poster.post_text(root.channel or "", root.thread_ref, dialogs.safe_text(text))

    @property
    def poster(self):
        from bot.teams.poster import TeamsPoster
        from bot.web.app import POSTERS

        poster = self.app[POSTERS].get("teams")
        return poster if isinstance(poster, TeamsPoster) else None

    # --- card actions --------------------------------------------------------------------------

    async def on_submit_fallback(self, activity: Mapping[str, Any], data: dict[str, Any]) -> None:
        """Action.Submit (old clients): a message whose value carries the verb; answer in the conversation."""
        try:
            result = await self.card_action(self.actor(activity), data[act.TEAMS_VERB_KEY], data, inline=False)
        except UserError as refusal:
            result = CardResult(text=str(refusal))
        message = dialogs.message(dialogs.safe_text(result.text, 4000) if result.text else None,
                                  cards=[result.card] if result.card else ())
        await self.answer(activity, message)

    async def on_invoke(self, activity: Mapping[str, Any]) -> dict[str, Any]:
        name = activity.get("name")
        value = acts.mapping(activity.get("value"))
        actor = self.actor(activity)
        try:
            if name == "adaptiveCard/action":
                action = acts.mapping(value.get("action"))
                data = dict(acts.mapping(action.get("data")))
                verb = acts.text_of(action.get("verb")) or acts.text_of(data.get(act.TEAMS_VERB_KEY)) or ""
                result = await self.card_action(actor, verb, data, inline=True)
                return dialogs.invoke_card(result.card) if result.card else dialogs.invoke_message(result.text or "Done.")
            if name == "task/fetch":
                data = dict(acts.mapping(value.get("data")))
                form = await self.form_card(actor, data, inline=False)
                return dialogs.task_continue(dialogs.FORM_TITLES.get(str(data.get("form")), "Baton"), form)
            if name == "task/submit":
                data = dict(acts.mapping(value.get("data")))
                text, _ = await self.perform_form(actor, data)
                return dialogs.task_message(text)
        except UserError as refusal:
            if name in ("task/fetch", "task/submit"):
                return dialogs.task_message(str(refusal))
            return dialogs.invoke_message(str(refusal))
        return {}

    async def card_action(self, actor: Actor, verb: str, data: dict[str, Any], *, inline: bool) -> CardResult:
        services = self.services
        payload = ActionPayload.from_data(data)
        conversation = parse_public_id(payload.conversation) if payload.conversation else None
        if verb == act.CLAIM:
            claimed = await actions.claim(services, actor, self._need(conversation))
            if not claimed.won:
                return CardResult(text=claimed.text)
            return CardResult(card=await self.conversation_card(actor, conversation))
        if verb in (act.ADD_NOTE, act.WRAP_UP, act.OPEN_PROFILE, dialogs.OPEN_FORM):
            form = {act.ADD_NOTE: "note", act.WRAP_UP: "wrapup", act.OPEN_PROFILE: "profile"}.get(verb) or data.get("form")
            return CardResult(card=await self.form_card(actor, {**data, "form": form}, inline=inline))
        if verb == act.LINK_CUSTOMER:
            if payload.customer is None:
                raise UserError("Choose a customer first.")
            await actions.link_customer(services, actor, self._need(conversation), payload.customer)
            return CardResult(card=await self.conversation_card(actor, conversation))
        if verb == act.SEARCH_CUSTOMER:
            query = (acts.text_of(data.get(act.TEAMS_INPUT_QUERY)) or "")
            if not query:
                raise UserError("Type an email, phone, name or case number to search.")
            found = await actions.find_customers(query)
            if not found:
                return CardResult(text=f"No customer matches “{query}”.")
            if len(found) == 1:
                await actions.link_customer(services, actor, self._need(conversation), found[0].customer_id)
                return CardResult(card=await self.conversation_card(actor, conversation))
            return CardResult(card=dialogs.link_picker(public_id(self._need(conversation)), found, query))
        if verb == act.CREATE_CUSTOMER:
            await actions.create_customer_for(services, actor, self._need(conversation))
            return CardResult(card=await self.conversation_card(actor, conversation))
        if verb == act.TIMELINE_FILTER:
            chosen = None if payload.filter in (None, "all") else payload.filter
            if conversation is not None:
                return CardResult(card=await self.conversation_card(actor, conversation, chosen))
            summary = await actions.customer_view(services, actor, self._need(payload.customer), timeline_filter=chosen)
            return CardResult(card=render_lookup_card(summary))
        if verb == act.SHOW_CUSTOMER:
            summary = await actions.customer_view(services, actor, self._need(payload.customer), action="lookup")
            return CardResult(card=render_lookup_card(summary))
        if verb == dialogs.SUBMIT_FORM:
            text, conversation = await self.perform_form(actor, data)
            if conversation is not None:
                return CardResult(card=await self.conversation_card(actor, conversation))
            return CardResult(text=text)
        if verb == dialogs.REFRESH:
            if conversation is not None:
                return CardResult(card=await self.conversation_card(actor, conversation))
            if payload.customer is not None:
                return CardResult(card=render_lookup_card(await actions.customer_view(services, actor, payload.customer)))
            return CardResult(text="Nothing to refresh.")
        raise UserError("That button is not one Baton knows. Try `@Baton help`.")

    @staticmethod
    def _need(value: int | None) -> int:
        if value is None:
            raise UserError("This card no longer says which conversation or customer it is about.")
        return value

    async def conversation_card(self, actor: Actor, conversation_id: int, timeline_filter: str | None = None) -> dict:
        summary = await actions.conversation_view(self.services, actor, conversation_id, timeline_filter=timeline_filter)
        return render_summary_card(summary)

    # --- dialogs -------------------------------------------------------------------------------

    async def form_card(self, actor: Actor, data: Mapping[str, Any], *, inline: bool) -> dict[str, Any]:
        form = data.get("form")
        services = self.services
        conversation = parse_public_id(str(data.get("conversation") or ""))
        if form == "note":
            return dialogs.note_form(public_id(self._need(conversation)), inline=inline)
        if form == "wrapup":
            logs = data.get("logs") in (True, "true")
            return dialogs.wrapup_form(public_id(self._need(conversation)), actions.disposition_codes(services.settings),
                                       logs=logs, inline=inline)
        if form == "profile":
            customer = _int(data.get("customer"))
            summary = await actions.customer_view(services, actor, self._need(customer))
            p = summary.profile
            values = {name: getattr(p, name) for name, _, _ in dialogs.PROFILE_FIELDS if name != "tags"}
            values["tags"] = ", ".join(p.tags)
            return dialogs.profile_form(p.customer_id, values, locked=p.locked, inline=inline,
                                        conversation=public_id(conversation) if conversation else None)
        if form == "merge_confirm":
            survivor, merged = self._need(_int(data.get("survivor"))), self._need(_int(data.get("merged")))
            survivor_name, merged_name = await actions.check_mergeable(services, actor, survivor, merged)
            return dialogs.merge_form(survivor, merged, survivor_name, merged_name, inline=inline)
        if form == "anonymize_confirm":
            candidate = await actions.one_customer(str(self._need(_int(data.get("customer")))))
            actions.require(services.settings, actor, "anonymize")
            return dialogs.anonymize_form(candidate.customer_id, candidate.display_name, inline=inline)
        raise UserError("That form is not one Baton knows.")

    async def perform_form(self, actor: Actor, data: Mapping[str, Any]) -> tuple[str, int | None]:
        """A submitted dialog: (text for the caller, the conversation whose card to show, if any)."""
        form = data.get("form")
        services = self.services
        conversation = parse_public_id(str(data.get("conversation") or ""))
        if form == "note":
            text = data.get("text") if isinstance(data.get("text"), str) else ""
            return await actions.add_note(services, actor, self._need(conversation), text), conversation
        if form == "wrapup":
            code = acts.text_of(data.get("code"))
            if not code:
                raise UserError("Choose a disposition code.")
            notes = data.get("notes") if isinstance(data.get("notes"), str) else None
            conversation = self._need(conversation)
            text = await actions.wrap_up(services, actor, conversation, code, notes)
            if data.get("logs") in (True, "true"):
                self.later(self.post_in_thread(conversation, await actions.interaction_log(conversation)), "log")
            return text, conversation
        if form == "profile":
            customer = self._need(_int(data.get("customer")))
            changes = {name: data.get(name) for name, _, _ in dialogs.PROFILE_FIELDS if isinstance(data.get(name), str)}
            return await actions.save_profile(services, actor, customer, changes), conversation
        if form == "merge_confirm":
            survivor, merged = self._need(_int(data.get("survivor"))), self._need(_int(data.get("merged")))
            return await actions.merge_customers(services, actor, survivor, merged), None
        if form == "anonymize_confirm":
            return await actions.anonymize(services, actor, self._need(_int(data.get("customer")))), None
        raise UserError("That form is not one Baton knows.")


def _linked_files(activity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The attachments of a message that point at a file by URL (cards and inline HTML have none)."""
    return [
        {"name": a.get("name") or "attachment", "url": a.get("contentUrl"), "content_type": a.get("contentType")}
        for a in (acts.mapping(x) for x in activity.get("attachments") or ())
        if str(a.get("contentUrl") or "").startswith(("https://", "http://"))
    ]

"""Baton's Slack listeners: slash command, @mentions, thread replies, card buttons, shortcuts and modals.

Each listener turns Slack's payload into Baton's typed values (Actor, CommandRequest), calls the core
(bot.core.actions, the command registry) and renders the answer back: ephemeral text, a modal, a file.
Interactive payloads are acknowledged first; the work runs after the ack (bolt's async runner keeps the
listener going after the HTTP answer). Modal submissions validate before their ack so errors show in
the form.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import actions as card_actions
from bot.cards.actions import ActionPayload
from bot.cards.slack import render_lookup_blocks, render_summary_blocks, summary_fallback_text
from bot.commands.builtin import registry
from bot.core import actions
from bot.domain import Actor, CommandRequest, Reply
from bot.errors import UserError
from bot.slack import modals
from storage import posts, slack_store
from storage.intake import parse_public_id, public_id

log = logging.getLogger(__name__)

SLASH_COMMAND = "/baton"
# Message shortcuts: callback_id → the name manifest.json gives them.
SHORTCUTS: Mapping[str, str] = {"baton_add_note": "Add note", "baton_comment_on_case": "Comment on case"}
BOT_EVENTS: tuple[str, ...] = ("app_mention", "message.channels", "message.groups", "message.im")
GENERIC_ERROR = "Sorry, that did not work because of a problem on Baton's side. It has been logged; please try again."
NAME_CACHE_SECONDS = 3600.0
FORM_BUTTON_VALUE = 2000
# Message subtypes that are still a person typing in the thread.
USER_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_CARD_ACTION = re.compile(r"^baton_(" + "|".join(card_actions.VERBS) + r")(\..*)?$")
_LEADING_MENTION = re.compile(r"^\s*<@([A-Z0-9]+)(\|[^>]*)?>[\s:,]*")


@dataclass
class Where:
    """Where to answer: the channel and thread the user acted in, and how Slack lets us reach them."""

    client: AsyncWebClient
    user_id: str
    channel_id: str | None
    thread_ts: str | None = None
    trigger_id: str | None = None
    respond: Callable[..., Awaitable[Any]] | None = None  # slash commands: the response_url
    team_id: str | None = None
    enterprise_id: str | None = None
    direct: bool = False  # the app's own DM with the user: answers are plain messages there

    def meta(self, **values: Any) -> str:
        return modals.metadata(ch=self.channel_id, th=self.thread_ts, **values)


def slack_to_plain(text: str) -> str:
    """A Slack message's text as a person would read it (for relaying to the customer)."""

    def link(match: re.Match) -> str:
        inner = match.group(1)
        target, _, shown = inner.partition("|")
        if target.startswith("@"):
            return "@" + (shown or target[1:])
        if target.startswith("#"):
            return "#" + (shown or target[1:])
        if target.startswith("!"):
            return "@" + (shown or target[1:].split("^")[0])
        return f"{shown} ({target})" if shown and shown != target else target

    text = re.sub(r"<([^<>]+)>", link, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class SlackHandlers:
    """The listeners, bound to one Baton aiohttp app (its services: settings, clock, outbox worker)."""

    def __init__(self, web_app: web.Application) -> None:
        self.web_app = web_app
        self._names: dict[tuple[str | None, str], tuple[str | None, float]] = {}

    @property
    def services(self) -> actions.Services:
        from bot.web.app import services_of

        return services_of(self.web_app)

    # --- who ------------------------------------------------------------------------------------

    async def display_name(self, client: AsyncWebClient, team_id: str | None, user_id: str, fallback: str | None) -> str | None:
        key = (team_id, user_id)
        cached = self._names.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0] or fallback
        name = None
        try:
            answer = await client.users_info(user=user_id)
            user = answer.get("user") or {}
            profile = user.get("profile") or {}
            name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
        except SlackApiError as error:
            log.info("users.info for %s failed: %s", user_id, error.response.get("error"))
        except Exception:  # a name is nice to have; never fail the action for it
            log.warning("users.info for %s failed", user_id, exc_info=True)
        if len(self._names) > 10_000:
            self._names.clear()
        self._names[key] = (name, time.monotonic() + NAME_CACHE_SECONDS)
        return name or fallback

    async def actor(self, client: AsyncWebClient, body: Mapping[str, Any], user_id: str, fallback: str | None) -> Actor:
        team_id = _team_id(body)
        name = await self.display_name(client, team_id, user_id, fallback)
        settings = self.services.settings
        return Actor(platform="slack", user_id=user_id, display_name=name,
                     role=actions.role_for(settings, "slack", user_id), team_id=team_id)

    # --- answering --------------------------------------------------------------------------------

    async def tell(self, where: Where, message: str | dict[str, Any], *, public: bool = False) -> None:
        """Ephemeral (or, with `public`, visible) answer where the user acted."""
        kwargs = message if isinstance(message, dict) else {"text": modals.fallback(message),
                                                           "blocks": modals.text_blocks(message)}
        if where.respond is not None:
            await where.respond(response_type="in_channel" if public else "ephemeral", replace_original=False, **kwargs)
            return
        if where.channel_id is None or where.direct:
            await where.client.chat_postMessage(channel=where.channel_id or where.user_id, **kwargs)
            return
        if public:
            await where.client.chat_postMessage(channel=where.channel_id, thread_ts=where.thread_ts, **kwargs)
            return
        try:
            await where.client.chat_postEphemeral(channel=where.channel_id, user=where.user_id,
                                                  thread_ts=where.thread_ts, **kwargs)
        except SlackApiError as error:  # e.g. a DM with the app Baton is not part of: answer in the app's DM
            log.info("ephemeral answer failed (%s); answering in the app DM", error.response.get("error"))
            await where.client.chat_postMessage(channel=where.user_id, **kwargs)

    async def guarded(self, where: Where, what: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work`; a UserError is shown to the user as is, anything else is logged and apologised for."""
        try:
            await work()
        except UserError as error:
            await self._safe_tell(where, str(error))
        except Exception:
            log.exception("slack %s failed (team %s, user %s, channel %s)", what, where.team_id, where.user_id, where.channel_id)
            await self._safe_tell(where, GENERIC_ERROR)

    async def _safe_tell(self, where: Where, text: str) -> None:
        try:
            await self.tell(where, text)
        except Exception:
            log.exception("could not answer user %s in %s", where.user_id, where.channel_id)

    # --- commands -----------------------------------------------------------------------------------

    async def run_command(self, request: CommandRequest, where: Where) -> None:
        async def work() -> None:
            reply = await registry.dispatch(self.services, request)
            await self.render_reply(reply, request, where)

        await self.guarded(where, "command", work)

    async def render_reply(self, reply: Reply, request: CommandRequest, where: Where) -> None:
        if reply.form:
            await self.open_form(reply, request, where)
            return
        if reply.attachment is not None:
            await self.send_file(reply, where)
        else:
            await self.tell(where, modals.reply_message(reply), public=not reply.private)
        if reply.thread_text:
            await self.post_in_thread(where, reply.conversation_id, reply.thread_text, "Interaction log")

    async def open_form(self, reply: Reply, request: CommandRequest, where: Where) -> None:
        if where.trigger_id is None:
            value = json.dumps({"t": request.text, "c": request.thread_conversation}, separators=(",", ":"))
            if len(value) > FORM_BUTTON_VALUE:
                await self.tell(where, reply.text + "\n(Too long to open as a form here; use `/baton` at the channel root.)")
                return
            await self.tell(where, modals.form_button_message(reply, value))
            return
        values = dict(reply.form_values)
        if reply.form == "wrapup":
            conversation_id = reply.conversation_id or parse_public_id(str(values.get("conversation")))
            view = modals.wrapup_modal(public_id(conversation_id), values.get("codes") or [], logs=bool(values.get("logs")),
                                       meta=where.meta(conv=conversation_id))
        elif reply.form == "profile":
            view = modals.profile_modal(values, meta=where.meta(customer=values.get("customer")))
        elif reply.form == "merge_confirm":
            view = modals.merge_modal(values, meta=where.meta(survivor=values.get("survivor"), merged=values.get("merged")))
        elif reply.form == "anonymize_confirm":
            view = modals.anonymize_modal(values, meta=where.meta(customer=values.get("customer")))
        elif reply.form == "note":
            conversation_id = reply.conversation_id
            view = modals.note_modal(public_id(conversation_id), meta=where.meta(conv=conversation_id))
        else:
            log.warning("reply asks for unknown form %s", reply.form)
            await self.tell(where, reply.text)
            return
        await where.client.views_open(trigger_id=where.trigger_id, view=view)

    async def send_file(self, reply: Reply, where: Where) -> None:
        """An export goes to a DM with the caller only; if Slack refuses, the caller is told so."""
        name, content = reply.attachment
        try:
            opened = await where.client.conversations_open(users=where.user_id)
            dm = opened["channel"]["id"]
            await where.client.files_upload_v2(channel=dm, filename=name, content=content.decode("utf-8"), title=name,
                                               initial_comment=modals.fallback(reply.text))
        except SlackApiError as error:
            log.warning("export upload failed: %s", error.response.get("error"))
            await self.tell(where, f"{reply.text} I could not send the file to your direct messages "
                                   f"({error.response.get('error')}); ask an admin to check Baton's files:write and im:write scopes.")
            return
        await self.tell(where, f"{reply.text} Sent to your direct messages with Baton.")

    async def post_in_thread(self, where: Where, conversation_id: int | None, text: str, title: str) -> None:
        root = await posts.get_root("slack", conversation_id) if conversation_id is not None else None
        from bot.slack.poster import split_channel

        channel, thread_ts = (split_channel(root.channel)[0], root.thread_ref) if root and root.channel else (None, None)
        for message in modals.log_messages(text, title):
            if channel:
                await where.client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
            else:
                await self.tell(where, message)

    # --- registration -------------------------------------------------------------------------------

    def register(self, bolt: AsyncApp) -> None:
        bolt.middleware(self.dedupe_events)
        bolt.command(SLASH_COMMAND)(self.on_slash_command)
        bolt.event("app_mention")(self.on_mention)
        bolt.event("message")(self.on_message)
        bolt.action(modals.OPEN_FORM_ACTION)(self.on_open_form)
        bolt.action(_CARD_ACTION)(self.on_card_action)
        shortcuts = {"baton_add_note": self.on_note_shortcut, "baton_comment_on_case": self.on_comment_shortcut}
        assert shortcuts.keys() == SHORTCUTS.keys(), "SHORTCUTS and manifest.json name the registered shortcuts"
        for callback_id, listener in shortcuts.items():
            bolt.shortcut(callback_id)(listener)
        bolt.view(modals.NOTE)(self.on_note_submitted)
        bolt.view(modals.COMMENT)(self.on_comment_submitted)
        bolt.view(modals.WRAPUP)(self.on_wrapup_submitted)
        bolt.view(modals.PROFILE)(self.on_profile_submitted)
        bolt.view(modals.MERGE)(self.on_merge_submitted)
        bolt.view(modals.ANONYMIZE)(self.on_anonymize_submitted)
        bolt.view(modals.SEARCH)(self.on_search_submitted)
        bolt.view(modals.PICK)(self.on_pick_submitted)
        bolt.error(self.on_error)

    async def on_error(self, error: Exception, body: dict, logger: logging.Logger) -> None:
        log.error("slack listener failed (%s, team %s): %s", body.get("type"), _team_id(body), type(error).__name__,
                  exc_info=error)

    # --- events ---------------------------------------------------------------------------------

    async def dedupe_events(self, body: dict, next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        """Slack re-sends an event it thinks was lost (X-Slack-Retry-Num); each event_id is handled once."""
        event_id = body.get("event_id") if isinstance(body, dict) and body.get("type") == "event_callback" else None
        if event_id:
            key = f"slack:{body.get('team_id') or _team_id(body) or '-'}:{event_id}"
            if not await slack_store.first_time_seen(key, now=self.services.clock()):
                log.info("slack event %s already handled; ignoring the retry", event_id)
                return BoltResponse(status=200, body="")
        await next()
        return None

    async def on_slash_command(self, ack, body: dict, client: AsyncWebClient, respond) -> None:
        await ack()
        where = Where(client, body["user_id"], body.get("channel_id"), trigger_id=body.get("trigger_id"), respond=respond,
                      team_id=body.get("team_id"), enterprise_id=body.get("enterprise_id"))
        actor = await self.actor(client, body, body["user_id"], body.get("user_name"))
        request = CommandRequest(actor=actor, text=body.get("text") or "", platform="slack", channel_id=body.get("channel_id"),
                                 thread_conversation=None, channel_reference=_channel_reference(body))
        await self.run_command(request, where)

    async def on_mention(self, event: dict, body: dict, client: AsyncWebClient, context) -> None:
        text = event.get("text") or ""
        match = _LEADING_MENTION.match(text)
        if not match or (context.bot_user_id and match.group(1) != context.bot_user_id):
            return  # Baton named mid-sentence: a thread message, handled by on_message
        user_id = event.get("user")
        if not user_id:
            return
        thread_ts = event.get("thread_ts")
        conversation = await posts.find_conversation_by_thread("slack", thread_ts) if thread_ts else None
        where = Where(client, user_id, event.get("channel"), thread_ts=thread_ts, team_id=_team_id(body))
        actor = await self.actor(client, body, user_id, None)
        request = CommandRequest(actor=actor, text=text[match.end():].strip(), platform="slack",
                                 channel_id=event.get("channel"), thread_conversation=conversation,
                                 channel_reference=_channel_reference(body))
        await self.run_command(request, where)

    async def on_message(self, event: dict, body: dict, client: AsyncWebClient, context) -> None:
        if event.get("subtype") not in USER_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        thread_ts = event.get("thread_ts")
        text = event.get("text") or ""
        if event.get("channel_type") == "im" and not thread_ts:
            await self.on_direct_message(event, body, client, text)
            return
        if not thread_ts or thread_ts == event.get("ts"):
            return
        match = _LEADING_MENTION.match(text)
        if match and (not context.bot_user_id or match.group(1) == context.bot_user_id):
            return  # an @Baton command: on_mention handles it
        conversation = await posts.find_conversation_by_thread("slack", thread_ts)
        if conversation is None:
            return
        where = Where(client, event["user"], event.get("channel"), thread_ts=thread_ts, team_id=_team_id(body))
        # `team` picks the workspace token that can fetch the file again for the customer (bot/delivery/files.py).
        files = [{"name": f.get("name") or f.get("title") or "file", "url": f.get("url_private") or f.get("permalink"),
                  "content_type": f.get("mimetype"), "team": _team_id(body)} for f in event.get("files") or []]

        async def work() -> None:
            actor = await self.actor(client, body, event["user"], None)
            await actions.thread_message(self.services, actor, conversation, slack_to_plain(text), platform="slack",
                                         attachments=files or None)

        await self.guarded(where, "thread message", work)

    async def on_direct_message(self, event: dict, body: dict, client: AsyncWebClient, text: str) -> None:
        """In the app's DM every message is a command (as `/baton` there would be); answers stay in the DM."""
        match = _LEADING_MENTION.match(text)
        command = text[match.end():] if match else text
        where = Where(client, event["user"], event.get("channel"), team_id=_team_id(body), direct=True)
        actor = await self.actor(client, body, event["user"], None)
        request = CommandRequest(actor=actor, text=command.strip(), platform="slack", channel_id=event.get("channel"),
                                 thread_conversation=None, channel_reference=_channel_reference(body))
        await self.run_command(request, where)

    # --- card buttons -------------------------------------------------------------------------------

    def _where_from_interaction(self, body: dict, client: AsyncWebClient) -> Where:
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        # A click on the card (the thread's root) is answered beside the card in the channel; a click on a
        # message inside a thread is answered in that thread.
        thread_ts = container.get("thread_ts")
        return Where(client, body["user"]["id"], channel, thread_ts=thread_ts, trigger_id=body.get("trigger_id"),
                     team_id=_team_id(body), enterprise_id=(body.get("enterprise") or {}).get("id"))

    async def on_open_form(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        where = self._where_from_interaction(body, client)
        try:
            data = json.loads(action.get("value") or "{}")
        except ValueError:
            data = {}
        actor = await self.actor(client, body, where.user_id, body["user"].get("name"))
        request = CommandRequest(actor=actor, text=str(data.get("t") or ""), platform="slack", channel_id=where.channel_id,
                                 thread_conversation=data.get("c"), channel_reference=_channel_reference(body))
        await self.run_command(request, where)

    async def on_card_action(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        where = self._where_from_interaction(body, client)
        verb = card_actions.verb_of_slack_action_id(action.get("action_id") or "")
        value = action.get("value") or (action.get("selected_option") or {}).get("value")
        payload = ActionPayload.from_value(value)

        async def work() -> None:
            actor = await self.actor(client, body, where.user_id, body["user"].get("name") or body["user"].get("username"))
            await self.card_action(verb, payload, actor, where)

        await self.guarded(where, f"card action {verb}", work)

    async def card_action(self, verb: str | None, payload: ActionPayload, actor: Actor, where: Where) -> None:
        services = self.services
        conversation_id = parse_public_id(payload.conversation) if payload.conversation else None
        needs_conversation = {card_actions.CLAIM, card_actions.ADD_NOTE, card_actions.WRAP_UP, card_actions.LINK_CUSTOMER,
                              card_actions.SEARCH_CUSTOMER, card_actions.CREATE_CUSTOMER}
        if verb in needs_conversation and conversation_id is None:
            raise UserError("This button does not say which conversation it is for.")
        if verb == card_actions.CLAIM:
            result = await actions.claim(services, actor, conversation_id)
            await self.tell(where, result.text)
        elif verb == card_actions.ADD_NOTE:
            await where.client.views_open(trigger_id=where.trigger_id,
                                          view=modals.note_modal(payload.conversation, meta=where.meta(conv=conversation_id)))
        elif verb == card_actions.WRAP_UP:
            request = CommandRequest(actor=actor, text=f"wrapup #{public_id(conversation_id)}", platform="slack",
                                     channel_id=where.channel_id, thread_conversation=conversation_id)
            reply = await registry.dispatch(services, request)
            await self.render_reply(reply, request, where)
        elif verb == card_actions.LINK_CUSTOMER:
            if payload.customer is None:
                raise UserError("Pick a customer to link.")
            await self.tell(where, await actions.link_customer(services, actor, conversation_id, payload.customer))
        elif verb == card_actions.SEARCH_CUSTOMER:
            await where.client.views_open(trigger_id=where.trigger_id,
                                          view=modals.search_modal(payload.conversation, meta=where.meta(conv=conversation_id)))
        elif verb == card_actions.CREATE_CUSTOMER:
            await self.tell(where, await actions.create_customer_for(services, actor, conversation_id))
        elif verb == card_actions.OPEN_PROFILE:
            if payload.customer is None:
                raise UserError("This conversation is not linked to a customer yet.")
            request = CommandRequest(actor=actor, text=f"profile {payload.customer}", platform="slack",
                                     channel_id=where.channel_id, thread_conversation=conversation_id)
            reply = await registry.dispatch(services, request)
            await self.render_reply(reply, request, where)
        elif verb == card_actions.TIMELINE_FILTER:
            chosen = payload.filter if payload.filter in ("customer", "case", "conversation") else None
            if conversation_id is not None:
                summary = await actions.conversation_view(services, actor, conversation_id, timeline_filter=chosen)
            elif payload.customer is not None:
                summary = await actions.customer_view(services, actor, payload.customer, timeline_filter=chosen)
            else:
                raise UserError("This button does not say whose timeline to show.")
            await self.tell(where, {"text": summary_fallback_text(summary), "blocks": render_summary_blocks(summary)})
        elif verb == card_actions.SHOW_CUSTOMER:
            if payload.customer is None:
                raise UserError("This button does not say which customer to show.")
            summary = await actions.customer_view(services, actor, payload.customer, action="lookup")
            await self.tell(where, {"text": summary_fallback_text(summary), "blocks": render_lookup_blocks(summary)})
        else:
            raise UserError("Baton does not know this button.")

    # --- message shortcuts --------------------------------------------------------------------------

    async def _shortcut_conversation(self, body: dict, where: Where) -> int | None:
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts") or body.get("message_ts")
        conversation = await posts.find_conversation_by_thread("slack", thread_ts) if thread_ts else None
        if conversation is None:
            await self.tell(where, "Use this shortcut on a message in a Baton handoff thread.")
        return conversation

    def _where_from_shortcut(self, body: dict, client: AsyncWebClient) -> Where:
        message = body.get("message") or {}
        return Where(client, body["user"]["id"], (body.get("channel") or {}).get("id"),
                     thread_ts=message.get("thread_ts") or message.get("ts"), trigger_id=body.get("trigger_id"),
                     team_id=_team_id(body))

    async def on_note_shortcut(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        where = self._where_from_shortcut(body, client)

        async def work() -> None:
            conversation = await self._shortcut_conversation(body, where)
            if conversation is None:
                return
            initial = slack_to_plain((body.get("message") or {}).get("text") or "")
            view = modals.note_modal(public_id(conversation), initial=initial, meta=where.meta(conv=conversation))
            await client.views_open(trigger_id=where.trigger_id, view=view)

        await self.guarded(where, "note shortcut", work)

    async def on_comment_shortcut(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        where = self._where_from_shortcut(body, client)

        async def work() -> None:
            conversation = await self._shortcut_conversation(body, where)
            if conversation is None:
                return
            case_number = await slack_store.case_number_of_conversation(conversation)
            initial = slack_to_plain((body.get("message") or {}).get("text") or "")
            view = modals.comment_modal(case_number, initial=initial, meta=where.meta(conv=conversation))
            await client.views_open(trigger_id=where.trigger_id, view=view)

        await self.guarded(where, "comment shortcut", work)

    # --- modal submissions --------------------------------------------------------------------------

    async def _submitted(
        self,
        ack,
        body: dict,
        view: dict,
        client: AsyncWebClient,
        work: Callable[[Actor, dict[str, Any]], Awaitable[str | None]],
        error_block: str | Callable[[str], str] | None,
    ) -> None:
        """Run the submission's action before the ack: a refusal shows in the form, success closes it."""
        meta = modals.read_metadata(view)
        user_id = body["user"]["id"]
        where = Where(client, user_id, meta.get("ch"), thread_ts=meta.get("th"), team_id=_team_id(body))
        try:
            actor = await self.actor(client, body, user_id, body["user"].get("name"))
            answer = await work(actor, meta)
        except UserError as error:
            text = str(error)
            block = error_block(text) if callable(error_block) else error_block
            if block:
                await ack(response_action="errors", errors={block: text[:2000]})
            else:
                await ack(response_action="update", view=modals.info_modal("Not done", text))
            return
        except Exception:
            log.exception("slack modal %s failed (team %s, user %s)", view.get("callback_id"), where.team_id, user_id)
            await ack(response_action="update", view=modals.info_modal("Not done", GENERIC_ERROR))
            return
        if isinstance(answer, dict):  # a follow-up view (search → pick)
            await ack(response_action="update", view=answer)
            return
        await ack()
        if answer:
            await self._safe_tell(where, answer)

    async def on_note_submitted(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        async def work(actor: Actor, meta: dict[str, Any]) -> str:
            return await actions.add_note(self.services, actor, int(meta["conv"]), modals.state_value(view, "note") or "")

        await self._submitted(ack, body, view, client, work, "note")

    async def on_comment_submitted(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        async def work(actor: Actor, meta: dict[str, Any]) -> str:
            case_number = (modals.state_value(view, "case") or "").strip()
            if not case_number:
                raise UserError("Which case? Type its number, e.g. CAS-01234.")
            return await actions.comment_on_case(self.services, actor, case_number, modals.state_value(view, "comment") or "")

        await self._submitted(ack, body, view, client, work, lambda text: "comment" if "text" in text else "case")

    async def on_wrapup_submitted(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        logs_wanted = modals.LOGS_OPTION in (modals.state_value(view, "logs") or [])
        conversation_holder: dict[str, int] = {}

        async def work(actor: Actor, meta: dict[str, Any]) -> str:
            conversation_id = int(meta["conv"])
            code = modals.state_value(view, "code") or ""
            done = await actions.wrap_up(self.services, actor, conversation_id, code, modals.state_value(view, "notes"))
            conversation_holder["id"] = conversation_id
            return done

        await self._submitted(ack, body, view, client, work, "code")
        if logs_wanted and "id" in conversation_holder:
            meta = modals.read_metadata(view)
            where = Where(client, body["user"]["id"], meta.get("ch"), thread_ts=meta.get("th"), team_id=_team_id(body))

            async def post_log() -> None:
                log_text = await actions.interaction_log(conversation_holder["id"])
                await self.post_in_thread(where, conversation_holder["id"], log_text, "Interaction log")

            await self.guarded(where, "interaction log", post_log)

    async def on_profile_submitted(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        async def work(actor: Actor, meta: dict[str, Any]) -> str:
            changes = {name: modals.state_value(view, name) for name, _, _ in modals.PROFILE_FIELDS}
            return await actions.save_profile(self.services, actor, int(meta["customer"]), changes)

        def block_for(text: str) -> str:
            lowered = text.lower()
            if "email" in lowered:
                return "email"
            if "phone" in lowered:
                return "mobile_phone"
            return "first_name" if "locked" not in lowered else ""

        await self._submitted(ack, body, view, client, work, lambda text: block_for(text) or None)

    async def on_merge_submitted(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        async def work(actor: Actor, meta: dict[str, Any]) -> str:
            return await actions.merge_customers(self.services, actor, int(meta["survivor"]), int(meta["merged"]))

        await self._submitted(ack, body, view, client, work, None)

    async def on_anonymize_submitted(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        async def work(actor: Actor, meta: dict[str, Any]) -> str:
            return await actions.anonymize(self.services, actor, int(meta["customer"]))

        await self._submitted(ack, body, view, client, work, None)

    async def on_search_submitted(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        async def work(actor: Actor, meta: dict[str, Any]) -> Any:
            query = (modals.state_value(view, "query") or "").strip()
            found = await actions.find_customers(query) if query else []
            if not found:
                raise UserError(f"No customer matches “{query}”.")
            conversation_id = int(meta["conv"])
            if len(found) == 1:
                return await actions.link_customer(self.services, actor, conversation_id, found[0].customer_id)
            return modals.pick_modal(public_id(conversation_id), found, meta=view.get("private_metadata") or "{}")

        await self._submitted(ack, body, view, client, work, "query")

    async def on_pick_submitted(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        async def work(actor: Actor, meta: dict[str, Any]) -> str:
            chosen = modals.state_value(view, "customer")
            if not chosen:
                raise UserError("Pick a customer.")
            return await actions.link_customer(self.services, actor, int(meta["conv"]), int(chosen))

        await self._submitted(ack, body, view, client, work, "customer")


def _team_id(body: Mapping[str, Any]) -> str | None:
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return team["id"]
    if body.get("team_id"):
        return body["team_id"]
    user = body.get("user")
    return user.get("team_id") if isinstance(user, dict) else None


def _channel_reference(body: Mapping[str, Any]) -> dict[str, Any]:
    """What `route here` stores beside the channel id: the workspace, so OAuth installs post with its token."""
    enterprise = body.get("enterprise")
    enterprise_id = enterprise.get("id") if isinstance(enterprise, dict) else body.get("enterprise_id")
    return {key: value for key, value in {"team_id": _team_id(body), "enterprise_id": enterprise_id}.items() if value}

"""Baton's Slack listeners: slash command, @mentions, thread replies, card buttons, shortcuts and modals.

Each listener only translates: Slack's payload becomes one of the core's typed inputs (`CommandRequest`,
`CardAction`, `FormSubmission`, `ThreadMessage`), `bot.core.interactions` decides, and the `Outcome` is
rendered the Slack way (an ephemeral answer, a modal, a file in a DM). Interactive payloads are
acknowledged first and worked on after the ack (bolt's async runner keeps the listener going); modal
submissions run before their ack, so a refusal can show beside its field.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import actions as card_actions
from bot.cards.actions import ActionPayload, form_data, form_ids
from bot.cards.slack import PAGE_LINK_ACTION, render_details_view, render_unfurl_blocks
from bot.core import events, interactions, page, roles, threads
from bot.core.services import Services
from bot.domain import Actor, CardAction, CommandRequest, Form, FormSubmission, Outcome, ThreadMessage
from bot.slack import modals

log = logging.getLogger(__name__)

SLASH_COMMAND = "/baton"
# Message shortcuts: callback_id → (the name manifest.json gives them, the form they open).
SHORTCUTS: Mapping[str, str] = {"baton_add_note": "Add note", "baton_comment_on_case": "Comment on case"}
SHORTCUT_FORMS: Mapping[str, str] = {"baton_add_note": "note", "baton_comment_on_case": "comment"}
BOT_EVENTS: tuple[str, ...] = ("app_mention", "message.channels", "message.groups", "message.im", "link_shared")
GENERIC_ERROR = "Sorry, that did not work because of a problem on Baton's side. It has been logged; please try again."
NAME_CACHE_SECONDS = 3600.0
# Before Slack's 3-second ack a display name is worth at most this long a wait (else the user id stands in).
NAME_WAIT_BEFORE_ACK = 0.8
FORM_BUTTON_VALUE = 2000
# Message subtypes that are still a person typing in the thread.
USER_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_CARD_ACTION = re.compile(r"^baton_(" + "|".join(card_actions.VERBS) + r")(\..*)?$")
_LEADING_MENTION = re.compile(r"^\s*<@([A-Z0-9]+)(\|[^>]*)?>[\s:,]*")
# What of a modal's private_metadata says where to answer; everything else is the form's ids.
_WHERE_KEYS = ("ch", "th")


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
    direct: bool = False  # the app's own DM with the user: answers are plain messages there
    view_id: str | None = None  # the modal the click came from (the details view pages in place)

    def meta(self, ids: Mapping[str, Any]) -> str:
        return modals.metadata(ch=self.channel_id, th=self.thread_ts, **ids)


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
    """The listeners, bound to the services of one Baton app."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._names: dict[tuple[str | None, str], tuple[str | None, float]] = {}

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

    async def actor(self, client: AsyncWebClient, body: Mapping[str, Any], user_id: str, fallback: str | None, *,
                    wait: float | None = None) -> Actor:
        team_id = _team_id(body)
        try:
            name = await asyncio.wait_for(self.display_name(client, team_id, user_id, fallback), wait)
        except asyncio.TimeoutError:
            name = fallback
        return Actor(platform="slack", user_id=user_id, display_name=name,
                     role=roles.role_for(self.services.settings, "slack", user_id), team_id=team_id)

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
        """Run `work`; anything unexpected is logged with ids and apologised for."""
        try:
            await work()
        except Exception:
            log.exception("slack %s failed (team %s, user %s, channel %s)", what, where.team_id, where.user_id, where.channel_id)
            await self._safe_tell(where, GENERIC_ERROR)

    async def _safe_tell(self, where: Where, text: str) -> None:
        try:
            await self.tell(where, text)
        except Exception:
            log.exception("could not answer user %s in %s", where.user_id, where.channel_id)

    async def render(self, outcome: Outcome, where: Where) -> None:
        """An outcome the Slack way. A refreshed card needs nothing here: the outbox edits the card itself."""
        if outcome.form is not None:
            await self.open_form(outcome.form, outcome.text, where)
            return
        if outcome.attachment is not None:
            await self.send_file(outcome, where)
            return
        if outcome.link is not None:
            await self.tell(where, modals.link_message(outcome.text, outcome.link))
            return
        if outcome.summary is not None and outcome.view == "details":
            view = render_details_view(outcome.summary, page=outcome.page)
            if where.view_id:
                await where.client.views_update(view_id=where.view_id, view=view)
            else:  # within Slack's 3 s trigger window: the listener acked first and did one summary read
                await where.client.views_open(trigger_id=where.trigger_id, view=view)
            return
        if outcome.text or outcome.summary is not None or outcome.candidates:
            await self.tell(where, modals.outcome_message(outcome), public=not outcome.private)

    async def open_form(self, form: Form, text: str | None, where: Where) -> None:
        if where.trigger_id is None:  # an @Baton mention has no trigger: offer a button that has one
            value = json.dumps(form_data(form.name, form.ids), separators=(",", ":"))
            message = text or "Open the form to go on."
            if len(value) > FORM_BUTTON_VALUE:
                await self.tell(where, message + "\n(Too long to open as a form here; use `/baton` at the channel root.)")
                return
            action_id = card_actions.slack_action_id(card_actions.OPEN_FORM)
            await self.tell(where, modals.form_button_message(message, action_id, value))
            return
        await where.client.views_open(trigger_id=where.trigger_id, view=modals.form_view(form, where.meta(form.ids)))

    async def send_file(self, outcome: Outcome, where: Where) -> None:
        """An export goes to a DM with the caller only; if Slack refuses, the caller is told so."""
        name, content = outcome.attachment
        text = outcome.text or name
        try:
            opened = await where.client.conversations_open(users=where.user_id)
            dm = opened["channel"]["id"]
            await where.client.files_upload_v2(channel=dm, filename=name, content=content.decode("utf-8"), title=name,
                                               initial_comment=modals.fallback(text))
        except SlackApiError as error:
            log.warning("export upload failed: %s", error.response.get("error"))
            await self.tell(where, f"{text} I could not send the file to your direct messages "
                                   f"({error.response.get('error')}); ask an admin to check Baton's files:write and im:write scopes.")
            return
        await self.tell(where, f"{text} Sent to your direct messages with Baton.")

    # --- registration -------------------------------------------------------------------------------

    def register(self, bolt: AsyncApp) -> None:
        bolt.middleware(self.before_ack)
        bolt.command(SLASH_COMMAND)(self.on_slash_command)
        bolt.event("app_mention")(self.on_mention)
        bolt.event("message")(self.on_message)
        bolt.event("link_shared")(self.on_link_shared)
        bolt.action(_CARD_ACTION)(self.on_card_action)
        bolt.action(PAGE_LINK_ACTION)(self.on_page_link)
        for callback_id in SHORTCUTS:
            bolt.shortcut(callback_id)(self.on_shortcut)
        for callback_id in modals.FORM_OF_CALLBACK:
            bolt.view(callback_id)(self.on_form_submitted)
        bolt.error(self.on_error)

    async def on_error(self, error: Exception, body: dict, logger: logging.Logger) -> None:
        log.error("slack listener failed (%s, team %s): %s", body.get("type"), _team_id(body), type(error).__name__,
                  exc_info=error)

    # --- events ---------------------------------------------------------------------------------

    async def before_ack(self, body: dict, client: AsyncWebClient, context, next: Callable[[], Awaitable[None]]
                         ) -> BoltResponse | None:
        """Runs before Slack gets its answer. A message in a handoff thread (a reply to relay, a `!note`) is
        stored here, with its event id in the same transaction, so a crash can neither lose it (Slack has no
        200 yet and retries) nor store it twice (the retry finds the id). Other events are de-duplicated by
        event id and handled after the answer."""
        event_id = body.get("event_id") if isinstance(body, dict) and body.get("type") == "event_callback" else None
        if not event_id:
            await next()
            return None
        key = f"{body.get('team_id') or _team_id(body) or '-'}:{event_id}"
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        if (conversation := await self._handoff_thread_of(event, context)) is not None:
            return await self._store_thread_message(event, body, client, conversation, once_key=f"slack:{key}")
        if not await events.first_time("slack", key, now=self.services.clock()):
            log.info("slack event %s already handled; ignoring the retry", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def _handoff_thread_of(self, event: Mapping[str, Any], context) -> int | None:
        """The conversation whose thread this person typed in, or None (not a thread message of Baton's)."""
        if event.get("type") != "message" or event.get("channel_type") == "im":
            return None
        if event.get("subtype") not in USER_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return None
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts"):
            return None
        match = _LEADING_MENTION.match(event.get("text") or "")
        if match and (not context.bot_user_id or match.group(1) == context.bot_user_id):
            return None  # an @Baton command: the app_mention event handles it
        return await threads.conversation_of_thread("slack", thread_ts, event.get("channel"))

    async def _store_thread_message(self, event: Mapping[str, Any], body: Mapping[str, Any], client: AsyncWebClient,
                                    conversation: int, *, once_key: str) -> BoltResponse:
        # `team` picks the workspace token that can fetch the file again for the customer (bot/delivery/files.py).
        files = tuple({"name": f.get("name") or f.get("title") or "file", "url": f.get("url_private") or f.get("permalink"),
                       "content_type": f.get("mimetype"), "team": _team_id(body)} for f in event.get("files") or [])
        try:
            actor = await self.actor(client, body, event["user"], None, wait=NAME_WAIT_BEFORE_ACK)
            message = ThreadMessage(actor=actor, conversation_id=conversation, text=slack_to_plain(event.get("text") or ""),
                                    attachments=files, once_key=once_key)
            await interactions.thread_message(self.services, message)
        except Exception:
            # Nothing was stored (one transaction): a non-200 makes Slack send the event again.
            log.exception("slack thread message not stored (team %s, conversation %s); Slack will retry",
                          _team_id(body), conversation)
            return BoltResponse(status=500, body="")
        return BoltResponse(status=200, body="")

    async def run_command(self, request: CommandRequest, where: Where) -> None:
        async def work() -> None:
            await self.render(await interactions.command(self.services, request), where)

        await self.guarded(where, "command", work)

    async def on_slash_command(self, ack, body: dict, client: AsyncWebClient, respond) -> None:
        await ack()
        where = Where(client, body["user_id"], body.get("channel_id"), trigger_id=body.get("trigger_id"), respond=respond,
                      team_id=body.get("team_id"))
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
        conversation = await threads.conversation_of_thread("slack", thread_ts, event.get("channel"))
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
        # A reply in a handoff thread was stored before the ack (before_ack); nothing else here is Baton's.

    async def on_direct_message(self, event: dict, body: dict, client: AsyncWebClient, text: str) -> None:
        """In the app's DM every message is a command (as `/baton` there would be); answers stay in the DM."""
        match = _LEADING_MENTION.match(text)
        command = text[match.end():] if match else text
        where = Where(client, event["user"], event.get("channel"), team_id=_team_id(body), direct=True)
        actor = await self.actor(client, body, event["user"], None)
        request = CommandRequest(actor=actor, text=command.strip(), platform="slack", channel_id=event.get("channel"),
                                 thread_conversation=None, channel_reference=_channel_reference(body))
        await self.run_command(request, where)

    async def on_link_shared(self, event: dict, body: dict, client: AsyncWebClient) -> None:
        """A customer-page link pasted in a channel unfurls into a small card: only what the `agent` role
        may see, since the whole channel sees it (SPEC 4.4). Other links are left to Slack."""
        unfurls = {}
        for link in event.get("links") or ():
            url = link.get("url") if isinstance(link, dict) else None
            facts = await page.unfurl_url(self.services, url) if isinstance(url, str) else None
            if facts is not None:
                unfurls[url] = {"blocks": render_unfurl_blocks(facts)}
        if not unfurls:
            return
        where = {"unfurl_id": event["unfurl_id"], "source": event.get("source")} if event.get("unfurl_id") else {
            "channel": event.get("channel"), "ts": event.get("message_ts")}
        try:
            await client.chat_unfurl(unfurls=unfurls, **where)
        except SlackApiError as error:
            log.warning("chat.unfurl failed: %s", error.response.get("error"))

    # --- card buttons -------------------------------------------------------------------------------

    def _where_from_interaction(self, body: dict, client: AsyncWebClient) -> Where:
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        # A click on the card (the thread's root) is answered beside the card in the channel; a click on a
        # message inside a thread is answered in that thread.
        thread_ts = container.get("thread_ts")
        return Where(client, body["user"]["id"], channel, thread_ts=thread_ts, trigger_id=body.get("trigger_id"),
                     team_id=_team_id(body), view_id=(body.get("view") or {}).get("id"))

    async def on_card_action(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        where = self._where_from_interaction(body, client)
        value = action.get("value") or (action.get("selected_option") or {}).get("value")
        verb = card_actions.verb_of_slack_action(action.get("action_id") or "", value) or ""

        async def work() -> None:
            actor = await self.actor(client, body, where.user_id, body["user"].get("name") or body["user"].get("username"))
            outcome = await interactions.card_action(self.services, _card_action(actor, verb, value))
            await self.render(outcome, where)

        await self.guarded(where, f"card action {verb}", work)

    async def on_page_link(self, ack) -> None:
        """Slack opened the page link in the browser; the click itself needs nothing more."""
        await ack()

    # --- message shortcuts --------------------------------------------------------------------------

    async def on_shortcut(self, ack, body: dict, client: AsyncWebClient) -> None:
        await ack()
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts") or body.get("message_ts")
        where = Where(client, body["user"]["id"], (body.get("channel") or {}).get("id"), thread_ts=thread_ts,
                      trigger_id=body.get("trigger_id"), team_id=_team_id(body))

        async def work() -> None:
            conversation = await threads.conversation_of_thread("slack", thread_ts, where.channel_id)
            if conversation is None:
                await self.tell(where, "Use this shortcut on a message in a Baton handoff thread.")
                return
            actor = await self.actor(client, body, where.user_id, body["user"].get("name"))
            form = SHORTCUT_FORMS[body.get("callback_id")]
            outcome = await interactions.open_form_for(self.services, actor, form, {"conversation": conversation},
                                                       initial={"text": slack_to_plain(message.get("text") or "")})
            await self.render(outcome, where)

        await self.guarded(where, "shortcut", work)

    # --- modal submissions --------------------------------------------------------------------------

    async def on_form_submitted(self, ack, body: dict, view: dict, client: AsyncWebClient) -> None:
        """Run the submission before the ack: a refusal shows beside its field (or in the modal), success
        closes it and answers where the form was opened, a follow-up form replaces it (search → pick)."""
        meta = modals.read_metadata(view)
        user_id = body["user"]["id"]
        where = Where(client, user_id, meta.get("ch"), thread_ts=meta.get("th"), team_id=_team_id(body))
        form = modals.FORM_OF_CALLBACK[view.get("callback_id")]
        try:
            actor = await self.actor(client, body, user_id, body["user"].get("name"))
            ids = form_ids({k: v for k, v in meta.items() if k not in _WHERE_KEYS})
            submission = FormSubmission(actor=actor, form=form, ids=ids, values=modals.state_values(view))
            outcome = await interactions.submit_form(self.services, submission)
        except Exception:
            log.exception("slack modal %s failed (team %s, user %s)", view.get("callback_id"), where.team_id, user_id)
            await ack(response_action="update", view=modals.info_modal("Not done", GENERIC_ERROR))
            return
        blocks = {block["block_id"] for block in view.get("blocks") or () if block.get("block_id")}
        errors = {field: text[:2000] for field, text in outcome.field_errors.items() if field in blocks}
        if errors:
            await ack(response_action="errors", errors=errors)
        elif not outcome.ok:
            await ack(response_action="update", view=modals.info_modal("Not done", outcome.text or "Not done."))
        elif outcome.form is not None:
            await ack(response_action="update", view=modals.form_view(outcome.form, where.meta(outcome.form.ids)))
        else:
            await ack()
            if outcome.link:
                await self.guarded(where, "link", lambda: self.tell(where, modals.link_message(outcome.text, outcome.link)))
            elif outcome.text:
                await self._safe_tell(where, outcome.text)


def _card_action(actor: Actor, verb: str, value: str | None) -> CardAction:
    """A Slack button or select as the core's CardAction (its value is ActionPayload JSON)."""
    payload = ActionPayload.from_value(value)
    try:
        data = json.loads(value or "{}")
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    ids = form_ids(data)
    return CardAction(
        actor=actor,
        verb=verb,
        conversation_id=ids.get("conversation"),
        customer_id=payload.customer,
        filter=payload.filter,
        page=payload.page or 0,
        form=data.get("form") if isinstance(data.get("form"), str) else None,
        ids=ids,
    )


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

"""TeamsPoster: the handoff thread in a Teams channel — card at the root, transcript as replies,
the card edited in place. Called by the outbox worker (bot/delivery/sync.py)."""

from __future__ import annotations

import base64
import logging
from typing import Any
from urllib.parse import quote, urlencode

from bot.cards.teams import card_attachment, render_summary_card
from bot.cards.text import teams_text
from bot.core import installs, routing
from bot.delivery.poster import OutgoingMessage, ThreadRef, Unroutable
from bot.domain import ConversationFacts, CustomerFile, CustomerSummary
from bot.settings import Settings
from bot.teams import dialogs
from bot.teams.connector import BotConnector, ConnectorError

log = logging.getLogger(__name__)

INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
INLINE_IMAGE_BYTES = 4 * 1024 * 1024  # Teams counts base64 images apart from the 100 KB message limit


class TeamsPoster:
    name = "teams"

    def __init__(self, settings: Settings, connector: BotConnector) -> None:
        self.settings = settings
        self.connector = connector
        self._service_urls: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> "TeamsPoster":
        from bot.teams.auth import OutboundToken

        return cls(settings, BotConnector(OutboundToken(settings)))

    async def close(self) -> None:
        await self.connector.close()

    # --- where ---------------------------------------------------------------------------------

    async def _route(self, queue: str | None) -> tuple[str, dict[str, Any]]:
        found = await routing.channel_for(self.name, queue, settings=self.settings)
        if found is None:
            raise Unroutable(f"no channel for queue {queue or '(default)'}: type `@Baton route here` in a channel")
        channel, reference = found
        reference = reference or await installs.teams_install_reference(channel)
        if not reference or not reference.get("serviceUrl"):
            raise Unroutable(f"no channel reference for {channel}: add Baton to its team first")
        return channel, reference

    async def _service_url(self, channel: str) -> str:
        if channel not in self._service_urls:
            reference = await installs.teams_reference(channel)
            if not reference or not reference.get("serviceUrl"):
                raise Unroutable(f"no channel reference for {channel}")
            self._service_urls[channel] = reference["serviceUrl"]
        return self._service_urls[channel]

    def _bot(self, reference: dict[str, Any]) -> dict[str, Any]:
        if self.settings.microsoft_app_id:
            return {"id": f"28:{self.settings.microsoft_app_id}"}
        return dict(reference.get("bot") or {"id": "baton"})

    # --- ThreadPoster --------------------------------------------------------------------------

    async def open_thread(self, conversation: ConversationFacts, summary: CustomerSummary | None) -> ThreadRef:
        channel, reference = await self._route(conversation.queue)
        tenant = reference.get("tenantId") or (reference.get("conversation") or {}).get("tenantId")
        if summary is not None:
            activity = dialogs.message(cards=[render_summary_card(summary)])
            activity["summary"] = f"Handoff #{conversation.public_id}"
        else:
            activity = dialogs.message(dialogs.thread_header(conversation.public_id, conversation.kind,
                                                             conversation.channel, conversation.source))
        parameters = {
            "isGroup": True,
            "bot": self._bot(reference),
            "channelData": {"channel": {"id": channel}, **({"tenant": {"id": tenant}} if tenant else {})},
            "activity": activity,
            **({"tenantId": tenant} if tenant else {}),
        }
        created = await self.connector.create_conversation(reference["serviceUrl"], parameters, pace=channel)
        thread_id, activity_id = created.get("id"), created.get("activityId")
        if not thread_id or not activity_id:
            raise RuntimeError("create conversation answered without id/activityId")
        self._service_urls[channel] = reference["serviceUrl"]
        return ThreadRef(channel=channel, root_ref=activity_id, thread_ref=thread_id)

    async def post_reply(self, thread: ThreadRef, message: OutgoingMessage) -> str | None:
        service_url = await self._service_url(thread.channel)
        sent = await self.connector.send(service_url, thread.thread_ref, _line(message))
        if not sent.get("id"):
            log.warning("Bot Connector gave no id for message %s: it cannot be redacted later", message.id)
        alert = message.alert
        if alert is not None and (alert.broadcast or alert.elsewhere):
            # A thread reply reaches only the thread's followers: a channel post with a link reaches the channel.
            try:
                await self._channel_post(alert.elsewhere or thread.channel, service_url, thread, message)
            except ConnectorError as error:
                if error.status not in (403, 404):
                    raise
                # A channel Baton may not post in: retrying would only repeat the thread line.
                log.warning("timer post to %s refused (%s)", alert.elsewhere or thread.channel, error.status)
        return sent.get("id")

    async def post_file(self, thread: ThreadRef, message: OutgoingMessage, file: CustomerFile, *,
                        link: str | None = None) -> str | None:
        """A customer's file as an attachment in the thread: an image inline (Teams shows base64 images in
        bot messages), anything else as `link`, the signed Baton link to the stored file (Teams channels
        take no file uploads from bots). Without file links the line already names it; nothing more is sent."""
        if file.content_type in INLINE_IMAGE_TYPES and file.size <= INLINE_IMAGE_BYTES:
            url = f"data:{file.content_type};base64,{base64.b64encode(file.data).decode()}"
        elif link:
            url = link
        else:
            return None
        activity = dialogs.message(dialogs.safe_text(f"📎 {file.name}"))
        activity["attachments"] = [{"contentType": file.content_type, "contentUrl": url, "name": file.name}]
        sent = await self.connector.send(await self._service_url(thread.channel), thread.thread_ref, activity)
        return sent.get("id")

    async def _channel_post(self, channel: str, service_url: str, thread: ThreadRef, message: OutgoingMessage) -> None:
        reference = await installs.teams_reference(thread.channel) or {}
        tenant = reference.get("tenantId") or (reference.get("conversation") or {}).get("tenantId")
        link = thread_link(thread, tenant)
        activity = dialogs.message(f"{dialogs.safe_text(message.text)}\n\n[Open the thread]({link})")
        parameters = {
            "isGroup": True,
            "bot": self._bot(reference),
            "channelData": {"channel": {"id": channel}, **({"tenant": {"id": tenant}} if tenant else {})},
            "activity": activity,
            **({"tenantId": tenant} if tenant else {}),
        }
        await self.connector.create_conversation(service_url, parameters, pace=channel)

    async def redact_reply(self, thread: ThreadRef, ref: str, message: OutgoingMessage) -> None:
        """Rewritten in place: in Teams the author is always the bot, the name lives in the text."""
        try:
            await self.connector.update(await self._service_url(thread.channel), thread.thread_ref, ref, _line(message))
        except ConnectorError as error:
            if error.status not in (403, 404):
                raise
            # The message or the bot's access to the team is gone: retrying cannot change that.
            log.warning("Teams message %s could not be rewritten (%s); giving up on it", ref, error.status)

    async def update_card(self, thread: ThreadRef, summary: CustomerSummary) -> Any:
        activity = {"type": "message", "attachments": [card_attachment(render_summary_card(summary))]}
        await self.connector.update(await self._service_url(thread.channel), thread.thread_ref, thread.root_ref, activity)
        return None

    def open_file(self, url: str, *, team: str | None = None):
        """A file an agent shared in Teams, fetched with the bot's token (for bot/web/files_routes.py)."""
        return self.connector.open_file(url)



def thread_link(thread: ThreadRef, tenant: str | None) -> str:
    """A Teams deep link to the thread's root message (https://teams.microsoft.com/l/message/…)."""
    query = {"parentMessageId": thread.root_ref, **({"tenantId": tenant} if tenant else {})}
    return f"https://teams.microsoft.com/l/message/{quote(thread.channel, safe='')}/{quote(thread.root_ref, safe='')}?{urlencode(query)}"


def _mention(tag: str) -> tuple[str, dict[str, Any]]:
    """A tag mention: the `<at>` text and its entity (Teams notifies the tag's members)."""
    name = teams_text(tag, 100, single_line=True)
    text = f"<at>{name}</at>"
    return text, {"type": "mention", "text": text, "mentioned": {"id": tag, "name": name, "type": "tag"}}


def _line(message: OutgoingMessage) -> dict[str, Any]:
    if message.sender == "system":  # Baton's own words (reminders, notices, the interaction log): no attribution
        if message.alert is not None and message.alert.mention:
            text, entity = _mention(message.alert.mention)
            activity = dialogs.message(f"{text} {dialogs.safe_text(message.text)}")
            activity["entities"] = [entity]
            return activity
        return dialogs.message(dialogs.safe_text(message.text))
    text = dialogs.thread_line(message.sender_label, message.sender, message.text, internal=message.internal,
                               attachments=message.attachments)
    return dialogs.message(text)

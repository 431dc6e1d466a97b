"""The Slack delivery target: the handoff thread's root card, its replies and card edits, via the Web API.

Called by the outbox worker only. A 429 becomes `RetryLater(Retry-After)` so the outbox, not this
process, waits; any other Slack error is raised and the worker backs off. Posts are paced per channel
(Slack allows about one message a second per channel, with short bursts; Baton takes 0.9), root cards
first: a post with no slot free is deferred (`Paced`) rather than slept on. Edits and reads are
not paced (chat.update and conversations.* have per-workspace tiers, not the per-channel posting limit).

Every post carries message metadata (`baton_post`: outbox job, conversation, message ids), so a sync
that may have posted just before a crash finds its post in the channel or thread instead of posting
it again (`find_root`, `posted_replies`). A transcript's lines go out as one reply (`post_lines`),
split at Slack's limits (50 blocks, 3,000 characters of fallback text).
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards.slack import render_summary_blocks, render_transcript_line, summary_fallback_text
from bot.cards.text import (
    SLACK_FALLBACK_TEXT,
    SLACK_FIELD_TEXT,
    SLACK_HEADER_TEXT,
    SLACK_MAX_BLOCKS,
    SLACK_SECTION_TEXT,
    clean,
    fit,
    slack_literal,
    slack_plain,
)
from bot.core import installs, routing
from bot.delivery.poster import OutgoingMessage, Paced, RetryLater, ThreadRef, Unroutable
from bot.domain import CHANNEL_WORKSPACE_MARK, Alert, ConversationFacts, CustomerFile, CustomerSummary
from bot.settings import Settings
from bot.slack import web_api

log = logging.getLogger(__name__)

USERNAME_LIMIT = 80
ICONS = {"customer": ":bust_in_silhouette:", "bot": ":robot_face:", "agent": ":headphones:", "system": ":baton:"}
KIND_TITLES = {"internal": "Internal conversation", "agent_to_agent": "Agent-to-agent conversation",
               "unrouted": "Unrouted conversation", "customer": "Conversation"}
# Errors that mean "this channel cannot take Baton's posts": waiting for `route here` is the fix.
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived", "restricted_action"})
# chat.delete answers after which a redaction is over: the message or its channel is gone, or
# Slack will never let Baton delete it.
REDACTION_DONE = CHANNEL_ERRORS | {"message_not_found", "cant_delete_message"}
TEAM_MARK = CHANNEL_WORKSPACE_MARK  # a channel stored as "C123@T456" belongs to workspace T456 (OAuth installs)
MARK_EVENT = "baton_post"  # the metadata event_type of every message Baton posts
HISTORY_PAGES = 5  # how far back a check reads: 5 pages of 200 top-level messages, or of thread replies
TRANSCRIPT_NAME = "Transcript"
RATE = 0.9  # posts a second per channel: a little under Slack's 1 a second (see `Pace`)


class Pace:
    """A token bucket per channel: `burst` posts at once, then `rate` a second.

    Nothing sleeps in a worker slot for its turn: a post with no slot free is told how long until there
    may be one (`take`), and its sync is deferred (`Paced`). Root cards go first: a card takes any free
    slot, a thread reply only one that leaves a slot over for the next card (`RESERVE`) and none while
    another post of this process waits. Only a post that must follow one just made (the rest of a
    transcript, an escalation's second message) waits for its slot (`wait`). The rate is a little under
    Slack's (`RATE`), so that clock skew between the two buckets rarely ends in a 429."""

    RESERVE = 1.0  # slots a reply leaves in the bucket for the next root card

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, list[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}  # posts waiting in `wait` for a slot, per channel

    def _tokens(self, channel: str, now: float) -> float:
        tokens, updated = self._buckets.get(channel, [float(self.burst), now])
        return min(float(self.burst), tokens + (now - updated) * self.rate)

    async def wait(self, channel: str) -> None:
        if self.rate <= 0:
            return
        lock = self._locks.setdefault(channel, asyncio.Lock())
        self._waiting[channel] = self._waiting.get(channel, 0) + 1
        try:
            async with lock:
                now = time.monotonic()
                tokens = self._tokens(channel, now)
                if tokens < 1.0:
                    await asyncio.sleep((1.0 - tokens) / self.rate)
                    tokens, now = 1.0, time.monotonic()
                self._buckets[channel] = [tokens - 1.0, now]
        finally:
            self._waiting[channel] -= 1
            if not self._waiting[channel]:
                del self._waiting[channel]

    def take(self, channel: str, *, card: bool = False) -> float:
        """A slot for a root card (`card`) or a thread reply: 0.0 when taken, else the seconds until one may
        be free for it."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        tokens = self._tokens(channel, now)
        waiting = self._waiting.get(channel, 0)
        if waiting:  # after the posts waiting now
            return max(0.05, (waiting + 1.0 - tokens) / self.rate)
        need = 1.0 if card else min(1.0 + self.RESERVE, float(self.burst))
        if tokens < need:
            return max(0.05, (need - tokens) / self.rate)
        self._buckets[channel] = [tokens - 1.0, now]
        return 0.0

    def hold(self, channel: str, seconds: float) -> None:
        """Slack said 429: the channel gets no tokens for `seconds`."""
        self._buckets[channel] = [-seconds * self.rate, time.monotonic()]


def _retry_after(error: SlackApiError) -> float:
    headers = getattr(error.response, "headers", None) or {}
    for key, value in dict(headers).items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value if isinstance(value, str) else value[0]))
            except (TypeError, ValueError, IndexError):
                break
    return 1.0


def split_channel(stored: str) -> tuple[str, str | None]:
    channel, _, team = stored.partition(TEAM_MARK)
    return channel, team or None


class SlackPoster:
    name = "slack"

    def __init__(
        self,
        *,
        api_url: str,
        bot_token: str | None = None,
        client_id: str | None = None,
        default_channel: str | None = None,
        rate: float = RATE,
        burst: int = 3,
        settings: Settings | None = None,
    ) -> None:
        self.api_url = api_url
        self.bot_token = bot_token
        self.client_id = client_id  # set when installations come from OAuth (several workspaces)
        self.default_channel = default_channel
        self.settings = settings  # routing from baton.toml, when built from settings
        self.pace = Pace(rate, burst)
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[str, AsyncWebClient] = {}

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SlackPoster:
        oauth = bool(settings.slack_client_id and settings.slack_client_secret)
        options: dict[str, Any] = dict(
            api_url=settings.slack_api_url,
            bot_token=settings.slack_bot_token,
            client_id=settings.slack_client_id if oauth else None,
            default_channel=settings.slack_channel,
            settings=settings,
        )
        options.update(overrides)
        return cls(**options)

    def bind(self, services) -> None:
        """The app's settings decide routing ([routing.<queue>] in baton.toml) unless given already."""
        if self.settings is None:
            self.settings = services.settings

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    # --- clients ------------------------------------------------------------------------------------

    async def _token(self, team_id: str | None) -> str:
        token = self.bot_token
        if self.client_id is not None:
            token = await installs.slack_bot_token(self.client_id, team_id) or self.bot_token
        if not token:
            raise Unroutable(f"no channel: no Slack installation for workspace {team_id or '(unknown)'}")
        return token

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def _client(self, team_id: str | None) -> AsyncWebClient:
        token = await self._token(team_id)
        client = self._clients.get(token)
        if client is None:
            client = AsyncWebClient(token=token, base_url=self.api_url, session=self._http())
            self._clients[token] = client
        return client

    @asynccontextmanager
    async def open_file(self, url: str, *, team: str | None) -> AsyncIterator[aiohttp.ClientResponse]:
        """A file shared in Slack (its `url_private`), fetched with the workspace's bot token."""
        # No redirects: the token's request goes to the file host checked by the caller and nowhere else.
        # Identity encoding: the bytes and Content-Length passed on are the file's own.
        headers = {"Authorization": f"Bearer {await self._token(team)}", "Accept-Encoding": "identity"}
        async with self._http().get(url, headers=headers, allow_redirects=False,
                                    timeout=aiohttp.ClientTimeout(total=None, sock_read=30)) as response:
            yield response

    async def _call(self, stored_channel: str, method: str, *, read: bool = False, defer: str | None = None,
                    **kwargs: Any) -> Any:
        """`defer` ("card" or "reply"): a post that may be put off when the channel has no slot for it
        (`Pace.take`); only ever the first post of a call, so that nothing is posted that its sync does
        not record."""
        channel, team = split_channel(stored_channel)
        token = await self._token(team)
        if method == "chat.postMessage" and defer:
            seconds = self.pace.take(channel, card=defer == "card")
            if seconds > 0:
                raise Paced(seconds, card=defer == "card")
        elif method == "chat.postMessage":  # the pace is for posts; reads have their own limits
            await self.pace.wait(channel)
        try:
            # The request slack_sdk's AsyncWebClient.api_call would send, without its per-call overhead (web_api).
            if read:  # read methods (chat.getPermalink) take form arguments, not JSON
                return await web_api.api_call(self._http(), self.api_url, token, method, params={"channel": channel, **kwargs})
            return await web_api.api_call(self._http(), self.api_url, token, method, json_body={"channel": channel, **kwargs})
        except SlackApiError as error:
            if error.response.status_code == 429:
                seconds = _retry_after(error)
                self.pace.hold(channel, seconds)
                raise RetryLater(seconds, f"slack {method} rate limited") from None
            raise

    # --- ThreadPoster -------------------------------------------------------------------------------

    async def _channel_for(self, conversation: ConversationFacts) -> str:
        route = await routing.channel_for(self.name, conversation.queue, settings=self.settings,
                                          default=self.default_channel)
        if route is not None:
            channel, reference = route
            team = (reference or {}).get("team_id")
            return f"{channel}{TEAM_MARK}{team}" if team and self.client_id else channel
        queue = f"queue {conversation.queue}" if conversation.queue else "conversations without a queue"
        raise Unroutable(f"no channel for {queue}: type `/baton route here` in the channel, or set BATON_SLACK_CHANNEL")

    async def open_thread(self, conversation: ConversationFacts, summary: CustomerSummary | None, *,
                          mark: dict[str, Any] | None = None) -> ThreadRef:
        stored = await self._channel_for(conversation)
        if summary is not None:
            message = {"text": summary_fallback_text(summary), "blocks": render_summary_blocks(summary)}
        else:
            message = header_message(conversation)
        if mark is not None:
            message["metadata"] = {"event_type": MARK_EVENT, "event_payload": mark}
        try:
            response = await self._call(stored, "chat.postMessage", defer="card", unfurl_links=False, unfurl_media=False,
                                        **message)
        except SlackApiError as error:
            if error.response.get("error") in CHANNEL_ERRORS:
                raise Unroutable(f"no channel usable: {error.response.get('error')} in {stored}; invite Baton or `route here`") from None
            raise
        ts = response["ts"]
        return ThreadRef(channel=stored, root_ref=ts, thread_ref=ts, payload=None)

    async def post_reply(self, thread: ThreadRef, message: OutgoingMessage, *, mark: dict[str, Any] | None = None) -> str:
        label = clean(message.sender_label) or "Unknown sender"
        if message.internal:
            label = f"{label} (internal)"
        fallback, blocks = render_transcript_line(label, message.text)
        if message.alert is not None and message.alert.mention:
            # The id was checked to be a user group id (routing.alert_for): safe as mrkdwn.
            mention = f"<!subteam^{message.alert.mention}>"
            blocks.insert(0, {"type": "section", "text": {"type": "mrkdwn", "text": mention}})
            fallback = f"{mention} {fallback}"
        files = attachment_lines(message.attachments)
        if files:
            blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": files, "emoji": True}]})
        response = await self._call(
            thread.channel,
            "chat.postMessage",
            defer="reply",
            thread_ts=thread.thread_ref,
            text=fallback,
            blocks=blocks,
            username=fit(label, USERNAME_LIMIT, single_line=True),
            icon_emoji=ICONS.get(message.sender, ICONS["system"]),
            unfurl_links=False,
            unfurl_media=False,
            **({"metadata": {"event_type": MARK_EVENT, "event_payload": mark}} if mark is not None else {}),
            **alert_options(message.alert),
        )
        if message.alert is not None and message.alert.elsewhere:
            try:
                await self._post_elsewhere(thread, message)
            except SlackApiError as error:
                reason = error.response.get("error")
                if reason not in REDACTION_DONE:
                    raise
                # escalate_to Baton may not post in: retrying would only repeat the thread line.
                log.warning("escalation of %s to %s not posted (%s)", thread.channel, message.alert.elsewhere, reason)
        return response["ts"]

    async def post_file(self, thread: ThreadRef, message: OutgoingMessage, file: CustomerFile, *,
                        link: str | None = None) -> str | None:
        """A customer's file into the thread as a real Slack file: files.getUploadURLExternal, the bytes to
        the upload URL, files.completeUploadExternal with the thread (PROTOCOLS.md 8; files.upload is gone)."""
        channel, team = split_channel(thread.channel)
        client = await self._client(team)
        # Deferred like a reply: the line is recorded already and the file is recorded once it is up.
        seconds = self.pace.take(channel)
        if seconds > 0:
            raise Paced(seconds)
        try:
            response = await client.files_upload_v2(
                content=file.data, filename=file.name, title=file.name, channel=channel, thread_ts=thread.thread_ref,
            )
        except SlackApiError as error:
            if error.response.status_code == 429:
                seconds = _retry_after(error)
                self.pace.hold(channel, seconds)
                raise RetryLater(seconds, "slack file upload rate limited") from None
            raise
        uploaded = response.get("files") or [response.get("file") or {}]
        return (uploaded[0] or {}).get("id")

    async def post_lines(self, thread: ThreadRef, messages: list[OutgoingMessage], *,
                         mark: dict[str, Any] | None = None) -> list[str]:
        """Transcript lines as few replies as Slack's limits allow; the ts of the reply holding each line."""
        chunks: list[tuple[list[OutgoingMessage], list[str], list[dict[str, Any]]]] = []
        for message in messages:
            fallback, blocks = render_transcript_line(clean(message.sender_label) or "Unknown sender", message.text)
            files = attachment_lines(message.attachments)
            if files:
                blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": files, "emoji": True}]})
            if not chunks or len(chunks[-1][2]) + len(blocks) > SLACK_MAX_BLOCKS:
                chunks.append(([], [], []))
            chunks[-1][0].append(message)
            chunks[-1][1].append(fallback)
            chunks[-1][2].extend(blocks)
        refs: list[str] = []
        for lines, fallbacks, blocks in chunks:
            chunk_mark = dict(mark or {}, first=lines[0].id, last=lines[-1].id) if mark is not None else None
            response = await self._call(
                thread.channel, "chat.postMessage", defer=None if refs else "reply", thread_ts=thread.thread_ref,
                text=slack_literal("\n".join(fallbacks), SLACK_FALLBACK_TEXT), blocks=blocks,
                username=TRANSCRIPT_NAME, icon_emoji=":scroll:", unfurl_links=False, unfurl_media=False,
                **({"metadata": {"event_type": MARK_EVENT, "event_payload": chunk_mark}} if chunk_mark else {}),
            )
            refs.extend(response["ts"] for _ in lines)
        return refs

    # --- reading back what may have been posted before a crash ----------------------------------

    async def _marked(self, stored_channel: str, method: str, **args: Any) -> list[tuple[dict[str, Any], str]]:
        """(metadata payload, ts) of Baton's marked messages in a channel's history or a thread, newest pages first."""
        found: list[tuple[dict[str, Any], str]] = []
        cursor = None
        for _ in range(HISTORY_PAGES):
            response = await self._call(stored_channel, method, limit=200, include_all_metadata=True,
                                        **({"cursor": cursor} if cursor else {}), **args)
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == MARK_EVENT and isinstance(metadata.get("event_payload"), dict):
                    found.append((metadata["event_payload"], message.get("ts")))
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                break
        return found

    async def find_root(self, conversation: ConversationFacts, conversation_id: int) -> ThreadRef | None:
        stored = await self._channel_for(conversation)
        for payload, ts in await self._marked(stored, "conversations.history"):
            if payload.get("conversation") == conversation_id and payload.get("item") == "root" and ts:
                log.info("conversation %s: its card was already in Slack (%s); not posted again", conversation_id, ts)
                return ThreadRef(channel=stored, root_ref=ts, thread_ref=ts)
        return None

    async def posted_replies(self, thread: ThreadRef, conversation_id: int) -> list[tuple[int, int, str]]:
        found = await self._marked(thread.channel, "conversations.replies", ts=thread.thread_ref)
        return [(int(p["first"]), int(p["last"]), ts) for p, ts in found
                if p.get("conversation") == conversation_id and "first" in p and "last" in p and ts]
    async def _post_elsewhere(self, thread: ThreadRef, message: OutgoingMessage) -> None:
        """An escalation: a new message in `escalate_to` (a channel, or a user's DM with Baton) linking the thread."""
        alert = message.alert
        _, team = split_channel(thread.channel)
        found = await self._call(thread.channel, "chat.getPermalink", read=True, message_ts=thread.root_ref)
        target = f"{alert.elsewhere}{TEAM_MARK}{team}" if team else alert.elsewhere
        line = slack_literal(clean(message.text), SLACK_SECTION_TEXT - 200)
        link = f"<{found['permalink']}|Open the thread>"
        await self._call(target, "chat.postMessage", text=f"{line} {found['permalink']}",
                         blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"{line}\n{link}"}}],
                         username="Baton", icon_emoji=ICONS["system"], unfurl_links=False, unfurl_media=False)

    async def redact_reply(self, thread: ThreadRef, ref: str, message: OutgoingMessage) -> None:
        """Deleted, not edited: the customer's name is the message's author name, which `chat.update`
        cannot change. Baton's notice in the thread says why the messages went."""
        try:
            await self._call(thread.channel, "chat.delete", ts=ref)
        except SlackApiError as error:
            reason = error.response.get("error")
            if reason not in REDACTION_DONE:
                raise
            # Nothing Baton can ever do there: retrying would only hold up the card edit behind it.
            log.warning("slack message %s in %s could not be deleted (%s); giving up on it", ref, thread.channel, reason)

    async def update_card(self, thread: ThreadRef, summary: CustomerSummary) -> Any:
        await self._call(
            thread.channel,
            "chat.update",
            ts=thread.root_ref,
            text=summary_fallback_text(summary),
            blocks=render_summary_blocks(summary),
        )
        return None


def alert_options(alert: Alert | None) -> dict[str, Any]:
    """A reminder or escalation shown in the channel too: Slack's reply_broadcast on the thread reply."""
    return {"reply_broadcast": True} if alert is not None and alert.broadcast else {}


def header_message(conversation: ConversationFacts) -> dict[str, Any]:
    """The root of a card-less thread (internal, agent-to-agent, unrouted): what it is and where it came from."""
    title = KIND_TITLES.get(conversation.kind, "Conversation")
    line = f"{title} #{conversation.public_id} — {conversation.channel} via {conversation.source}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": slack_plain(line, SLACK_HEADER_TEXT, single_line=True), "emoji": True}},
    ]
    if conversation.reply_rule:
        blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": slack_plain(conversation.reply_rule, SLACK_FIELD_TEXT)}]})
    return {"text": slack_literal(line, SLACK_SECTION_TEXT), "blocks": blocks}


def attachment_lines(attachments: tuple[dict[str, Any], ...]) -> str:
    lines = []
    for item in attachments[:10]:
        name = item.get("name") or "file"
        url = item.get("url")
        lines.append(f"📎 {name}" + (f" — {url}" if url else ""))
    return slack_plain("\n".join(lines), 2000) if lines else ""

"""The way back to a customer who wrote: the claiming agent's replies by SMTP (SPEC 3.7), for the outbox's
`source` target, which carries them durably and in order and retries on RetryLater.

A reply answers the customer's newest mail of the conversation (`Re:` its subject, `In-Reply-To` and
`References` so it sits in their thread), from BATON_EMAIL_FROM with the agent's name. Its Message-ID is
stored before the first try and reused by every retry, so it is remembered for threading and a mail
client sees one message even if a server accepted a try Baton could not confirm. Statuses are not mailed.

The agent's files are attached (fetched from Slack or Teams with Baton's own credentials, as the signed
file links are), up to 10 MB together; a file over that, or one the platform will not hand over, goes as
its signed Baton link at the end of the text (or is named when links are off).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Mapping

import aiohttp

from bot.core import channels
from bot.delivery.files import fetchable, shared_file
from bot.delivery.poster import GiveUp, Unroutable
from bot.domain import ConversationRecord, Reply, StatusEvent
from bot.email.reply import MAX_ATTACHED_BYTES, OutgoingFile, compose_reply
from bot.email.routes import SOURCE
from bot.email.smtp import SmtpSender
from bot.settings import Settings

log = logging.getLogger(__name__)
_CHUNK = 64 * 1024


class EmailChannel:
    name = "email"

    def __init__(self, sender: SmtpSender, *, email_from: str, clock, file_sources: Mapping[str, Any] | None = None,
                 settings: Settings | None = None) -> None:
        self.sender = sender
        self.email_from = email_from
        self.clock = clock
        self.file_sources = file_sources or {}
        self.settings = settings

    async def _bytes(self, message_id: int, index: int, budget: int) -> bytes | None:
        """The agent's file `index` of message `message_id` from its platform, if it fits in `budget` bytes."""
        found = await shared_file(message_id, index)
        if found is None or self.settings is None:
            return None
        platform, attachment = found
        source = self.file_sources.get(platform)
        if source is None or not hasattr(source, "open_file") or not fetchable(platform, attachment.get("url"), self.settings):
            return None
        try:
            async with source.open_file(attachment["url"], team=attachment.get("team")) as upstream:
                if upstream.status >= 300 or (upstream.content_length or 0) > budget:
                    return None
                data = bytearray()
                async for chunk in upstream.content.iter_chunked(_CHUNK):
                    data.extend(chunk)
                    if len(data) > budget:  # counted while reading: a missing Content-Length changes nothing
                        return None
                return bytes(data)
        except (aiohttp.ClientError, asyncio.TimeoutError, Unroutable) as error:
            log.info("an agent's file could not be fetched to attach (%s); its link goes instead", type(error).__name__)
            return None

    async def _files(self, reply: Reply, files: list[dict[str, Any]]) -> list[OutgoingFile]:
        outgoing, budget = [], MAX_ATTACHED_BYTES
        for index, file in enumerate(files):
            data = await self._bytes(reply.id, index, budget) if budget > 0 else None
            if data is not None:
                budget -= len(data)
            outgoing.append(OutgoingFile(name=file.get("name") or "file", content_type=file.get("content_type"),
                                         data=data, url=file.get("url")))
        return outgoing

    def handles(self, conversation: ConversationRecord) -> bool:
        return conversation.source == SOURCE

    async def send_reply(self, conversation: ConversationRecord, reply: Reply, files: list[dict[str, Any]]) -> None:
        parent = await channels.latest_received_mail(conversation.id)
        if parent is None or not parent.reply_to:
            raise GiveUp("no mail of the customer to answer")
        message = compose_reply(
            email_from=self.email_from,
            agent_name=reply.agent_name,
            to_address=parent.reply_to,
            to_name=parent.reply_name,
            subject=parent.subject,
            parent_id=None if parent.mail_id.endswith("@baton.invalid>") else parent.mail_id,
            parent_references=parent.references,
            text=reply.text,
            files=await self._files(reply, files),
            now=self.clock(),
        )
        known = await channels.sent_mail_id(reply.id)
        if known:
            del message["Message-ID"]
            message["Message-ID"] = known
        else:
            await channels.remember_mail(conversation.id, message["Message-ID"], outbound=True, now=self.clock(),
                                         message_id=reply.id, subject=message["Subject"])
        await self.sender.send(message)

    async def send_status(self, conversation: ConversationRecord, event: StatusEvent, detail: str | None) -> None:
        return None

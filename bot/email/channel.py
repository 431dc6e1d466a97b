"""The way back to a customer who wrote: the claiming agent's replies by SMTP (SPEC 3.7), for the outbox's
`source` target, which carries them durably and in order and retries on RetryLater.

A reply answers the customer's newest mail of the conversation (`Re:` its subject, `In-Reply-To` and
`References` so it sits in their thread), from BATON_EMAIL_FROM with the agent's name. Its Message-ID is
stored before the first try and reused by every retry, so it is remembered for threading and a mail
client sees one message even if a server accepted a try Baton could not confirm. Statuses are not mailed.
"""

from __future__ import annotations

from typing import Any

from bot.core import channels
from bot.delivery.poster import GiveUp
from bot.domain import ConversationRecord, Reply, StatusEvent
from bot.email.reply import OutgoingFile, compose_reply
from bot.email.routes import SOURCE
from bot.email.smtp import SmtpSender


class EmailChannel:
    name = "email"

    def __init__(self, sender: SmtpSender, *, email_from: str, clock) -> None:
        self.sender = sender
        self.email_from = email_from
        self.clock = clock

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
            files=[OutgoingFile(name=f.get("name") or "file", content_type=f.get("content_type"), url=f.get("url"))
                   for f in files],
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

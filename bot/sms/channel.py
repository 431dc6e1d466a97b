"""The way back to a customer who texted: the claiming agent's replies as SMS (SPEC 3.6), for the outbox's
`source` target, which carries them durably and in order and retries on RetryLater.

A reply comes from the Baton number the customer wrote to. Each part sent is recorded before the next goes,
so a reply cut short (429, a 5xx, a crash) continues with the part after, never repeating one. A number that
texted STOP gets nothing more: the reply is given up before Twilio is asked, and the thread says why.
Statuses (claimed, wrapped up) are not texted: every SMS costs the customer, and they hear from the agent.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core import channels
from bot.delivery.poster import GiveUp
from bot.domain import ConversationRecord, Reply, StatusEvent
from bot.sms.routes import SOURCE, numbers_of
from bot.sms.sender import OPTED_OUT, SentSms, TwilioSender

log = logging.getLogger(__name__)

OPTED_OUT_REASON = "the customer opted out (STOP)"


class SmsChannel:
    name = "sms"

    def __init__(self, sender: TwilioSender) -> None:
        self.sender = sender

    def handles(self, conversation: ConversationRecord) -> bool:
        return conversation.source == SOURCE

    async def close(self) -> None:
        await self.sender.close()

    async def send_reply(self, conversation: ConversationRecord, reply: Reply, files: list[dict[str, Any]]) -> None:
        if await channels.is_opted_out(SOURCE, conversation.external_id):
            raise GiveUp(OPTED_OUT_REASON, code=str(OPTED_OUT))
        baton_number, customer = numbers_of(conversation.external_id)
        # Twilio fetches media itself: only links it can open (Baton's signed file links) go as MMS.
        media = [f["url"] for f in files if isinstance(f.get("url"), str) and f["url"].startswith("https://")]
        text = reply.text
        unlinked = [f.get("name") or "file" for f in files if f.get("url") not in media]
        if unlinked:
            text = (text + "\n" if text else "") + "(files not sent by SMS: " + ", ".join(unlinked) + ")"
        start = await channels.parts_sent(reply.id)

        async def sent(index: int, sms: SentSms) -> None:
            await channels.record_parts_sent(reply.id, index + 1)

        await self.sender.send_reply(customer, text, from_number=baton_number, media_urls=media, start_at=start,
                                     on_sent=sent)

    async def send_status(self, conversation: ConversationRecord, event: StatusEvent, detail: str | None) -> None:
        return None

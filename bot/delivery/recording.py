"""A delivery target that renders cards and keeps them in the database instead of posting them.

It proves the pipeline end to end without a Slack or Teams account (`baton demo`, foundation tests).
"""

from __future__ import annotations

import logging
from typing import Any

from bot.cards import slack as slack_cards
from bot.cards import teams as teams_cards
from bot.delivery.poster import OutgoingMessage, ThreadRef
from bot.domain import ConversationFacts, CustomerSummary

log = logging.getLogger(__name__)


def render_both(summary: CustomerSummary) -> dict[str, Any]:
    return {
        "slack": {"text": slack_cards.summary_fallback_text(summary), "blocks": slack_cards.render_summary_blocks(summary)},
        "teams": teams_cards.render_summary_card(summary),
    }


class RecordingPoster:
    name = "record"

    def __init__(self) -> None:
        self.replies: list[tuple[str, OutgoingMessage]] = []
        self.redactions: list[tuple[str, OutgoingMessage]] = []

    async def open_thread(self, conversation: ConversationFacts, summary: CustomerSummary | None) -> ThreadRef:
        payload = render_both(summary) if summary else {"header": f"Conversation #{conversation.public_id}"}
        return ThreadRef(channel="record", root_ref=conversation.public_id, thread_ref=conversation.public_id, payload=payload)

    async def post_reply(self, thread: ThreadRef, message: OutgoingMessage) -> str:
        self.replies.append((thread.thread_ref, message))
        log.debug("recorded reply %s in %s", message.id, thread.thread_ref)
        return f"record:{message.id}"

    async def redact_reply(self, thread: ThreadRef, ref: str, message: OutgoingMessage) -> None:
        self.redactions.append((ref, message))

    async def update_card(self, thread: ThreadRef, summary: CustomerSummary) -> Any:
        return render_both(summary)

"""What a platform must offer the delivery worker: open a thread, reply in it, edit its card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable, Protocol

from bot.domain import Alert, ConversationFacts, CustomerSummary


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429 + Retry-After) or failed transiently."""

    def __init__(self, seconds: float, reason: str):
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


class Paced(Exception):
    """Baton's own pacing, before anything was posted: the channel has no posting slot now (its slots go
    to root cards first). The worker puts the job back for `seconds` with no attempt counted (nothing
    failed): as card work when a root card waits (`card`), else behind every job with card work."""

    def __init__(self, seconds: float, *, card: bool = False):
        super().__init__(f"paced for {seconds:.2f}s")
        self.seconds = seconds
        self.card = card


class GiveUp(Exception):
    """The platform refused for good (an opted-out number, an address that does not exist): retrying
    cannot help. `reason` is fit to show an agent and holds no personal data; `code` is the platform's
    own error code when it gave one (Twilio 21610, SMTP 550)."""

    def __init__(self, reason: str, *, code: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class Unroutable(Exception):
    """No channel is configured for this conversation's queue on this platform.

    Its reason starts with "no channel" (bot.core.routing.NO_CHANNEL): a `route here` finds the waiting work by it."""


@dataclass(frozen=True)
class ThreadRef:
    channel: str
    root_ref: str  # Slack: the card's ts; Teams: the card's activity id
    thread_ref: str  # Slack: thread_ts (= root ts); Teams: the thread's conversation id
    payload: Any = None  # what was sent, for the recording target


@dataclass(frozen=True)
class OutgoingMessage:
    id: int
    sender: str  # customer | bot | agent | system
    sender_label: str  # the name shown: the customer's name, the bot's name (never just "Bot" for customers)
    text: str
    attachments: tuple[dict[str, Any], ...]
    internal: bool
    at: datetime
    transcript: bool = False  # a line the handoff brought (may go out with its neighbours as one post)
    alert: Alert | None = None  # a timer's line that must reach people beyond the thread


class ThreadPoster(Protocol):
    name: str

    async def open_thread(self, conversation: ConversationFacts, summary: CustomerSummary | None) -> ThreadRef:
        """Post the thread root: the summary card, or a plain header for card-less kinds (summary None)."""

    async def post_reply(self, thread: ThreadRef, message: OutgoingMessage) -> str | None:
        """Post one message in the thread; returns its platform id (Slack ts, Teams activity id)."""

    async def redact_reply(self, thread: ThreadRef, ref: str, message: OutgoingMessage) -> None:
        """A posted customer message was anonymized: remove or rewrite it there (`message` as it is now)."""

    async def update_card(self, thread: ThreadRef, summary: CustomerSummary) -> Any:
        """Edit the card in place; may return the payload sent (recording target)."""

    # Optional: `async def post_file(thread, message, file: CustomerFile, *, link: str | None) -> str | None`
    # puts a customer's file into the thread as a real file (Slack external upload, a Teams attachment;
    # `link` is the signed Baton link to it, for platforms that can show only a link); returns its id there.


class CheckedPoster(Protocol):
    """A platform whose posts carry a mark Baton can read back (Slack message metadata), so that a sync
    which may have posted before a crash looks before posting again (docs/decisions.md)."""

    async def find_root(self, conversation: ConversationFacts, conversation_id: int) -> ThreadRef | None:
        """The thread root Baton posted for this conversation, if the platform has it."""

    async def posted_replies(self, thread: ThreadRef, conversation_id: int) -> list[tuple[int, int, str]]:
        """(first message id, last message id, platform ref) of every reply Baton posted in the thread."""


class DeliveryTarget(Protocol):
    """Anything the outbox worker can bring up to date for one conversation (re-entrant)."""

    name: str

    async def sync(
        self, conversation_id: int, *, settings: Any, now: datetime, keep_alive: Callable[[], Awaitable[None]],
        lease: Any = None,
    ) -> None: ...

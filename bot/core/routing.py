"""Which channel takes a queue's handoffs on each platform, and what happens when none can.

A `route here` in a channel (stored) wins; otherwise the platform's default channel from the
environment (BATON_SLACK_CHANNEL, BATON_TEAMS_CHANNEL). A conversation that no thread target can
route stays queued and is retried every minute (a `route here` makes it due at once); one that came
from Bot Framework is also marked failed, so the bot hears `handoff.status failed` and can tell the
customer (SPEC 3.2).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.core.services import Services
from bot.domain import Alert
from bot.settings import Settings
from storage import audit, conversations, outbox, routes

log = logging.getLogger(__name__)

# Every Unroutable reason starts with this, so waiting work can be found again when a route appears.
NO_CHANNEL = "no channel"



async def channel_for(target: str, queue: str | None, *, settings: Settings | None = None, default: str | None = None
                      ) -> tuple[str, dict[str, Any] | None] | None:
    """(channel id, stored platform reference) for a queue on `target`, or None when nothing routes it.

    With `settings`, the order is `Settings.channel_for`'s: the queue's `route here`, its `[routing.<queue>]`,
    `route here` without a queue, `[routing.default]`, then the environment's channel. Without (a poster built
    by hand), stored routes then `default`."""
    stored = await routes.routes_for(target, queue)
    if settings is not None:
        channel = settings.channel_for(target, queue, routed={key: ch for key, (ch, _) in stored.items()})
    else:
        channel = next((stored[k][0] for k in ([queue] if queue else []) + [routes.DEFAULT_QUEUE] if k in stored), default)
    if not channel:
        return None
    reference = next((ref for ch, ref in stored.values() if ch == channel and isinstance(ref, dict)), None)
    return channel, reference


async def set_route(services: Services, actor, target: str, channel: str, queue: str | None, reference: Any) -> None:
    await routes.set_route(target, queue, channel, reference=reference, by=audit.actor_key(actor), now=services.clock())
    # Work that waited for a route runs now instead of after its backoff.
    await outbox.retry_now(target, error_prefix=NO_CHANNEL, now=services.clock())
    services.wake()


async def cannot_route(services: Services, conversation_id: int) -> bool:
    """Called after a thread target found no channel. Fails a Bot Framework handoff once every thread
    target of this process is stuck the same way. True when it was failed now."""
    if not await outbox.unroutable_on_all(conversation_id, services.thread_targets, error_prefix=NO_CHANNEL):
        return False
    failed = await conversations.fail_unroutable(conversation_id, targets=services.targets, now=services.clock())
    if failed:
        services.wake()
        log.warning("conversation %s has no channel on any platform: handoff.status failed sent", conversation_id)
    return failed


# --------------------------------------------------------------------------- who a timer reaches

ALERT_KINDS = ("reminder", "escalation")  # Message.kind of the timers' thread lines
_SLACK_ID = re.compile(r"[A-Z0-9]{3,}")
SLACK_CONVERSATION_PREFIXES = "CGDUW"  # a channel, a private channel, a DM, a user: chat.postMessage takes each


def _slack_group(value: str) -> bool:
    return value[0] == "S" and bool(_SLACK_ID.fullmatch(value))


def _slack_conversation(value: str) -> bool:
    return value[0] in SLACK_CONVERSATION_PREFIXES and bool(_SLACK_ID.fullmatch(value))


def _mention_on(platform: str, audience: str | None) -> str | None:
    """`notify` is one value for every platform: a Slack user group id means something in Slack only,
    anything else is a Teams tag (never a Slack id or a channel)."""
    if not audience:
        return None
    if platform == "slack":
        return audience if _slack_group(audience) else None
    if platform == "teams":
        slackish = _SLACK_ID.fullmatch(audience) and audience[0] in "S" + SLACK_CONVERSATION_PREFIXES
        return None if slackish or audience.startswith("19:") else audience
    return None


def _destination_on(platform: str, audience: str | None) -> str | None:
    if not audience:
        return None
    if platform == "slack":
        return audience if _slack_conversation(audience) else None
    if platform == "teams":
        return audience if audience.startswith("19:") else None
    return None


def alert_for(platform: str, kind: str, queue: str | None, settings: Settings) -> Alert | None:
    """How a reminder or an escalation of `queue` reaches people on `platform` (SPEC 5).

    A reminder mentions the queue's `notify` group when it has one there, else it is shown in the
    channel. An escalation is posted, with a link to the thread, to `escalate_to` when that is a channel
    or user of this platform; an `escalate_to` user group is mentioned instead; with neither, the
    escalation is shown in the channel and mentions `notify` like a reminder."""
    if kind not in ALERT_KINDS:
        return None
    notify = _mention_on(platform, settings.notify_for(queue))
    if kind == "reminder":
        return Alert(kind, broadcast=notify is None, mention=notify)
    escalate_to = settings.escalate_to_for(queue)
    elsewhere = _destination_on(platform, escalate_to)
    if elsewhere:
        return Alert(kind, elsewhere=elsewhere)
    mention = _mention_on(platform, escalate_to) or notify
    return Alert(kind, broadcast=True, mention=mention)

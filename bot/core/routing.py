"""Which channel takes a queue's handoffs on each platform, and what happens when none can.

A `route here` in a channel (stored) wins; otherwise the platform's default channel from the
environment (BATON_SLACK_CHANNEL, BATON_TEAMS_CHANNEL). A conversation that no thread target can
route stays queued and is retried every minute (a `route here` makes it due at once); one that came
from Bot Framework is also marked failed, so the bot hears `handoff.status failed` and can tell the
customer (SPEC 3.2).
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core.services import Services
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

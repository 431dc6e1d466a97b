"""SPEC 5 timers: re-announce and escalate unclaimed handoffs, auto-wrap idle ones, enforce retention.

Each sweep is idempotent and safe to run in every process at once (compare-and-set updates).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.core import actions, events
from bot.core.services import Services
from bot.domain import SYSTEM_ACTOR
from bot.errors import UserError
from storage import conversations, timers

log = logging.getLogger(__name__)

REMINDED, ESCALATED = 1, 2


async def sweep_unclaimed(services: Services) -> int:
    settings, now = services.settings, services.clock()
    sent = 0
    # The line's kind says who else it reaches: routing.alert_for decides it per platform at delivery.
    for level, kind, minutes, text in (
        (REMINDED, "reminder", settings.timers.reminder_minutes, "Still waiting for an agent after {m:g} minutes. Claim it from the card."),
        (ESCALATED, "escalation", settings.timers.escalate_minutes, "Escalated: unclaimed for {m:g} minutes."),
    ):
        for conversation_id in await timers.unclaimed_due(level, now - timedelta(minutes=minutes)):
            if await timers.mark_level(conversation_id, level):
                await conversations.add_message(
                    conversation_id, sender="system", text=text.format(m=minutes), sender_name="Baton",
                    posted_from=None, internal=True, targets=services.thread_targets, now=now, kind=kind,
                )
                sent += 1
    if sent:
        services.wake()
    return sent


async def sweep_idle(services: Services) -> int:
    cutoff = services.clock() - timedelta(minutes=services.settings.timers.auto_wrapup_minutes)
    wrapped = 0
    for conversation_id in await timers.idle_claimed(cutoff):
        try:
            await actions.wrap_up(services, SYSTEM_ACTOR, conversation_id, "timeout", "Idle: wrapped up automatically.")
            wrapped += 1
        except UserError:
            pass  # another process wrapped it first
    return wrapped


# Each batch is bounded (storage.timers.BATCH); a sweep stops after this many, so a lowered
# `retention_days` spreads its backlog over several days of platform rewrites instead of one burst.
RETENTION_PER_SWEEP = 1000


async def sweep_retention(services: Services) -> int:
    """Anonymize customers with no contact for `retention_days` (SPEC 5): no conversation activity,
    message, order, survey or profile edit. Never one who is still in touch."""
    cutoff = services.clock() - timedelta(days=services.settings.timers.retention_days)
    done, after = 0, None
    while done < RETENTION_PER_SWEEP:
        batch, after = await timers.customers_past_retention(cutoff, after=after)
        if not batch:
            break
        for customer_id in batch:
            try:
                await actions.anonymize(services, SYSTEM_ACTOR, customer_id)
            except Exception:  # one customer's failure must not stop the sweep; the next sweep retries it
                log.exception("retention: could not anonymize customer %d", customer_id)
                continue
            done += 1
    if done:
        log.info("retention: anonymized %d customers", done)
    return done


async def sweep_event_ids(services: Services) -> int:
    """De-duplication keys of Slack and Teams events outlive every platform retry by far."""
    return await events.forget_old(services.clock())

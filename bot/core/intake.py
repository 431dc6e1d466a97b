"""One intake path for every handoff source: normalize identities, score sentiment, store durably."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from bot.core import sentiment
from bot.domain import Handoff, IntakeResult
from bot.identity import identities_of
from storage.intake import store_handoff


async def accept_handoff(handoff: Handoff, *, targets: Sequence[str], now: datetime) -> IntakeResult:
    """Store the handoff (and its outbox work) before the caller acknowledges it."""
    said = [line.text for line in handoff.transcript if line.sender == "customer"]
    scored = None
    if said:
        scored = (sentiment.score_text(" ".join(said)), sentiment.customer_text(said))
    return await store_handoff(
        handoff,
        identities_of(handoff.customer),
        targets=list(targets),
        sentiment=scored,
        now=now,
    )

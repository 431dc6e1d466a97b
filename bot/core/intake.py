"""One intake path for every handoff source: normalize identities, score sentiment, store durably.

`IntakeBatcher` adds group commit for busy webhooks: handoffs that arrive while a commit is running
are stored together in the next one (one statement per table), so a burst costs a few transactions
instead of one each. Nobody waits for a batch to fill: a lone handoff is committed at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Sequence

from bot.core import sentiment
from bot.domain import CustomerFile, Handoff, IntakeResult
from bot.identity import identities_of
from storage.intake import NewHandoff, store_handoff, store_new

log = logging.getLogger(__name__)


def prepare(handoff: Handoff, now: datetime, *, join_open: bool = False, mail: dict[str, Any] | None = None,
            files: Sequence[CustomerFile] = (), answers: Sequence[str] | None = None) -> NewHandoff:
    said = [line.text for line in handoff.transcript if line.sender == "customer"]
    scored = (sentiment.score_text(" ".join(said)), sentiment.customer_text(said)) if said else None
    return NewHandoff(handoff, tuple(identities_of(handoff.customer)), scored, now, join_open, mail, tuple(files),
                      None if answers is None else tuple(answers))


async def accept_handoff(handoff: Handoff, *, targets: Sequence[str], now: datetime) -> IntakeResult:
    """Store the handoff (and its outbox work) before the caller acknowledges it."""
    item = prepare(handoff, now)
    return await store_handoff(
        handoff, item.identities, targets=list(targets), sentiment=item.sentiment, now=now
    )


class IntakeBatcher:
    MAX_BATCH = 32

    def __init__(self, targets: Sequence[str]) -> None:
        self.targets = list(targets)
        self._waiting: list[tuple[NewHandoff, asyncio.Future[IntakeResult]]] = []
        self._committing = False

    async def accept(self, handoff: Handoff, *, now: datetime, join_open: bool = False,
                     mail: dict[str, Any] | None = None, files: Sequence[CustomerFile] = (),
                     answers: Sequence[str] | None = None) -> IntakeResult:
        """Resolves once the handoff is committed (never before), exactly like `accept_handoff`.

        A customer channel's text (`join_open`, see `storage.intake.NewHandoff`) whose conversation is open is
        not stored: the answer names that conversation (created=False) for the caller to add the text to it.
        `mail`: the received mail's Message-ID record, and `files` the customer's files, stored with the
        conversation it opens (in its transaction). `answers`: a received mail's In-Reply-To / References,
        nearest first; its thread is looked up in the batch, and a mail received before is answered
        `duplicate` (see `storage.intake.NewHandoff`)."""
        future: asyncio.Future[IntakeResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((prepare(handoff, now, join_open=join_open, mail=mail, files=files, answers=answers),
                              future))
        if not self._committing:
            self._committing = True
            asyncio.get_running_loop().create_task(self._commit_waiting())
        return await future

    async def _commit_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.MAX_BATCH], self._waiting[self.MAX_BATCH :]
                await self._commit(batch)
        finally:
            self._committing = False

    async def _commit(self, batch: list[tuple[NewHandoff, asyncio.Future[IntakeResult]]]) -> None:
        try:
            results = await store_new([item for item, _ in batch], targets=self.targets)
        except Exception:  # e.g. a concurrent identity insert: nothing of the batch was kept; go one by one
            log.warning("group commit of %d handoffs failed; storing them one by one", len(batch), exc_info=True)
            results = [None] * len(batch)
        for (item, future), result in zip(batch, results):
            if result is None:  # a replay, or a repeat inside the batch
                try:
                    result = await store_handoff(
                        item.handoff, item.identities, targets=self.targets, sentiment=item.sentiment, now=item.now,
                        join_open=item.join_open, mail=item.mail, files=item.files, answers=item.answers,
                    )
                except Exception as error:  # the caller's request fails with it; the others go on
                    if not future.done():
                        future.set_exception(error)
                    continue
            if not future.done():
                future.set_result(result)

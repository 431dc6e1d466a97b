"""The durable outbox: enqueue, lease, complete, retry (SPEC 5 Delivery).

Leases are taken with a compare-and-set UPDATE, which is atomic on both SQLite and PostgreSQL, so any
number of Baton processes can share one database without two of them syncing the same thread at once.

Leases are short (`LEASE`) and the worker renews every lease it holds in one statement while its syncs
run (`renew_all`): a process killed with `kill -9` stops renewing, and its work is due again within
seconds instead of minutes. A batch of due jobs is leased with one statement whatever its size, card
work (root cards, edits) first: a job left with only thread replies waits behind it (`defer`, `priority`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise import connections
from tortoise.expressions import Case, F, Q, Value, When
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from storage import db, lanes
from storage.models import OutboxJob

LEASE = timedelta(seconds=6)  # renewed every RENEW_EVERY while held; a dead process's work is free after this
RENEW_EVERY = timedelta(seconds=1.5)
MAX_ATTEMPTS = 25
# OutboxJob.priority, leased in this order: a card edit an agent's action asked for (its sync runs in
# SQLite's urgent lane, storage.lanes), card work (a root card, an edit), only thread replies left.
AGENT_WAITING, CARD_WORK, REPLIES_ONLY = -1, 0, 1
_AT = OutboxJob._meta.fields_map["available_at"]
_batches = itertools.count(1)


@dataclass(frozen=True)
class Lease:
    job_id: int
    target: str
    conversation_id: int
    revision: int  # the requested revision this sync will satisfy
    attempts: int
    # Whether an earlier sync may have posted without recording it: the job's previous lease ran out
    # (its process died or stalled) or its last sync failed. The sync then checks the platform first.
    suspect: bool = False
    token: str = ""  # the lease_owner value of this lease: "<worker>.<batch>"
    urgent: bool = False  # an agent's action asked for this work (`AGENT_WAITING`)


async def enqueue(target: str, conversation_id: int, *, now: datetime) -> None:
    """Ask for the conversation to be brought up to date on `target` (keeps any Retry-After delay)."""
    # New work is card work (priority 0), or an agent's (-1: asked for inside `lanes.urgent()`, which
    # bot.core.interactions wraps every click, command and thread message in; an agent's that is still
    # waiting stays one). A job that only waited for its channel's posting slot (priority 1, see `defer`)
    # is due at once: the edit it now needs is not paced.
    agent = lanes.is_urgent()
    # (`then=F(…)`: PostgreSQL takes the CASE's type from the column, not from the parameters.)
    priority = AGENT_WAITING if agent else Case(When(priority=AGENT_WAITING, then=F("priority")),
                                                default=Value(CARD_WORK))
    bumped = await OutboxJob.filter(target=target, conversation_id=conversation_id).update(
        requested_rev=F("requested_rev") + 1, dead=False, priority=priority,
        available_at=Case(When(priority=REPLIES_ONLY, then=Value(now)), default=F("available_at")),
    )
    if bumped:
        return
    try:
        # A savepoint when called inside a transaction: on PostgreSQL a failed INSERT would otherwise
        # abort the caller's whole transaction (an anonymize, a claim) instead of just this attempt.
        async with in_transaction():
            await OutboxJob.create(target=target, conversation_id=conversation_id, requested_rev=1, available_at=now,
                                   priority=AGENT_WAITING if agent else CARD_WORK)
    except IntegrityError:  # another transaction created it meanwhile: bump it as above
        await OutboxJob.filter(target=target, conversation_id=conversation_id).update(
            requested_rev=F("requested_rev") + 1, priority=priority
        )



_DUE_SQL = ("dead = {false} AND available_at <= {now} AND done_rev < requested_rev "
            "AND (lease_until IS NULL OR lease_until < {now})")
EXPIRED = "lease expired"  # last_error of a job leased again after its previous lease ran out


def _lease_sql(dialect: str, targets: int, skip: int) -> str:
    """One compare-and-set UPDATE … RETURNING for a whole batch: card work first, then the oldest.

    Only one process's UPDATE matches a row that is still unleased (on PostgreSQL the candidates are
    locked with SKIP LOCKED, so two leasers take different rows instead of waiting on each other). A
    job whose previous lease ran out (its process died or stalled mid-sync) gets `EXPIRED` as its
    last_error in the same statement, so the sync knows to check the platform before posting."""
    if dialect == "postgres":
        due = _DUE_SQL.format(false="false", now="$1")
        return (
            f"UPDATE outbox_job SET lease_owner = $2, lease_until = $3, "
            f"last_error = CASE WHEN lease_owner IS NULL THEN last_error ELSE '{EXPIRED}' END "
            # `id = ANY(ARRAY(…))`, not `id IN (…)`: a plan cached while the table was small joined the
            # candidates to a scan of the whole table; this way both reads go through `outbox_pending`.
            f"WHERE id = ANY(ARRAY(SELECT id FROM outbox_job WHERE {due} AND target = ANY($4::text[]) "
            f"AND NOT (id = ANY($5::int[])) ORDER BY priority, available_at, id LIMIT $6 FOR UPDATE SKIP LOCKED)) "
            f"AND {due} RETURNING id, target, conversation_id, requested_rev, attempts, last_error, priority"
        )
    due = _DUE_SQL.format(false="0", now="?1")
    targets_in = ",".join(f"?{4 + i}" for i in range(targets))
    skip_in = ",".join(f"?{4 + targets + i}" for i in range(skip)) or "0"
    return (
        f"UPDATE outbox_job SET lease_owner = ?2, lease_until = ?3, "
        f"last_error = CASE WHEN lease_owner IS NULL THEN last_error ELSE '{EXPIRED}' END "
        # `+target`: SQLite's idiom for "not by this column's index"; without it the planner reads every job
        # of the target through the (target, conversation) key instead of the pending ones in lease order.
        f"WHERE id IN (SELECT id FROM outbox_job WHERE {due} AND +target IN ({targets_in}) "
        f"AND id NOT IN ({skip_in}) ORDER BY priority, available_at, id LIMIT ?{4 + targets + skip}) "
        f"AND {due} RETURNING id, target, conversation_id, requested_rev, attempts, last_error, priority"
    )


async def lease_due(owner: str, *, now: datetime, limit: int, targets: list[str],
                    skip: frozenset[int] = frozenset()) -> list[Lease]:
    """Lease up to `limit` due jobs (not those in `skip`, which this worker is syncing already): one statement."""
    if not targets or limit <= 0:
        return []
    conn = connections.get("default")
    dialect = conn.capabilities.dialect
    token = f"{owner}.{next(_batches)}"
    at = _AT.to_db_value(now, OutboxJob)
    until = _AT.to_db_value(now + LEASE, OutboxJob)
    if dialect == "postgres":
        values = [at, token, until, list(targets), sorted(skip), limit]
    else:
        values = [at, token, until, *targets, *sorted(skip), limit]
    rows = await conn.execute_query_dict(_lease_sql(dialect, len(targets), len(skip)), values)
    leases = [Lease(row["id"], row["target"], row["conversation_id"], row["requested_rev"], row["attempts"],
                    suspect=_unsure(row["last_error"]), token=token, urgent=row["priority"] == AGENT_WAITING)
              for row in rows]
    return sorted(leases, key=lambda lease: lease.job_id)


def _unsure(error: str | None) -> bool:
    """A failure after which a post may have reached the platform: not a refusal before any post
    (no channel) nor a rate limit (a 429 is answered instead of posting)."""
    return error is not None and not error.startswith("no channel") and not error.endswith("rate limited")


async def renew(lease: Lease, owner: str, *, now: datetime) -> None:
    await OutboxJob.filter(id=lease.job_id, lease_owner=lease.token or owner).update(lease_until=now + LEASE)


async def renew_all(owner: str, job_ids: list[int], *, now: datetime) -> set[int]:
    """Extend every lease this worker holds among `job_ids`; returns the ids whose lease it still holds."""
    if not job_ids:
        return set()
    await OutboxJob.filter(id__in=job_ids, lease_owner__startswith=f"{owner}.").update(lease_until=now + LEASE)
    return set(await OutboxJob.filter(id__in=job_ids, lease_owner__startswith=f"{owner}.").values_list("id", flat=True))


_RENEW_SQL = ("UPDATE outbox_job SET lease_until = $1 WHERE id = ANY($2::bigint[]) AND lease_owner LIKE $3 "
              "RETURNING id")
_TAKEN_SQL = "SELECT id FROM outbox_job WHERE id = ANY($1::bigint[]) AND lease_owner NOT LIKE $2"


class LeaseRenewer:
    """`renew_all` for a worker's heartbeat. On PostgreSQL it runs on a connection of its own: in the
    shared pool a renewal queued behind hundreds of running syncs' queries, came later than the 6 s
    lease, and another process took (and posted again) work this one was still posting (the soak run
    found duplicated transcripts that way). One statement: UPDATE … RETURNING."""

    def __init__(self) -> None:
        self._conn = None

    async def renew_all(self, owner: str, job_ids: list[int], *, now: datetime) -> set[int]:
        if not job_ids:
            return set()
        if self._conn is None or self._conn.is_closed():
            self._conn = await db.side_connection()
        if self._conn is None:  # SQLite: one connection for everything
            return await renew_all(owner, job_ids, now=now)
        try:
            rows = await self._conn.fetch(_RENEW_SQL, now + LEASE, job_ids, f"{owner}.%",
                                          timeout=RENEW_EVERY.total_seconds() * 2)
        except Exception:
            await self.close()  # a broken connection: the next beat opens a new one
            raise
        return {row["id"] for row in rows}

    async def taken(self, owner: str, job_ids: list[int]) -> set[int]:
        """Which of `job_ids` another worker leases now. A job not renewed may also just have been
        completed or pushed back by this worker (its lease cleared a moment before the renewal ran):
        that sync is finishing, not lost, and must not be cancelled."""
        if not job_ids:
            return set()
        if self._conn is None:
            return set(await OutboxJob.filter(id__in=job_ids, lease_owner__isnull=False)
                       .exclude(lease_owner__startswith=f"{owner}.").values_list("id", flat=True))
        rows = await self._conn.fetch(_TAKEN_SQL, job_ids, f"{owner}.%", timeout=RENEW_EVERY.total_seconds() * 2)
        return {row["id"] for row in rows}

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=2)
            except Exception:  # closing a broken connection: nothing left to do
                conn.terminate()


# An agent's job stays urgent only while work asked for during the sync is left (requested_rev moved on).
_COMPLETE = ("UPDATE outbox_job SET done_rev = {0}, lease_owner = NULL, lease_until = NULL, attempts = 0, "
             f"last_error = NULL, priority = CASE WHEN requested_rev = {{0}} THEN {CARD_WORK} ELSE priority END "
             "WHERE id = {1} AND lease_owner = {2}")
_COMPLETE_SQL = (_COMPLETE.format("?1", "?2", "?3"), _COMPLETE.format("$1", "$2", "$3"))  # SQLite, PostgreSQL


async def complete(lease: Lease, owner: str) -> None:
    """Record the revision reached; work requested meanwhile keeps the job due."""
    conn = connections.get("default")
    await conn.execute_query(_COMPLETE_SQL[conn.capabilities.dialect == "postgres"],
                             [lease.revision, lease.job_id, lease.token or owner])


async def retry_later(
    lease: Lease, owner: str, *, now: datetime, delay: float, error: str, unless_new_work: bool = False
) -> bool:
    """Push the job back by `delay` seconds. Returns False when it has now failed too often (dead).

    With `unless_new_work`, work requested during the failed sync (e.g. `route here` just fixed the cause)
    makes the job due at once instead of after the delay.
    """
    attempts = lease.attempts + 1
    dead = attempts >= MAX_ATTEMPTS
    if unless_new_work:
        owner = lease.token or owner
        pushed = await OutboxJob.filter(id=lease.job_id, lease_owner=owner, requested_rev=lease.revision).update(
            available_at=now + timedelta(seconds=delay), lease_owner=None, lease_until=None,
            attempts=attempts, last_error=error[:500], dead=dead,
        )
        if not pushed:
            await OutboxJob.filter(id=lease.job_id, lease_owner=owner).update(
                available_at=now, lease_owner=None, lease_until=None, last_error=error[:500]
            )
        return not dead
    await OutboxJob.filter(id=lease.job_id, lease_owner=lease.token or owner).update(
        available_at=now + timedelta(seconds=delay),
        lease_owner=None,
        lease_until=None,
        attempts=attempts,
        last_error=error[:500],
        dead=dead,
    )
    return not dead


async def defer(lease: Lease, owner: str, *, now: datetime, delay: float, card: bool = False) -> None:
    """The sync stopped before a post because its channel had no posting slot (pacing): the job is due
    again when the slot comes, with no attempt counted; as card work (`card`: its root card waits), else
    behind every job with card work. Nothing was posted without its record, so the next sync need not
    check the platform.

    Work requested while the sync ran (a note, a claim: a card edit, which is not paced) keeps the job
    due at once as card work: pushing it to the channel's next slot behind every card made a card edit
    wait 1-2 s for a slot it does not need."""
    owner = lease.token or owner
    pushed = await OutboxJob.filter(id=lease.job_id, lease_owner=owner, requested_rev=lease.revision).update(
        available_at=now + timedelta(seconds=delay), lease_owner=None, lease_until=None, last_error=None,
        priority=CARD_WORK if card else REPLIES_ONLY,
    )
    if not pushed:
        await OutboxJob.filter(id=lease.job_id, lease_owner=owner).update(
            available_at=now, lease_owner=None, lease_until=None, last_error=None, priority=CARD_WORK,
        )


async def pending_counts() -> dict[str, int]:
    rows = (
        await OutboxJob.filter(done_rev__lt=F("requested_rev"), dead=False)
        .annotate(n=Count("id"))
        .group_by("target")
        .values("target", "n")
    )
    return {row["target"]: row["n"] for row in rows}


async def dead_count() -> int:
    return await OutboxJob.filter(dead=True).count()


async def retry_now(target: str, *, error_prefix: str, now: datetime) -> int:
    """Work that waited for something now fixed (e.g. a route) becomes due at once."""
    # Bumping requested_rev also reaches a job whose failing sync is running right now (see retry_later).
    # Jobs leased right now are included: their sync may be failing for the reason just fixed.
    waiting = Q(last_error__startswith=error_prefix) | Q(lease_owner__isnull=False, done_rev__lt=F("requested_rev"))
    return await OutboxJob.filter(waiting, target=target, dead=False).update(
        available_at=now, requested_rev=F("requested_rev") + 1
    )


async def unroutable_on_all(conversation_id: int, targets: list[str], *, error_prefix: str) -> bool:
    """Whether every one of `targets` last failed for this conversation because it has no channel."""
    if not targets:
        return False
    stuck = await OutboxJob.filter(
        conversation_id=conversation_id, target__in=targets, last_error__startswith=error_prefix
    ).count()
    return stuck == len(set(targets))

"""Persisting a handoff: conversation, transcript, customer match and outbox work in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Iterable, Sequence

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.domain import ConversationStatus, CustomerFile, Cut, Handoff, IntakeResult, TranscriptLine, public_id
from storage import customer_files, sql
from storage.changes import card_changed
from storage.channels import known_mail_ids
from storage.codec import to_json
from storage.customers import resolve_many
from storage.fastinsert import insert_rows
from storage.models import Activity, Case, Conversation, EmailId, IdempotentAnswer, Identity, Message, OutboxJob


def _message_rows(conversation_id: int, lines: Sequence[TranscriptLine], first_index: int, now: datetime):
    return [
        {
            "conversation_id": conversation_id,
            "sender": line.sender,
            "sender_name": line.sender_name,
            "text": line.text,
            "attachments": to_json(line.attachments),
            "internal": False,
            "transcript_index": first_index + offset,
            "at": line.at or now,
        }
        for offset, line in enumerate(lines)
    ]


def _files_row(conversation_id: int, attachments: list[dict], now: datetime) -> dict[str, Any]:
    """The customer's files as their message after the transcript (no text of its own)."""
    return {"conversation_id": conversation_id, "sender": "customer", "sender_name": None, "text": "",
            "attachments": attachments, "internal": False, "transcript_index": None, "at": now}


@dataclass(frozen=True)
class NewHandoff:
    """A parsed handoff with what the core computed for it, ready to store."""

    handoff: Handoff
    identities: tuple[tuple[str, str], ...]
    sentiment: tuple[float, str] | None
    now: datetime
    # A customer channel's text (SMS, email): when its conversation is open already, nothing is stored and the
    # answer names that conversation (created=False), for the caller to add the text as a later message.
    join_open: bool = False
    # The received mail that opens the conversation (`EmailId` fields but the conversation), stored with it.
    mail: dict[str, Any] | None = None
    # The customer's files that came with the text (mail attachments, MMS media): stored with the conversation it
    # opens, as the customer's next message, so a crash can never leave the conversation without them.
    files: tuple[CustomerFile, ...] = ()
    # A received mail's In-Reply-To / References, nearest first (None: not a mail). The batch looks them up with
    # its other mail, in one query: the handoff's conversation id becomes the thread of the nearest one Baton
    # knows (else it stays the mail's own id), and a mail whose own Message-ID was received before is answered
    # `duplicate` with nothing stored (see `_mail_threads`).
    answers: tuple[str, ...] | None = None


def open_key(source: str, external_id: str) -> str:
    """The key only one open conversation of a source's conversation id may hold (the length keeps the two
    parts apart whatever they contain); migration 0012 computes the same in SQL."""
    return f"{len(source)}:{source}{external_id}"


async def store_handoff(
    handoff: Handoff,
    identities: Iterable[tuple[str, str]],
    *,
    targets: Sequence[str],
    sentiment: tuple[float, str] | None,
    now: datetime,
    join_open: bool = False,
    mail: dict[str, Any] | None = None,
    files: Sequence[CustomerFile] = (),
    answers: Sequence[str] | None = None,
) -> IntakeResult:
    """Store one handoff before it is acknowledged. While its conversation is open, a replay appends only
    unseen transcript lines (`join_open`: nothing, see `NewHandoff`); once it ended (wrapped up or failed), the
    same source and id is the customer coming back and opens a new conversation (SPEC 3.1 returning customers)."""
    item = NewHandoff(handoff, tuple(identities), sentiment, now, join_open, mail, tuple(files),
                      None if answers is None else tuple(answers))
    attempts = 3
    for attempt in range(attempts):
        try:
            if attempt == 0:
                # Optimistic: most handoffs are new; a replay shows up as a skipped insert.
                [created] = await store_new([item], targets=targets)
                if created is not None:
                    return created
                continue
            async with in_transaction():
                [item], duplicates = await _mail_threads([item])
                if duplicates:
                    return duplicates[0]
                handoff = item.handoff
                if (answered := (await _stored_answers([item])).get(_answer_key(handoff))) is not None:
                    return answered
                existing = await Conversation.get_or_none(open_key=open_key(handoff.source, handoff.conversation_id))
                if existing is not None and join_open:
                    return IntakeResult(conversation_public_id=public_id(existing.id), created=False)
                if existing is not None:
                    result = await _append_to_existing(existing, handoff, targets, now)
                    await _remember_answers([(item, result)])
                    return result
            [created] = await store_new([item], targets=targets)
            if created is not None:
                return created
        except IntegrityError:
            # A concurrent request for the same identity or conversation: rolled back whole; look again.
            if attempt == attempts - 1:
                raise
    raise IntegrityError(f"could not store handoff {handoff.source}/{handoff.conversation_id}")


async def store_new(items: Sequence[NewHandoff], *, targets: Sequence[str]) -> list[IntakeResult | None]:
    """Insert new handoffs in ONE transaction with one statement per table (group commit).

    Returns None for an item whose (source, conversation_id) already existed, or repeated an earlier item
    of the batch: the caller replays those one by one. An item whose Idempotency-Key was answered before
    gets that first answer again, and nothing is stored for it. A `join_open` item whose conversation is open
    gets that conversation (created=False), found with one query for the batch. Received mail is threaded by
    one query for the batch too (`NewHandoff.answers`).
    """
    async with in_transaction():
        conn = connections.get("default")  # inside in_transaction(): the transaction's client
        answered = await _stored_answers(items)
        if answered:
            fresh = [item for item in items if _answer_key(item.handoff) not in answered]
            results = iter(await store_new(fresh, targets=targets) if fresh else [])
            return [answered.get(_answer_key(item.handoff)) or next(results) for item in items]
        items, duplicates = await _mail_threads(items)
        if duplicates:
            kept = iter(await _store_batch(conn, [item for n, item in enumerate(items) if n not in duplicates], targets))
            return [duplicates[n] if n in duplicates else next(kept) for n in range(len(items))]
        return await _store_batch(conn, items, targets)


async def _store_batch(conn, items: Sequence[NewHandoff], targets: Sequence[str]) -> list[IntakeResult | None]:
    """`store_new`'s inserts, inside its transaction, once the batch's answers and mail threads are known."""
    if not items:
        return []
    matches = await resolve_many([item.identities for item in items])
    numbers = sorted({item.handoff.case_number for item in items if item.handoff.case_number})
    case_ids = dict(await Case.filter(number__in=numbers).values_list("number", "id")) if numbers else {}
    previous = await _previous_conversations(items)
    inserted = await insert_rows(
        conn,
        Conversation,
        [_conversation_row(item, match, case_ids, previous) for item, match in zip(items, matches)],
        returning=("id", "source", "external_id"),
        skip_conflicts_on=("open_key",),
    )
    new_ids = {(row["source"], row["external_id"]): row["id"] for row in inserted}

    joined = await _open_conversations(
        [item for item in items if item.join_open and (item.handoff.source, item.handoff.conversation_id) not in new_ids])

    results: list[IntakeResult | None] = []
    learned, messages, activities, jobs, mails = [], [], [], [], []
    for item, match in zip(items, matches):
        conversation_id = new_ids.pop((item.handoff.source, item.handoff.conversation_id), None)
        if conversation_id is None:
            open_id = joined.get(open_key(item.handoff.source, item.handoff.conversation_id)) if item.join_open else None
            results.append(None if open_id is None else
                           IntakeResult(conversation_public_id=public_id(open_id), created=False))
            continue
        if item.mail is not None:
            mails.append({**item.mail, "conversation_id": conversation_id, "created_at": item.now})
        results.append(IntakeResult(conversation_public_id=public_id(conversation_id), created=True,
                                    warnings=item.handoff.cuts))
        messages += _message_rows(conversation_id, item.handoff.transcript, 0, item.now)
        if item.files:
            messages.append(_files_row(conversation_id, await customer_files.store(conversation_id, item.files,
                                                                                   now=item.now), item.now))
        jobs += [_outbox_row(target, conversation_id, item.now) for target in targets]
        if match.customer_id is not None:
            learned += [
                {"customer_id": match.customer_id, "kind": kind, "value": value, "created_at": item.now}
                for kind, value in item.identities
            ]
            activities.append(_conversation_activity(item, match.customer_id, conversation_id, case_ids))
    await insert_rows(conn, Identity, learned, skip_conflicts_on=("customer_id", "kind", "value"))
    await insert_rows(conn, Message, messages)
    await insert_rows(conn, Activity, activities)
    await insert_rows(conn, OutboxJob, jobs)
    await insert_rows(conn, EmailId, mails)
    await _remember_answers([(item, result) for item, result in zip(items, results) if result is not None])
    return results


async def _mail_threads(items: Sequence[NewHandoff]) -> tuple[list[NewHandoff], dict[int, IntakeResult]]:
    """The batch with each received mail in its thread, and {index: answer} for the mail received before.

    One query for the whole batch (instead of one per mail before the intake) over every mail's own Message-ID
    and the ids it answers: a mail whose own id was received before is a provider's repeat (`duplicate`, its
    conversation named); otherwise its conversation id becomes the thread (the conversation id on the email
    source) of the nearest id it answers that Baton knows, newest conversation first (a returning thread's
    latest one). Left alone when it answers none: it starts a thread of its own, named by its own id."""
    mail = [item for item in items if item.answers is not None]
    if not mail:
        return list(items), {}
    own = [item.mail["mail_id"] for item in mail if item.mail and item.mail.get("mail_id")]
    found = await known_mail_ids(own + [mail_id for item in mail for mail_id in item.answers])
    received = {mail_id: conversation_id for mail_id, outbound, _, conversation_id in found if not outbound}
    newest: dict[str, str] = {}
    for mail_id, _, thread, _ in found:  # newest conversation first
        newest.setdefault(mail_id, thread)
    threaded, duplicates = [], {}
    for n, item in enumerate(items):
        if item.answers is not None:
            own_id = item.mail.get("mail_id") if item.mail else None
            if own_id and own_id in received:
                duplicates[n] = IntakeResult(conversation_public_id=public_id(received[own_id]), created=False,
                                             duplicate=True)
            thread = next((newest[mail_id] for mail_id in item.answers if mail_id in newest), None)
            if thread is not None and thread != item.handoff.conversation_id:
                item = replace(item, handoff=replace(item.handoff, conversation_id=thread))
        threaded.append(item)
    return threaded, duplicates


async def _open_conversations(items: Sequence[NewHandoff]) -> dict[str, int]:
    """{open key: conversation id} of the items' open conversations, in one query."""
    if not items:
        return {}
    keys = sorted({open_key(item.handoff.source, item.handoff.conversation_id) for item in items})
    return dict(await Conversation.filter(open_key__in=keys).values_list("open_key", "id"))


def _answer_key(handoff: Handoff) -> tuple[str, str] | None:
    return (handoff.source, handoff.idempotency_key) if handoff.idempotency_key else None


async def _stored_answers(items: Sequence[NewHandoff]) -> dict[tuple[str, str], IntakeResult]:
    """The first answers to the batch's Idempotency-Keys, where a request with that key was answered before."""
    keys = {key for item in items if (key := _answer_key(item.handoff))}
    if not keys:
        return {}
    rows = await IdempotentAnswer.filter(
        source__in={source for source, _ in keys}, key__in={key for _, key in keys}
    ).values("source", "key", "body")
    return {(row["source"], row["key"]): _result_of(row["body"]) for row in rows if (row["source"], row["key"]) in keys}


async def _remember_answers(answered: Sequence[tuple[NewHandoff, IntakeResult]]) -> None:
    """Keep the answer of every keyed request, in the transaction that stored its work: a repeat can then
    never do the work twice, even after a crash right after the commit."""
    rows = [
        {"source": item.handoff.source, "key": item.handoff.idempotency_key, "status": 202 if result.created else 200,
         "body": _body_of(result), "created_at": item.now}
        for item, result in answered
        if item.handoff.idempotency_key
    ]
    # A concurrent twin with the same key conflicts here and its whole transaction rolls back; its retry
    # then finds this answer.
    await insert_rows(connections.get("default"), IdempotentAnswer, rows)


def _body_of(result: IntakeResult) -> dict[str, Any]:
    return {"conversation": result.conversation_public_id, "created": result.created,
            "appended_lines": result.appended_lines,
            "warnings": [{"field": cut.field, "detail": cut.detail, "omitted": cut.omitted} for cut in result.warnings]}


def _result_of(body: dict[str, Any]) -> IntakeResult:
    return IntakeResult(conversation_public_id=body["conversation"], created=bool(body["created"]),
                        appended_lines=int(body.get("appended_lines") or 0),
                        warnings=tuple(Cut(**cut) for cut in body.get("warnings") or ()))


_PREVIOUS_COLUMNS = "id, source, external_id, status, wrapup_code, wrapped_at, last_activity_at, open_key"
_WRAPPED_AT = sql.converter(Conversation, "wrapped_at")
_LAST_ACTIVITY_AT = sql.converter(Conversation, "last_activity_at")


def previous_conversations_sql(wanted: set[tuple[str, str]]) -> tuple[str, list[str]]:
    """By the (source, external_id) index: by external_id alone PostgreSQL read the whole conversation table
    for every group commit (4 ms a batch with 10,000 conversations), and with `open_key IS NULL` in the query
    SQLite read every ended conversation through the open_key index; open ones are skipped by the caller.
    Plain SQL (storage.sql): building it with the ORM cost 2 ms a batch."""
    sources = sorted({source for source, _ in wanted})
    ids = sorted({ext for _, ext in wanted})
    statement = (f"SELECT {_PREVIOUS_COLUMNS} FROM conversation WHERE source IN ({', '.join('?' * len(sources))}) "
                 f"AND external_id IN ({', '.join('?' * len(ids))}) ORDER BY id DESC")
    return statement, [*sources, *ids]


async def _previous_conversations(items: Sequence[NewHandoff]) -> dict[tuple[str, str], dict[str, Any]]:
    """For each (source, id) of the batch, its newest ended conversation (the customer is returning), in one query."""
    wanted = {(item.handoff.source, item.handoff.conversation_id) for item in items}
    rows = await sql.rows(*previous_conversations_sql(wanted))
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["source"], row["external_id"])
        if key in wanted and key not in found and row["open_key"] is None:
            ended = _WRAPPED_AT(row["wrapped_at"]) or _LAST_ACTIVITY_AT(row["last_activity_at"])
            found[key] = {"id": row["id"], "status": row["status"], "wrapup_code": row["wrapup_code"],
                          "ended_at": ended.isoformat() if ended else None}
    return found


def _conversation_row(item: NewHandoff, match, case_ids: dict[str, int], previous) -> dict[str, Any]:
    handoff, sentiment = item.handoff, item.sentiment
    omitted = {cut.field: cut.omitted for cut in handoff.cuts if cut.omitted and "." not in cut.field}
    return {
        "source": handoff.source,
        "external_id": handoff.conversation_id,
        "open_key": open_key(handoff.source, handoff.conversation_id),
        "previous": previous.get((handoff.source, handoff.conversation_id)),
        "omitted": omitted or None,
        "channel": handoff.channel,
        "kind": handoff.kind,
        "queue": handoff.queue,
        "status": ConversationStatus.QUEUED.value,
        "customer_id": match.customer_id,
        "case_id": case_ids.get(handoff.case_number) if handoff.case_number else None,
        "candidates": list(match.candidate_ids),
        "customer_input": to_json(handoff.customer),
        "prechat": to_json(handoff.prechat),
        "visitor": to_json(handoff.visitor) if handoff.visitor else None,
        "bot": to_json(handoff.bot) if handoff.bot else None,
        "origin": to_json(handoff.origin) if handoff.origin else None,
        "reply_url": handoff.reply_url,
        "last_customer_line": _last_customer_line(handoff.transcript),
        "sentiment": sentiment[0] if sentiment else None,
        "topic_text": sentiment[1] if sentiment else None,
        "reminders_sent": 0,
        "revision": 1,
        "last_activity_at": item.now,
        "created_at": item.now,
    }


def _last_customer_line(lines: Sequence[TranscriptLine]) -> str | None:
    return next((line.text for line in reversed(lines) if line.sender == "customer"), None)


def _conversation_activity(item: NewHandoff, customer_id: int, conversation_id: int, case_ids) -> dict[str, Any]:
    handoff = item.handoff
    return {
        "customer_id": customer_id,
        "at": item.now,
        "category": "conversation",
        "kind": "conversation",
        "title": f"Conversation via {handoff.channel}",
        "detail": handoff.bot.last_topic if handoff.bot else None,
        "conversation_id": conversation_id,
        "case_id": case_ids.get(handoff.case_number) if handoff.case_number else None,
    }


def _outbox_row(target: str, conversation_id: int, now: datetime) -> dict[str, Any]:
    return {"target": target, "conversation_id": conversation_id, "requested_rev": 1, "done_rev": 0,
            "available_at": now, "attempts": 0, "dead": False}


async def _append_to_existing(conversation: Conversation, handoff: Handoff, targets, now) -> IntakeResult:
    known = await Message.filter(conversation_id=conversation.id, transcript_index__not_isnull=True).count()
    new_lines = handoff.transcript[known:]
    if not new_lines:
        return IntakeResult(conversation_public_id=public_id(conversation.id), created=False, warnings=handoff.cuts)
    await insert_rows(connections.get("default"), Message, _message_rows(conversation.id, new_lines, known, now))
    if (newest := _last_customer_line(new_lines)) is not None:
        await Conversation.filter(id=conversation.id).update(last_customer_line=newest)
    await card_changed(conversation.id, targets, now)
    return IntakeResult(conversation_public_id=public_id(conversation.id), created=False, appended_lines=len(new_lines),
                        warnings=handoff.cuts)

"""Baton's own web chat (SPEC 3.5), decided once: the pre-chat rules, the visitor's token, what a visitor
may do, and what their page is told.

The edge (`bot/webchat/`) only reads HTTP and streams events. A chat starts as a handoff through the one
intake (source `baton:webchat`, channel `webchat`); the visitor's messages and files take the customer
message path of every channel (`actions.customer_message`); the claiming agent's replies and the status
changes come back through the outbox's `source` target to `WebchatChannel`, which writes them into the
visitor's event stream (`storage.webchat`), durable and ordered. Their event ids are the SSE ids.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Sequence

from bot.core import actions
from bot.core.services import Services
from bot.domain import (
    Actor,
    ConversationRecord,
    CustomerFile,
    Handoff,
    Reply,
    StatusEvent,
    parse_public_id,
)
from bot.errors import ApiError, UserError, unauthorized
from bot.identity import normalize_email, normalize_phone
from bot.links import seal, unseal
from storage import webchat as store
from storage.db import unit_of_work
from storage.summary import load_conversation

SOURCE = "baton:webchat"
CHANNEL = "webchat"
END_CODE = "visitor_ended"  # the disposition of a chat the visitor ended
END_LABEL = "Ended by the visitor"
TOKEN_CLAIM = "wc"  # the `k` claim of a visitor token: no other Baton link can pass as one
TOKEN_DAYS = 30  # a token of a chat that never ends still dies
DEAD_AFTER_END = timedelta(hours=24)
MAX_TEXT = 4000  # SPEC 3.5: the page keeps a message to this; the API cuts a longer one (3.4)
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ANSWER = 1000
MAX_COMMENT = 2000
VISITOR_LABEL = "Visitor"
SECRET_NAME = "webchat-token"


@dataclass(frozen=True)
class VisitorSession:
    """Who a valid token lets in: one conversation, nothing else."""

    conversation_id: int
    visitor_name: str | None
    ended: bool


@dataclass(frozen=True)
class Sent:
    event_id: int
    duplicate: bool  # a resend of a message already stored (same client_id)
    cut: bool = False  # the text was cut to MAX_TEXT


def cut_text(text: str, limit: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else (text[: limit - 1] + "…", True)


# --------------------------------------------------------------------------- pre-chat


def check_prechat(questions: Sequence[Any], answers: object) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The visitor's answers against `[webchat] prechat`: (pre-chat answers, customer fields they fill).

    Answers come as `[{"question": label, "answer": text}]`; a question not configured is ignored (the
    survey is the operator's). Refusals are UserErrors naming `prechat[<index of the question>]`."""
    if answers is None:
        answers = []
    if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
        raise ApiError(400, "malformed", "prechat must be a list of {question, answer} objects.")
    given: dict[str, str] = {}
    for item in answers:
        question, answer = item.get("question"), item.get("answer")
        if isinstance(question, str) and isinstance(answer, (str, int, float)) and not isinstance(answer, bool):
            given[question] = str(answer).strip()
    kept: list[dict[str, str]] = []
    customer: dict[str, str] = {}
    for index, question in enumerate(questions):
        where = f"prechat[{index}]"
        answer = cut_text(given.get(question.label, ""), MAX_ANSWER)[0]
        if not answer:
            if question.required:
                raise UserError(f"Please answer “{question.label}”.", field=where)
            continue
        if question.choices and answer not in question.choices:
            raise UserError(f"Pick one of the answers offered for “{question.label}”.", field=where)
        if question.field == "email" and normalize_email(answer) is None:
            raise UserError("That email address does not look right.", field=where)
        if question.field == "phone" and normalize_phone(answer) is None:
            raise UserError("That phone number does not look right.", field=where)
        if question.field:
            customer[question.field] = answer
        kept.append({"question": question.label, "answer": answer})
    return kept, customer


# --------------------------------------------------------------------------- tokens


async def _key(services: Services) -> str:
    return services.settings.link_secret or await store.secret(SECRET_NAME, now=services.clock())


async def verify(services: Services, token: str | None) -> VisitorSession:
    """The session a visitor token opens; 401 for anything else, and for a chat ended over 24 h ago."""
    if not token:
        raise unauthorized("Send the chat token: Authorization: Bearer <token>.")
    now = services.clock()
    claims = unseal(await _key(services), token, now=now.timestamp())
    conversation_id, nonce = claims.get("c"), claims.get("n")
    if claims.get("k") != TOKEN_CLAIM or type(conversation_id) is not int or not isinstance(nonce, str):
        raise unauthorized("This is not a chat token.")
    session = await store.session(conversation_id, nonce)
    if session is None:
        raise unauthorized("This chat token is not valid.")
    if session.ended_at is not None and now - session.ended_at > DEAD_AFTER_END:
        raise ApiError(401, "chat_expired", "This chat ended more than a day ago; start a new one.")
    return VisitorSession(conversation_id, session.visitor_name, session.ended_at is not None)


# --------------------------------------------------------------------------- the visitor's actions


async def start(services: Services, handoff: Handoff) -> tuple[str, str]:
    """One handoff through the same intake; returns (public conversation id, visitor token)."""
    now = services.clock()
    result = await services.intake.accept(handoff, now=now)
    services.wake()
    conversation_id = parse_public_id(result.conversation_public_id)
    nonce = secrets.token_urlsafe(24)
    name = handoff.customer.name
    async with unit_of_work():
        await store.open_session(conversation_id, nonce, visitor_name=name, now=now)
        await store.add_event(conversation_id, "status", {"status": "waiting", "text": "Waiting for an agent…"}, now=now)
    expires = int(now.timestamp()) + TOKEN_DAYS * 86400
    token = seal(await _key(services), {"k": TOKEN_CLAIM, "c": conversation_id, "n": nonce}, expires_at=expires)
    return result.conversation_public_id, token


def _file_items(attachments: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": a.get("name"), "content_type": a.get("content_type"), "size": a.get("size")} for a in attachments]


async def send(services: Services, session: VisitorSession, text: str, *, client_id: str | None,
               files: Sequence[CustomerFile] = ()) -> Sent:
    """A visitor message (and files) into the thread under the visitor's name, and into their own stream.
    A resend with the same client_id is the same message."""
    if session.ended:
        raise ApiError(409, "chat_ended", "This chat has ended; start a new one to write again.")
    text, was_cut = cut_text(text.strip(), MAX_TEXT)
    if not text and not files:
        raise UserError("A message needs some text or a file.", field="text")
    for file in files:
        if file.size > MAX_FILE_BYTES:
            raise ApiError(413, "body_too_large", f"A file may be at most {MAX_FILE_BYTES // (1024 * 1024)} MB.", "file")
    conversation_id = session.conversation_id
    if client_id and await store.has_client_id(conversation_id, client_id):
        return Sent(0, duplicate=True)
    now = services.clock()
    try:
        # The thread message and the visitor's own copy commit together: a crash leaves neither, so the
        # page's resend (same client_id) stores it once.
        async with unit_of_work():
            message_id, attachments = await actions.store_customer_message(
                services, conversation_id, text, sender_name=session.visitor_name or VISITOR_LABEL, files=files)
            event_id = await store.add_event(conversation_id, "message", {
                "from": "visitor", "name": session.visitor_name or VISITOR_LABEL, "text": text,
                "files": _file_items(attachments), "message": message_id, "at": now.isoformat(),
            }, now=now, client_id=client_id)
    except store.DuplicateClientId:
        return Sent(0, duplicate=True)
    services.wake()
    return Sent(event_id, duplicate=False, cut=was_cut)


def visitor_actor(session: VisitorSession) -> Actor:
    return Actor(platform="system", user_id="webchat-visitor", display_name=session.visitor_name or VISITOR_LABEL)


async def end(services: Services, session: VisitorSession) -> None:
    """The visitor ends the chat: a wrap-up with code `visitor_ended` (the agents' thread and card say so)."""
    try:
        await actions.wrap_up(services, visitor_actor(session), session.conversation_id, END_CODE, None)
    except UserError:
        pass  # wrapped up already (an agent, or a second click): the chat is over either way
    await store.mark_ended(session.conversation_id, now=services.clock())


async def rate(services: Services, session: VisitorSession, score: object, comment: object) -> None:
    """CSAT after the end (`[webchat] csat`): 1–5 and an optional comment, once; stored as a survey."""
    if not services.settings.webchat.csat:
        raise ApiError(404, "not_found", "This chat asks no rating.")
    if type(score) is not int or not 1 <= score <= 5:
        raise UserError("The rating is a whole number from 1 to 5.", field="score")
    if comment is not None and not isinstance(comment, str):
        raise UserError("The comment is text.", field="comment")
    record = await load_conversation(session.conversation_id)
    if record is None or not record.status.ended:
        raise ApiError(409, "chat_open", "Rate the chat once it has ended.")
    note = cut_text(comment.strip(), MAX_COMMENT)[0] if isinstance(comment, str) and comment.strip() else None
    async with unit_of_work():
        rated = await store.record_csat(session.conversation_id, score, note, targets=services.thread_targets,
                                        now=services.clock())
    if not rated:
        raise ApiError(409, "already_rated", "This chat was rated already.")
    services.wake()


async def events_after(session: VisitorSession, after_id: int) -> list[store.Event]:
    return await store.events_after(session.conversation_id, after_id)


async def recent_events(after_id: int) -> list[tuple[int, int]]:
    return await store.recent_events(after_id)


async def newest_event_id() -> int:
    return await store.newest_event_id()


async def listen_events(on_event: Callable[[int], None], on_lost: Callable[[], None]) -> store.Listener | None:
    """Every process's new events, as they commit (PostgreSQL LISTEN); None where a poll must do (SQLite)."""
    return await store.listen(on_event, on_lost)


def ids_commit_in_order() -> bool:
    return store.ids_commit_in_order()


# --------------------------------------------------------------------------- what the visitor is told


def handles(conversation: ConversationRecord) -> bool:
    return conversation.source == SOURCE


async def relay_reply(services: Services, conversation: ConversationRecord, reply: Reply,
                      files: list[dict[str, Any]]) -> None:
    """The claiming agent's reply into the visitor's stream, with the agent's display name and the files
    as the links Baton makes (`bot.delivery.files.for_customer`)."""
    await store.add_event(conversation.id, "message", {
        "from": "agent", "name": reply.agent_name, "text": reply.text, "at": reply.at.isoformat(),
        "files": [{"name": f.get("name"), "content_type": f.get("content_type"), "url": f.get("url")} for f in files],
    }, now=services.clock())


STATUS_WORDS = {"accepted": "claimed", "completed": "ended", "failed": "waiting"}


async def relay_status(services: Services, conversation: ConversationRecord, event: StatusEvent) -> None:
    status = STATUS_WORDS.get(event.state)
    if status is None:
        return
    payload: dict[str, Any] = {"status": status, "at": event.at.isoformat()}
    if status == "claimed":
        payload.update(agent=event.by, text=f"{event.by or 'An agent'} joined")
    elif status == "ended":
        by_visitor = (event.code or conversation.wrapup_code) == END_CODE
        payload.update(text="You ended the chat." if by_visitor else "The agent ended the chat.",
                       csat=services.settings.webchat.csat)
    else:
        payload.update(text="No agent can take this chat right now; it stays open and an agent will answer here.")
    await store.add_event(conversation.id, "status", payload, now=services.clock())
    if status == "ended":
        await store.mark_ended(conversation.id, now=services.clock())

"""Bot Framework `handoff.initiate` events, Copilot Studio's included (SPEC 3.2) → `Handoff`.

Text over Baton's caps is cut with an ellipsis rather than refused: the bot that sent it cannot fix it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from typing import Any, Mapping

from bot.domain import Attachment, BotContext, BotFrameworkOrigin, Handoff, TranscriptLine, VisitorInput
from bot.errors import ApiError, invalid, malformed
from bot.intake.generic import (
    CAPS,
    fit_and_check,
    clip,
    context_fields,
    customer_input,
    parse_when,
    prechat_answers,
    text_or_none,
    visitor_input,
    with_known_customer,
)

# Copilot Studio context variables (lower-cased) → BotContext fields. The official sample sends
# va_LastPhrase and va_BotName where the docs table says va_LastPhrases and omits the name: take both.
_VA_FIELDS = {
    "va_botname": "name",
    "va_lasttopic": "last_topic",
    "va_topics": "topics",
    "va_lastphrases": "last_phrases",
    "va_lastphrase": "last_phrases",
    "va_agentmessage": "agent_message",
    "va_language": "language",
}
# Hub context in the generic shape (SPEC 3.1), for bots that send Baton's own fields in `value`.
_GENERIC_PARTS = ("customer", "visitor", "prechat", "kind", "case")
# Channels whose customers use Baton's notion of web chat.
_WEBCHAT_CHANNELS = {"directline", "webchat", "emulator"}


def is_handoff_initiate(activity: object) -> bool:
    if not isinstance(activity, Mapping):
        return False
    name = activity.get("name")
    return activity.get("type") == "event" and isinstance(name, str) and name.lower() == "handoff.initiate"


def parse_handoff_initiate(activity: dict) -> Handoff:
    """One `handoff.initiate` event, or a Direct Line activity set (`{"activities": […]}`) holding one."""
    activity = _the_event(activity)
    value = activity.get("value")
    # The protocol lets `value` be any JSON; a non-object one is kept as a variable.
    context: Mapping[str, Any] = {} if value is None else value if isinstance(value, Mapping) else {"value": value}
    ref = _mapping(activity.get("relatesTo"))
    va_bot, user, answering_bot = _participants(activity, ref)

    conversation_id = text_or_none(_mapping(activity.get("conversation")).get("id")) or text_or_none(
        context.get("va_ConversationId")
    )
    if conversation_id is None:
        raise invalid("conversation.id", "The handoff.initiate event names no conversation.id.")
    channel_id = text_or_none(activity.get("channelId")) or text_or_none(ref.get("channelId"))
    service_url = text_or_none(activity.get("serviceUrl")) or text_or_none(ref.get("serviceUrl"))

    bot_fields, generic, rest = _split_context(context)
    cuts = []
    for key in _GENERIC_PARTS:
        if generic.get(key) is not None:
            generic[key], cut = fit_and_check(generic[key], key, f"value.{key}")
            cuts += cut
    known, variables = context_fields(rest)

    customer = with_known_customer(customer_input(generic.get("customer")), known)
    user_name, user_id = text_or_none(user.get("name")), text_or_none(user.get("id"))
    customer = replace(
        customer,
        name=customer.name or clip(user_name, CAPS["name"]),
        channel_ids=customer.channel_ids + (((channel_id, user_id),) if channel_id and user_id else ()),
    )

    said = _transcript_activities(activity.get("attachments"))
    bot_ids = {text_or_none(va_bot.get("id")), text_or_none(_mapping(ref.get("bot")).get("id"))} - {None}
    case = generic.get("case") or {}
    return Handoff(
        source=f"botframework:{channel_id or text_or_none(va_bot.get('id')) or 'unknown'}",
        conversation_id=conversation_id,
        channel=known.get("channel") or _channel(channel_id),
        kind=generic.get("kind") or "customer",
        queue=known.get("queue"),
        customer=customer,
        prechat=prechat_answers(generic.get("prechat")),
        visitor=visitor_input(generic.get("visitor")) or _visitor(activity, said),
        bot=_bot(bot_fields, known, variables, default_name=text_or_none(va_bot.get("name"))),
        transcript=tuple(line for line in (_line(a, bot_ids) for a in said) if line)[-CAPS["lines"] :],
        case_number=text_or_none(case.get("number")) or known.get("case_number"),
        origin=_origin(activity, ref, conversation_id, channel_id, service_url, answering_bot, user),
        cuts=tuple(cuts),
        # SPEC 3.1: the activity id makes handoff.initiate exactly repeatable, as Idempotency-Key does.
        idempotency_key=_activity_key(conversation_id, text_or_none(activity.get("id"))),
    )


def _activity_key(conversation_id: str, activity_id: str | None) -> str | None:
    """Activity ids are unique only within a conversation on some channels, so the key holds both."""
    if not activity_id:
        return None
    key = f"{conversation_id}|{activity_id}"
    return key if len(key) <= 255 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _channel(channel_id: str | None) -> str:
    if not channel_id or channel_id.lower() in _WEBCHAT_CHANNELS:
        return "webchat"
    return clip(channel_id, CAPS["channel"])


def _the_event(payload: object) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise malformed("A Bot Framework activity must be a JSON object.")
    if "activities" in payload and "type" not in payload:
        activities = payload["activities"]
        if not isinstance(activities, list):
            raise invalid("activities", "activities must be a list.")
        events = [a for a in activities if is_handoff_initiate(a)]
        if not events:
            raise invalid("activities", "The activity set holds no handoff.initiate event.")
        return events[-1]  # the newest handoff is the one in force
    if payload.get("type") != "event":
        raise invalid("type", "A handoff.initiate activity must have type \"event\".")
    if not is_handoff_initiate(payload):
        raise invalid("name", "The event is not named handoff.initiate.")
    return payload


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _participants(activity: Mapping[str, Any], ref: Mapping[str, Any]) -> tuple[Mapping, Mapping, Mapping]:
    """(the virtual agent, the customer, the account Baton answers as).

    Copilot Studio sends the event *from* the bot; EventFactory copies the user's `from`; the
    conversation reference in `relatesTo` names both sides either way. An event posted to Baton's own
    endpoint has Baton as `recipient`, which is who replies must come from.
    """
    sender, recipient = _mapping(activity.get("from")), _mapping(activity.get("recipient"))
    sender_is_bot = sender.get("role") in ("bot", "skill")
    va_bot = sender if sender_is_bot else _mapping(ref.get("bot"))
    user = _mapping(ref.get("user")) or (sender if not sender_is_bot else {})
    answering_bot = recipient or _mapping(ref.get("bot")) or va_bot
    return va_bot, user, answering_bot


def _split_context(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(va_* values for BotContext, generic-shape parts, everything else)."""
    bot_fields: dict[str, Any] = {}
    generic: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in context.items():
        field = _VA_FIELDS.get(key.lower())
        if field and field not in bot_fields:
            bot_fields[field] = value
        elif key in _GENERIC_PARTS:
            generic[key] = value
        elif not field:
            rest[key] = value
    return bot_fields, generic, rest


def _bot(
    fields: Mapping[str, Any], known: Mapping[str, str], variables: dict[str, Any], default_name: str | None
) -> BotContext | None:
    topics = fields.get("topics")
    if isinstance(topics, str):
        topics = topics.split(",")
    bot = BotContext(
        name=clip(_text(fields.get("name")) or known.get("bot_name") or default_name, CAPS["bot_name"]),
        last_topic=clip(_text(fields.get("last_topic")), CAPS["topic"]),
        topics=tuple(clip(t, CAPS["topic"]) for t in (_text(t) for t in topics or ()) if t)[: CAPS["topics"]],
        reason=known.get("reason"),
        agent_message=clip(_text(fields.get("agent_message")), CAPS["agent_message"]) or known.get("agent_message"),
        last_phrases=clip(_text(fields.get("last_phrases")), CAPS["last_phrases"]),
        language=_language_tag(_text(fields.get("language"))),
        variables=variables,
    )
    return None if bot == BotContext() else bot


def _text(value: object) -> str | None:
    if isinstance(value, list):  # some hubs send utterances as a list
        value = "\n".join(v for v in value if isinstance(v, str))
    return text_or_none(value)


def _language_tag(tag: str | None) -> str | None:
    """Copilot Studio sends "En-US"; BCP 47 casing is "en-US"."""
    if not tag:
        return None
    language, _, rest = tag.replace("_", "-").partition("-")
    region = rest.upper() if len(rest) == 2 else rest
    return clip(f"{language.lower()}-{region}" if region else language.lower(), CAPS["language"])


def _transcript_activities(attachments: object) -> list[Any]:
    """The activities of every attachment named Transcript (any case), in order."""
    if attachments is None:
        return []
    if not isinstance(attachments, list):
        raise invalid("attachments", "attachments must be a list.")
    said: list[Any] = []
    for i, attachment in enumerate(attachments):
        name = attachment.get("name") if isinstance(attachment, Mapping) else None
        if not isinstance(name, str) or name.strip().lower() != "transcript":
            continue  # hubs must ignore attachments they do not know (handoff protocol)
        content = attachment.get("content")
        if isinstance(content, str):
            try:
                content = json.loads(content)
            except ValueError:
                raise invalid(f"attachments[{i}].content", "The Transcript attachment is not JSON.") from None
        if content is None:
            continue  # an offline transcript (contentUrl only) is not fetched
        activities = _mapping(content).get("activities")
        if not isinstance(activities, list):
            field = f"attachments[{i}].content.activities"
            raise invalid(field, "The Transcript attachment must hold a list of activities.")
        said.extend(activities)
    return said


def _line(activity: object, bot_ids: set[str]) -> TranscriptLine | None:
    if not isinstance(activity, Mapping) or activity.get("type") != "message":
        return None
    sender = _mapping(activity.get("from"))
    role = sender.get("role")
    # `role` is optional in the protocol; a line without it is the bot's only if it carries the bot's id.
    is_bot = role in ("bot", "skill") or (role != "user" and sender.get("id") in bot_ids)
    files = tuple(
        Attachment(
            name=text_or_none(a.get("name")) or "attachment",
            url=a["contentUrl"],
            content_type=text_or_none(a.get("contentType")),
        )
        for a in activity.get("attachments") or ()
        if isinstance(a, Mapping) and str(a.get("contentUrl", "")).startswith(("https://", "http://"))
    )
    text = activity.get("text") if isinstance(activity.get("text"), str) else ""
    if not text.strip() and not files:
        return None  # typing indicators, cards without a file: nothing an agent can read
    return TranscriptLine(
        sender="bot" if is_bot else "customer",
        text=clip(text, CAPS["line_text"]),
        at=_when(activity.get("timestamp")),
        sender_name=text_or_none(sender.get("name")),
        attachments=files,
    )


def _when(value: object) -> datetime | None:
    """A timestamp the channel got wrong is dropped, not refused."""
    try:
        return parse_when(value, "timestamp")
    except ApiError:
        return None


def _visitor(activity: Mapping[str, Any], said: list[Any]) -> VisitorInput | None:
    """The customer's locale, from the event or else from their first transcript message."""
    locale = text_or_none(activity.get("locale"))
    for a in said:
        if locale:
            break
        if isinstance(a, Mapping) and _mapping(a.get("from")).get("role") == "user":
            locale = text_or_none(a.get("locale"))
    return VisitorInput(locale=locale) if locale else None


def _origin(
    activity: Mapping[str, Any],
    ref: Mapping[str, Any],
    conversation_id: str,
    channel_id: str | None,
    service_url: str | None,
    bot: Mapping[str, Any],
    user: Mapping[str, Any],
) -> BotFrameworkOrigin | None:
    if not channel_id or not service_url or not service_url.lower().startswith(("https://", "http://")):
        return None  # nowhere to send handoff.status to
    return BotFrameworkOrigin(
        service_url=service_url,
        conversation_id=conversation_id,
        channel_id=channel_id,
        bot_id=text_or_none(bot.get("id")),
        bot_name=text_or_none(bot.get("name")),
        user_id=text_or_none(user.get("id")),
        user_name=text_or_none(user.get("name")),
        activity_id=text_or_none(activity.get("id")) or text_or_none(ref.get("activityId")),
    )

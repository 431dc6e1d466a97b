"""Dialogflow CX `liveAgentHandoff` (SPEC 3.3, PROTOCOLS 3.3) → `Handoff`, from a WebhookRequest, a
DetectIntentResponse or a WebhookResponse, plus the generic fields an integrator forwards beside them.

Forwarded top-level keys (checked like SPEC 3.1): conversation_id, session, channel, kind, queue, customer,
visitor, prechat, case, reply_url, and transcript when it is a list (a string is Dialogflow's own voice query).
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from bot.domain import BotContext, Handoff, TranscriptLine
from bot.errors import invalid, malformed
from bot.intake.generic import (
    CAPS,
    fit_and_check,
    clip,
    context_fields,
    customer_input,
    prechat_answers,
    text_or_none,
    transcript_lines,
    visitor_input,
    with_known_customer,
)

SOURCE = "dialogflow-cx"
# Where each body shape keeps its response messages.
_MESSAGE_LISTS = (("messages",), ("queryResult", "responseMessages"), ("fulfillmentResponse", "messages"))
# Parameter maps, lowest precedence first: the client's payload, then the query's, then the session's.
_PARAMETER_MAPS = (("payload",), ("queryResult", "parameters"), ("sessionInfo", "parameters"))
_FORWARDED = ("conversation_id", "channel", "kind", "queue", "customer", "visitor", "prechat", "case", "reply_url")
_AGENT = re.compile(r"/agents/([^/]+)")


def parse_dialogflow_handoff(body: dict) -> Handoff:
    if not isinstance(body, Mapping):
        raise malformed("A Dialogflow CX body must be a JSON object.")
    metadata, said_by_bot = _handoff_metadata(body)
    body, cuts = _fit_forwarded(body)

    # Metadata is what the designer attached to this very handoff, so it wins over session parameters.
    known_meta, rest_meta = context_fields(metadata)
    known_params, rest_params = context_fields(_parameters(body))
    known = {**known_params, **known_meta}
    result = _mapping(body.get("queryResult"))
    utterance = _first_text(body, "text", "transcript") or _first_text(result, "text", "transcript")
    case = body.get("case") or {}

    return Handoff(
        source=_source(body),
        conversation_id=_conversation_id(body),
        channel=text_or_none(body.get("channel")) or known.get("channel") or "webchat",
        kind=body.get("kind") or "customer",
        queue=text_or_none(body.get("queue")) or known.get("queue"),
        customer=with_known_customer(customer_input(body.get("customer")), known),
        prechat=prechat_answers(body.get("prechat")),
        visitor=visitor_input(body.get("visitor")),
        bot=BotContext(
            name=known.get("bot_name"),
            last_topic=clip(_last_topic(body), CAPS["topic"]),
            reason=known.get("reason"),
            agent_message=known.get("agent_message"),
            last_phrases=clip(utterance, CAPS["last_phrases"]),
            language=text_or_none(body.get("languageCode")) or text_or_none(result.get("languageCode")),
            variables={**rest_params, **rest_meta},
        ),
        transcript=_transcript(body, utterance, said_by_bot),
        case_number=text_or_none(case.get("number")) or known.get("case_number"),
        reply_url=text_or_none(body.get("reply_url")),
        cuts=tuple(cuts),
    )


def _fit_forwarded(body: Mapping[str, Any]) -> tuple[dict[str, Any], list]:
    """Forwarded generic keys get the generic schema's caps (cut to fit, SPEC 3.4), checks and field paths;
    the body comes back with them fitted."""
    forwarded = {key: body[key] for key in _FORWARDED if key in body}
    if isinstance(body.get("transcript"), list):
        forwarded["transcript"] = body["transcript"]
    fitted, cuts = fit_and_check({"source": SOURCE, "conversation_id": "-", **forwarded})
    fitted.pop("source")
    if "conversation_id" not in forwarded:
        fitted.pop("conversation_id")
    return {**body, **fitted}, cuts


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _at(body: Mapping[str, Any], path: tuple[str, ...]) -> object:
    value: object = body
    for key in path:
        value = _mapping(value).get(key)
    return value


def _messages(body: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for path in _MESSAGE_LISTS:
        messages = _at(body, path)
        if messages is None:
            continue
        if not isinstance(messages, list):
            raise invalid(".".join(path), f"{'.'.join(path)} must be a list.")
        for i, message in enumerate(messages):
            yield f"{'.'.join(path)}[{i}]", message


def _handoff_metadata(body: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The merged metadata of every liveAgentHandoff message, and the bot's text messages."""
    metadata: dict[str, Any] = {}
    found = False
    said: list[str] = []
    for where, message in _messages(body):
        message = _mapping(message)
        texts = _mapping(message.get("text")).get("text")
        said.extend(t for t in texts or () if isinstance(t, str) and t.strip())
        if "liveAgentHandoff" not in message:
            continue
        found = True
        handoff = message["liveAgentHandoff"]
        more = _mapping(handoff).get("metadata") if handoff is not None else None
        if more is not None and not isinstance(more, Mapping):
            field = f"{where}.liveAgentHandoff.metadata"
            raise invalid(field, f"{field} must be an object.")
        metadata.update(more or {})
    if not found:
        raise invalid("messages", "The body holds no liveAgentHandoff message, so it is not a handoff.")
    return metadata, said


def _parameters(body: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in _PARAMETER_MAPS:
        params = _at(body, path)
        if params is None:
            continue
        if not isinstance(params, Mapping):
            raise invalid(".".join(path), f"{'.'.join(path)} must be an object.")
        merged.update(params)
    # A webhook sets a parameter to null to delete it.
    return {k: v for k, v in merged.items() if v is not None}


def _session(body: Mapping[str, Any]) -> str | None:
    session = _at(body, ("sessionInfo", "session"))
    if session is not None and not isinstance(session, str):
        raise invalid("sessionInfo.session", "sessionInfo.session must be a string.")
    return text_or_none(session) or text_or_none(body.get("session"))


def _conversation_id(body: Mapping[str, Any]) -> str:
    """The session id; a DetectIntentResponse names none, so its responseId stands in (one conversation per
    handoff) unless the integrator forwards `session` or `conversation_id`."""
    session = _session(body)
    conversation_id = (
        text_or_none(body.get("conversation_id"))
        or (session.rstrip("/").rsplit("/", 1)[-1] if session else None)
        or text_or_none(body.get("detectIntentResponseId"))
        or text_or_none(body.get("responseId"))
    )
    if not conversation_id:
        raise invalid("sessionInfo.session", "The body names no Dialogflow session, so the conversation is unknown.")
    return clip(conversation_id, 300)


def _source(body: Mapping[str, Any]) -> str:
    """"dialogflow-cx:<agent id>" when a resource name shows the agent, so two agents' sessions never collide."""
    for name in (
        _session(body),
        _at(body, ("pageInfo", "currentPage")),
        _at(body, ("queryResult", "currentPage", "name")),
    ):
        match = _AGENT.search(name) if isinstance(name, str) else None
        if match:
            return clip(f"{SOURCE}:{match.group(1)}", 200)
    return SOURCE


def _last_topic(body: Mapping[str, Any]) -> str | None:
    result = _mapping(body.get("queryResult"))
    for value in (
        _at(body, ("intentInfo", "displayName")),
        _at(result, ("intent", "displayName")),
        _at(result, ("match", "intent", "displayName")),
        _at(body, ("pageInfo", "displayName")),
        _at(result, ("currentPage", "displayName")),
    ):
        if text_or_none(value):
            return text_or_none(value)
    return None


def _first_text(source: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        if text_or_none(source.get(key)):
            return source[key].strip()
    return None


def _transcript(body: Mapping[str, Any], utterance: str | None, said_by_bot: list[str]) -> tuple[TranscriptLine, ...]:
    if isinstance(body.get("transcript"), list):
        return transcript_lines(body["transcript"])
    # Without a forwarded transcript, the last turn is all Dialogflow itself tells: show that much.
    lines = [TranscriptLine(sender="customer", text=clip(utterance, CAPS["line_text"]))] if utterance else []
    lines += [TranscriptLine(sender="bot", text=clip(text, CAPS["line_text"])) for text in said_by_bot]
    return tuple(lines)

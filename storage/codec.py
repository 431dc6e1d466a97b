"""The JSON columns of a conversation (customer input, pre-chat, visitor, bot, origin) to and from domain values.

Storage keeps what an intake parsed as JSON; everything above storage gets the frozen dataclasses back.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Mapping

from bot.domain import (
    BotContext,
    BotFrameworkOrigin,
    CustomerInput,
    PrechatAnswer,
    PreviousConversation,
    VisitorInput,
    public_id,
)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def to_json(value: Any) -> Any:
    """A dataclass (or anything holding them) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Field by field, not dataclasses.asdict: that deep-copies every value first (intake writes eight
        # of these columns per handoff; asdict was 0.4 ms of each).
        return {name: to_json(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _known(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in raw.items() if k in names}


def customer_input(raw: Mapping[str, Any] | None) -> CustomerInput:
    raw = raw or {}
    return CustomerInput(
        name=raw.get("name"),
        email=raw.get("email"),
        phone=raw.get("phone"),
        external_ids=dict(raw.get("external_ids") or {}),
        channel_ids=tuple(tuple(pair) for pair in raw.get("channel_ids") or ()),
    )


def prechat(raw: list[Mapping[str, Any]] | None) -> tuple[PrechatAnswer, ...]:
    return tuple(PrechatAnswer(str(p.get("question", "")), str(p.get("answer", ""))) for p in raw or ())


def visitor(raw: Mapping[str, Any] | None) -> VisitorInput | None:
    return VisitorInput(**_known(VisitorInput, raw)) if raw else None


def bot_context(raw: Mapping[str, Any] | None) -> BotContext | None:
    if not raw:
        return None
    known = _known(BotContext, raw)
    known["topics"] = tuple(known.get("topics") or ())
    known["variables"] = dict(known.get("variables") or {})
    return BotContext(**known)


def origin(raw: Mapping[str, Any] | None) -> BotFrameworkOrigin | None:
    if not raw or not raw.get("service_url") or not raw.get("conversation_id"):
        return None
    return BotFrameworkOrigin(**_known(BotFrameworkOrigin, raw))


def previous(raw: Mapping[str, Any] | None) -> PreviousConversation | None:
    if not raw or not isinstance(raw.get("id"), int):
        return None
    ended = raw.get("ended_at")
    return PreviousConversation(
        public_id=public_id(raw["id"]),
        status=str(raw.get("status") or ""),
        wrapup_code=raw.get("wrapup_code"),
        ended_at=datetime.fromisoformat(ended) if isinstance(ended, str) else None,
    )

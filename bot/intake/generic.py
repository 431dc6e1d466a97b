"""The generic handoff JSON (SPEC 3.1) → `Handoff`, plus the pieces of it the other intake edges reuse.

Checked against handoff.schema.json after `fit` made text and lists fit their caps (SPEC 3.4: cut with "…",
never refused, each cut a warning); wrongly typed → 422 naming the field; a date without an offset is UTC;
blank optional strings count as absent; unknown keys are ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from typing import Any, Iterable, Mapping, overload

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from bot.domain import (
    Attachment,
    BotContext,
    Cut,
    CustomerInput,
    Handoff,
    IntakeResult,
    PrechatAnswer,
    TranscriptLine,
    VisitorInput,
)
from bot.errors import ApiError, invalid, malformed
from bot.intake.fit import fit

SCHEMA_FILE = "handoff.schema.json"

# The caps the schema enforces, for edges that must cut platform text instead of refusing it
# (a test keeps them equal to the schema).
CAPS: dict[str, int] = {
    "name": 200,
    "email": 254,
    "phone": 50,
    "queue": 100,
    "channel": 50,
    "case_number": 50,
    "topic": 200,
    "topics": 100,
    "reason": 500,
    "agent_message": 2000,
    "last_phrases": 2000,
    "language": 35,
    "line_text": 10_000,
    "lines": 1000,
    "bot_name": 200,
}


def parse_generic_handoff(body: object) -> Handoff:
    """Validate a `POST /handoff` body and turn it into a `Handoff`; raises `ApiError` (400/422)."""
    if not isinstance(body, dict):
        raise malformed("The handoff must be a JSON object.")
    body, cuts = fit_and_check(body)
    case = body.get("case") or {}
    return Handoff(
        source=body["source"],
        conversation_id=body["conversation_id"],
        channel=text_or_none(body.get("channel")) or "webchat",
        kind=body.get("kind") or "customer",
        queue=text_or_none(body.get("queue")),
        customer=customer_input(body.get("customer")),
        prechat=prechat_answers(body.get("prechat")),
        visitor=visitor_input(body.get("visitor")),
        bot=bot_context(body.get("bot")),
        transcript=transcript_lines(body.get("transcript")),
        case_number=text_or_none(case.get("number")),
        reply_url=text_or_none(body.get("reply_url")),
        cuts=tuple(cuts),
    )


# --------------------------------------------------------------------------- validation


@cache
def answer_of(result: IntakeResult) -> dict[str, Any]:
    """The body every intake answers with (SPEC 3.1), `warnings` listing what was cut to fit (SPEC 3.4)."""
    body: dict[str, Any] = {"conversation": result.conversation_public_id,
                            "status": "queued" if result.created else "existing"}
    if result.warnings:
        body["warnings"] = [cut.warning() for cut in result.warnings]
    return body


def schema() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text("utf-8"))


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """Replace local `#/$defs/x` references by their targets: validation then skips reference resolution,
    which halves its cost on the intake hot path (the schema has no recursive definitions)."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/"):
            target = dict(_inline_refs(defs[node["$ref"].rsplit("/", 1)[1]], defs))
            target.update(_inline_refs({k: v for k, v in node.items() if k != "$ref"}, defs))
            return target
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    return node


@cache
def inlined(part: str | None = None) -> dict[str, Any]:
    """The whole schema, or one of its `$defs`, with every local reference inlined."""
    full = schema()
    root = full if part is None else {"$schema": full["$schema"], "$ref": f"#/$defs/{part}"}
    return _inline_refs(root, full.get("$defs", {}))


@cache
def _validator(part: str | None) -> Draft202012Validator:
    return Draft202012Validator(inlined(part))


def fit_and_check(value: Any, part: str | None = None, at: str = "") -> tuple[Any, list[Cut]]:
    """`value` cut to the caps of the schema (or of one of its `$defs`), then checked; (fitted value, cuts)."""
    fitted, cuts = fit(value, inlined(part), at)
    check(fitted, part, at)
    return fitted, cuts


@cache
def _compiled(part: str | None) -> Any:
    """The same inlined schema compiled to Python by fastjsonschema: about 15x faster than walking it with
    jsonschema, so a valid body (nearly every one) costs a few microseconds. Every keyword the schema uses is
    draft-07's too (tests/test_intake_schema_check.py holds the two validators to the same verdicts)."""
    schema = {key: value for key, value in inlined(part).items() if key not in ("$schema", "$id")}
    return fastjsonschema.compile(schema)


def check(value: object, part: str | None = None, at: str = "") -> None:
    """Raise 422 for the most relevant schema violation of `value` (the whole body, or one of the schema's
    `$defs` such as "customer" when another edge forwards that piece); `at` prefixes the field path."""
    try:
        _compiled(part)(value)
        return
    except fastjsonschema.JsonSchemaException:
        pass  # jsonschema finds and words the most relevant violation
    error = best_match(_validator(part).iter_errors(value))
    if error is not None:
        raise _api_error(error, at)


def _api_error(error: ValidationError, at: str) -> ApiError:
    parts: list[str | int] = list(error.absolute_path)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        parts.append(missing[0])
    field = join_path(at, parts)
    return invalid(field, f"{field or 'The body'} {_complaint(error)}.")


def join_path(base: str, parts: Iterable[str | int]) -> str:
    """("transcript", [2, "text"]) → "transcript[2].text"."""
    out = base
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out


_TYPE_WORDS = {
    "string": "a string",
    "object": "an object",
    "array": "a list",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
}


def _complaint(error: ValidationError) -> str:
    rule, limit = error.validator, error.validator_value
    if "propertyNames" in error.relative_schema_path:
        return f"has a key that {_complaint_about_value(rule, limit, error)}"
    return _complaint_about_value(rule, limit, error)


def _complaint_about_value(rule: Any, limit: Any, error: ValidationError) -> str:
    if rule == "required":
        return "is required"
    if rule == "type":
        kinds = [limit] if isinstance(limit, str) else [k for k in limit if k != "null"]
        return "must be " + " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
    if rule == "minLength":
        return "must not be empty"
    if rule == "maxLength":
        return f"is longer than {limit:,} characters"
    if rule == "pattern":
        return error.schema.get("x-pattern-message", "has an unexpected format")
    if rule == "enum":
        return "must be one of " + ", ".join(str(v) for v in limit if v is not None)
    if rule == "maxItems":
        return f"has more than {limit:,} items"
    if rule == "maxProperties":
        return f"has more than {limit:,} entries"
    return "is not valid"


# --------------------------------------------------------------------------- builders (input already checked)


def text_or_none(value: object) -> str | None:
    """A stripped non-blank string, or None for anything else."""
    if isinstance(value, str):
        return value.strip() or None
    return None


@overload
def clip(value: str, limit: int) -> str: ...


@overload
def clip(value: str | None, limit: int) -> str | None: ...


def clip(value: str | None, limit: int) -> str | None:
    """Cut platform text that Baton cannot refuse to `limit` characters, marking the cut."""
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def customer_input(raw: Mapping[str, Any] | None) -> CustomerInput:
    if not raw:
        return CustomerInput()
    return CustomerInput(
        name=text_or_none(raw.get("name")),
        email=text_or_none(raw.get("email")),
        phone=text_or_none(raw.get("phone")),
        external_ids={
            k.strip(): v.strip() for k, v in (raw.get("external_ids") or {}).items() if k.strip() and v.strip()
        },
        channel_ids=tuple((c["kind"], c["id"]) for c in raw.get("channel_ids") or ()),
    )


def visitor_input(raw: Mapping[str, Any] | None) -> VisitorInput | None:
    if not raw:
        return None
    visitor = VisitorInput(
        **{k: text_or_none(raw.get(k)) for k in ("user_agent", "ip", "locale", "location", "page_url", "referrer")}
    )
    return None if visitor == VisitorInput() else visitor


def bot_context(raw: Mapping[str, Any] | None) -> BotContext | None:
    if not raw:
        return None
    return BotContext(
        name=text_or_none(raw.get("name")),
        last_topic=text_or_none(raw.get("last_topic")),
        topics=tuple(t for t in (text_or_none(t) for t in raw.get("topics") or ()) if t),
        reason=text_or_none(raw.get("reason")),
        agent_message=text_or_none(raw.get("agent_message")),
        last_phrases=text_or_none(raw.get("last_phrases")),
        language=text_or_none(raw.get("language")),
        variables=dict(raw.get("variables") or {}),
    )


def prechat_answers(raw: Iterable[Mapping[str, Any]] | None) -> tuple[PrechatAnswer, ...]:
    return tuple(PrechatAnswer(question=p["question"].strip(), answer=p["answer"]) for p in raw or ())


def transcript_lines(raw: Iterable[Mapping[str, Any]] | None, at: str = "transcript") -> tuple[TranscriptLine, ...]:
    return tuple(
        TranscriptLine(
            sender=line["from"],
            text=line["text"],
            at=parse_when(line.get("at"), f"{at}[{i}].at"),
            sender_name=text_or_none(line.get("sender_name")),
            attachments=tuple(
                Attachment(a["name"], text_or_none(a.get("url")), text_or_none(a.get("content_type")))
                for a in line.get("attachments") or ()
            ),
        )
        for i, line in enumerate(raw or ())
    )


def parse_when(value: object, field: str) -> datetime | None:
    """ISO 8601 → an aware UTC datetime; a value without an offset is taken as UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        when = datetime.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None:
        raise invalid(field, f"{field} is not an ISO 8601 date and time such as 2026-11-22T10:01:00Z.")
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


# --------------------------------------------------------------------------- context keys any source may send

# Bot variables, Dialogflow session parameters and handoff metadata are free-form; these names (compared
# without case, spaces, "_" or "-") are obvious enough to lift into typed fields. Everything else stays a variable.
_WELL_KNOWN: dict[str, str] = {
    **dict.fromkeys(("queue", "queuename", "skill", "department"), "queue"),
    **dict.fromkeys(("reason", "handoffreason", "escalationreason", "transferreason"), "reason"),
    **dict.fromkeys(("agentmessage", "messagetoagent", "notetoagent", "summary"), "agent_message"),
    **dict.fromkeys(("name", "customername", "fullname", "contactname"), "name"),
    **dict.fromkeys(("firstname", "givenname"), "first_name"),
    **dict.fromkeys(("lastname", "familyname", "surname"), "last_name"),
    **dict.fromkeys(("email", "emailaddress", "customeremail", "useremail"), "email"),
    **dict.fromkeys(("phone", "phonenumber", "customerphone", "mobile", "mobilephone", "telephone"), "phone"),
    **dict.fromkeys(("casenumber", "caseid", "ticket", "ticketnumber", "ticketid"), "case_number"),
    **dict.fromkeys(("channel",), "channel"),
    **dict.fromkeys(("botname",), "bot_name"),
}
_FIELD_CAPS = {"first_name": CAPS["name"], "last_name": CAPS["name"]}


def well_known_key(key: str) -> str | None:
    return _WELL_KNOWN.get(re.sub(r"[^0-9a-z]", "", key.lower()))


def context_fields(values: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Split free-form context into well-known fields (first value wins, cut to the caps) and the rest."""
    known: dict[str, str] = {}
    rest: dict[str, Any] = {}
    for key, value in values.items():
        field = well_known_key(key)
        text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
        if field is None or not text:
            rest[key] = value
        elif field not in known:
            known[field] = clip(text, _FIELD_CAPS.get(field) or CAPS[field])
    if "name" not in known and ("first_name" in known or "last_name" in known):
        known["name"] = " ".join(filter(None, (known.get("first_name"), known.get("last_name"))))
    return known, rest


def with_known_customer(customer: CustomerInput, known: Mapping[str, str]) -> CustomerInput:
    """Fill the customer's blank name, email and phone from well-known context fields."""
    return replace(
        customer,
        name=customer.name or known.get("name"),
        email=customer.email or known.get("email"),
        phone=customer.phone or known.get("phone"),
    )

"""Nothing the customer typed is a reason to refuse a handoff (SPEC 3.4): text over its cap is cut.

Before a body is validated, `fit` walks it beside the handoff schema and makes every value the schema
caps fit: a string over its `maxLength` is cut with "…", a list over its `maxItems` keeps its first items,
an object over its `maxProperties` keeps its first entries, and an email the customer mistyped is left out.
Each change becomes a warning for the answer. What the sender's *system* controls is still refused by the
validation that follows: its ids (`x-refuse` in the schema: source, conversation_id), types, the
`reply_url`, dates.
"""

from __future__ import annotations

import re
from typing import Any

from bot.domain import Cut

ELLIPSIS = "…"


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return {kind} if isinstance(kind, str) else set(kind or ())


def fit(value: Any, schema: dict[str, Any], path: str = "") -> tuple[Any, list[Cut]]:
    """`value` made to fit `schema`'s caps (an inlined schema: no $ref), and what was cut."""
    cuts: list[Cut] = []
    return _fit(value, schema, path, cuts), cuts


def _fit(value: Any, schema: dict[str, Any], path: str, cuts: list[Cut]) -> Any:
    if schema.get("x-refuse"):
        return value  # the sender's own ids: validation refuses them if they are wrong
    if isinstance(value, str):
        return _fit_text(value, schema, path, cuts)
    if isinstance(value, list) and "array" in _types(schema):
        limit = schema.get("maxItems")
        kept = value
        if isinstance(limit, int) and len(value) > limit:
            kept = value[:limit]
            omitted = len(value) - limit
            cuts.append(Cut(path, f"{path} had {len(value):,} items; the first {limit:,} were kept.", omitted))
        items = schema.get("items")
        if isinstance(items, dict):
            kept = [_fit(item, items, _join(path, i), cuts) for i, item in enumerate(kept)]
        return kept
    if isinstance(value, dict) and "object" in _types(schema):
        limit = schema.get("maxProperties")
        entries = list(value.items())
        if isinstance(limit, int) and len(entries) > limit:
            cuts.append(Cut(path, f"{path} had {len(entries):,} entries; the first {limit:,} were kept.",
                            len(entries) - limit))
            entries = entries[:limit]
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        out = {}
        for key, item in entries:
            sub = properties.get(key) if isinstance(properties, dict) else None
            if sub is None and isinstance(extra, dict):
                sub = extra
            fitted = _fit(item, sub, _join(path, key), cuts) if isinstance(sub, dict) else item
            if fitted is not _DROP:
                out[key] = fitted
        return out
    return value


_DROP = object()  # a value better left out than refused (a mistyped email)


def _fit_text(value: str, schema: dict[str, Any], path: str, cuts: list[Cut]) -> Any:
    pattern = schema.get("x-drop-unless")
    if isinstance(pattern, str) and value.strip() and not re.search(pattern, value):
        cuts.append(Cut(path, f"{path} is not {schema.get('x-drop-what', 'valid')}; it was left out."))
        return _DROP
    limit = schema.get("maxLength")
    if isinstance(limit, int) and len(value) > limit:
        cuts.append(Cut(path, f"{path} was {len(value):,} characters; it was cut to {limit:,}."))
        return value[: limit - 1] + ELLIPSIS
    return value

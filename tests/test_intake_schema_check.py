"""The intake's fast schema check (fastjsonschema, compiled) gives jsonschema's verdict on every body.

`bot.intake.generic.check` lets a body through on the compiled check alone, so the two must never differ:
a body the compiled check took that jsonschema would refuse would be accepted unchecked. The corpus is the
handoff of every test, the real payloads' forwarded parts, and each of them broken at every path in every
way a JSON value can be wrong: another type, too long, removed, an unknown key beside it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterator

import fastjsonschema
import pytest

from bot.intake import generic
from tests.handoff_factory import make_generic_payload

FIXTURES = Path(__file__).parent / "data" / "fixtures"
REPLACEMENTS: tuple[Any, ...] = (None, True, 0, -1, 1.5, "", "x", "x" * 5000, "not-an-email", "2026-13-45",
                                 "javascript:alert(1)", [], ["x"], {}, {"x": 1}, [{}] * 300)


def paths(value: Any, at: tuple = ()) -> Iterator[tuple]:
    yield at
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, at + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            yield from paths(child, at + (index,))


def replaced(value: Any, path: tuple, new: Any) -> Any:
    out = copy.deepcopy(value)
    if not path:
        return new
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return out


def removed(value: Any, path: tuple) -> Any:
    out = copy.deepcopy(value)
    node = out
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return out


def variants(value: Any) -> Iterator[Any]:
    yield value
    for path in paths(value):
        for new in REPLACEMENTS:
            yield replaced(value, path, new)
        if path:
            yield removed(value, path)
        here = value
        for step in path:
            here = here[step]
        if isinstance(here, dict):
            yield replaced(value, path, {**here, "unknown_field": "x"})


def verdicts(value: Any, part: str | None) -> tuple[bool, bool]:
    try:
        generic._compiled(part)(value)
        fast = True
    except fastjsonschema.JsonSchemaException:
        fast = False
    slow = next(iter(generic._validator(part).iter_errors(value)), None) is None
    return fast, slow


def bodies() -> list[dict[str, Any]]:
    full = make_generic_payload(conversation_id="va-1")  # every field SPEC 3.1 names
    return [full, {"source": full["source"], "conversation_id": "va-2"}]


@pytest.mark.parametrize("index", range(len(bodies())))
def test_the_compiled_check_and_jsonschema_agree_on_every_broken_body(index):
    body = bodies()[index]
    assert verdicts(body, None) == (True, True)
    disagreements, refused = [], 0
    for variant in variants(body):
        fast, slow = verdicts(variant, None)
        refused += not slow
        if fast != slow:
            disagreements.append(json.dumps(variant)[:300])
    assert refused > 20  # the corpus really breaks bodies
    assert disagreements == []


@pytest.mark.parametrize("part", ["customer", "visitor", "prechat", "kind", "case", "transcript"])
def test_the_compiled_check_and_jsonschema_agree_on_the_parts_other_edges_forward(part):
    value = make_generic_payload(conversation_id="va-1")[part]
    assert verdicts(value, part) == (True, True)
    for variant in variants(value):
        fast, slow = verdicts(variant, part)
        assert fast == slow, (part, json.dumps(variant)[:300])


def test_a_refused_body_is_still_worded_by_jsonschema():
    from bot.errors import ApiError

    body = make_generic_payload(conversation_id="va-1")
    body["transcript"] = [{"from": "customer", "text": 12}]
    with pytest.raises(ApiError) as refusal:
        generic.check(body)
    assert "transcript[0].text" in str(refusal.value.to_dict() if hasattr(refusal.value, "to_dict") else refusal.value)

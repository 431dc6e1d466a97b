"""manifest.json: valid against Slack's official schema and in step with what the code registers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from bot.slack.app import BOT_SCOPES, EVENTS_PATH, REDIRECT_PATH
from bot.slack.handlers import BOT_EVENTS, SHORTCUTS, SLASH_COMMAND

ROOT = Path(__file__).parent.parent
SCHEMAS = Path(__file__).parent / "data" / "schemas"
SUB_SCHEMA_URL = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.{}.json"


def load(path: Path):
    return json.loads(path.read_text("utf-8"))


@pytest.fixture(scope="module")
def manifest():
    return load(ROOT / "manifest.json")


def schema_errors(schema_name: str, document) -> list[str]:
    registry = Registry().with_resources(
        (SUB_SCHEMA_URL.format(v), Resource.from_contents(load(SCHEMAS / f"slack-manifest.schema.{v}.json"), default_specification=DRAFT7))
        for v in ("1.0.0", "2.0.0")
    )
    schema = load(SCHEMAS / schema_name)
    return [f"{list(e.path)}: {e.message}" for e in validators.validator_for(schema)(schema, registry=registry).iter_errors(document)]


def test_the_manifest_is_valid_against_slacks_schema(manifest):
    assert schema_errors("slack-manifest.schema.json", manifest) == []
    assert schema_errors("slack-manifest.schema.1.0.0.json", manifest) == []


def test_the_schema_check_catches_a_broken_manifest(manifest):
    broken = {**manifest, "features": {**manifest["features"], "bot_user": {"display_name": "x" * 81}}}
    assert schema_errors("slack-manifest.schema.json", broken)


def test_the_only_slash_command_is_baton(manifest):
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/baton"] == [SLASH_COMMAND]


def test_the_shortcuts_are_the_message_shortcuts_the_code_registers(manifest):
    declared = {s["callback_id"]: s["name"] for s in manifest["features"]["shortcuts"]}
    assert declared == dict(SHORTCUTS)
    assert {s["type"] for s in manifest["features"]["shortcuts"]} == {"message"}


def test_scopes_and_events_are_exactly_what_baton_uses(manifest):
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == list(BOT_EVENTS)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_every_request_url_points_at_baton_endpoints(manifest):
    urls = [manifest["settings"]["event_subscriptions"]["request_url"], manifest["settings"]["interactivity"]["request_url"]]
    urls += [c["url"] for c in manifest["features"]["slash_commands"]]
    assert all(url.endswith(EVENTS_PATH) for url in urls)
    assert all(url.endswith(REDIRECT_PATH) for url in manifest["oauth_config"]["redirect_urls"])


async def test_every_shortcut_and_the_command_of_the_manifest_reach_a_listener(database_url, manifest):
    from tests.slack_signing import message_shortcut, slack_baton

    async with slack_baton(database_url) as world:
        for shortcut in manifest["features"]["shortcuts"]:
            message = {"ts": world.next_ts(), "text": "hello", "user": "W111"}
            status, _ = await world.interaction(message_shortcut(shortcut["callback_id"], user="W111", channel="C0X", message=message))
            assert status == 200, shortcut["callback_id"]
        for command in manifest["features"]["slash_commands"]:
            status, _ = await world.command("help")
            assert status == 200, command["command"]
        await world.slack.wait_for(lambda s: len(s.of("chat.postEphemeral")) == len(manifest["features"]["shortcuts"]))

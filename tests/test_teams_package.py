"""`baton teams-package`: a zip whose manifest is valid against the Teams 1.29 schema, with the command
list generated from the registry and icons of the sizes Teams requires."""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import replace
from pathlib import Path

from jsonschema import Draft4Validator

from bot.commands.builtin import registry
from bot.settings import Settings
from bot.teams.package import MAX_COMMANDS, build_package

SCHEMA = Path(__file__).parent / "data" / "schemas" / "teams-manifest-1.29.json"
APP_ID = "6c3a4a6e-3b8e-4a39-9d0e-4a3f1b2c3d4e"


def _build(tmp_path, **overrides):
    settings = replace(Settings(), **overrides)
    path = build_package(settings, tmp_path / "baton-teams.zip")
    archive = zipfile.ZipFile(path)
    return json.loads(archive.read("manifest.json")), archive


def _png_size(data: bytes) -> tuple[int, int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, _depth, color_type = struct.unpack(">IIBB", data[16:26])
    return width, height, color_type


def test_the_manifest_is_valid_against_the_teams_1_29_schema(tmp_path):
    manifest, _ = _build(tmp_path, microsoft_app_id=APP_ID, public_url="https://baton.example.com")
    schema = json.loads(SCHEMA.read_text("utf-8"))
    errors = sorted(e.message for e in Draft4Validator(schema).iter_errors(manifest))

    assert errors == []
    assert manifest["manifestVersion"] == "1.29"
    assert manifest["bots"][0]["botId"] == APP_ID
    assert set(manifest["bots"][0]["scopes"]) == {"team", "personal", "groupChat"}
    assert manifest["validDomains"] == ["baton.example.com"]


def test_the_command_list_comes_from_the_registry(tmp_path):
    manifest, _ = _build(tmp_path, microsoft_app_id=APP_ID)
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    known = {c.name: c.help for c in registry}

    assert len(commands) == min(MAX_COMMANDS, len(known))
    for command in commands:
        assert command["description"] == known[command["title"]]
    assert {"help", "lookup", "note", "wrapup", "route"} <= {c["title"] for c in commands}


def test_the_manifest_asks_for_channel_messages_without_a_mention(tmp_path):
    manifest, _ = _build(tmp_path, microsoft_app_id=APP_ID)
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in \
        manifest["authorization"]["permissions"]["resourceSpecific"]


def test_the_icons_have_the_sizes_teams_requires(tmp_path):
    manifest, archive = _build(tmp_path, microsoft_app_id=APP_ID)
    color = _png_size(archive.read(manifest["icons"]["color"]))
    outline = _png_size(archive.read(manifest["icons"]["outline"]))

    assert color[:2] == (192, 192)
    assert outline[:2] == (32, 32) and outline[2] == 6  # RGBA: transparent background


def test_without_an_app_id_the_package_uses_a_placeholder_and_warns(tmp_path, caplog):
    manifest, _ = _build(tmp_path)
    assert manifest["bots"][0]["botId"] == "00000000-0000-0000-0000-000000000000"
    assert "placeholder" in caplog.text


def test_the_package_adds_a_personal_customers_tab_on_baton_s_own_domain(tmp_path):
    manifest, _ = _build(tmp_path, microsoft_app_id=APP_ID, public_url="https://support.acme.example/baton")
    schema = json.loads(SCHEMA.read_text("utf-8"))

    assert sorted(e.message for e in Draft4Validator(schema).iter_errors(manifest)) == []
    [tab] = manifest["staticTabs"]
    assert tab["name"] == "Customers" and tab["scopes"] == ["personal"]
    assert tab["contentUrl"].startswith("https://support.acme.example/baton/customers")
    assert tab["websiteUrl"] == "https://support.acme.example/baton/customers"
    assert manifest["validDomains"] == ["support.acme.example"]


def test_without_a_public_url_there_is_no_tab_to_point_at(tmp_path):
    manifest, _ = _build(tmp_path, microsoft_app_id=APP_ID)

    assert "staticTabs" not in manifest

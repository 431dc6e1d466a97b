"""Edges translate, the core decides: each SDK stays behind its edge (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def _offenders(library: str, allowed_prefixes: tuple[str, ...]) -> list[str]:
    offenders = []
    for path in _modules("bot", "storage"):
        relative = path.relative_to(ROOT).as_posix()
        if library in _imports(path) and not relative.startswith(allowed_prefixes):
            offenders.append(relative)
    return offenders


def test_only_storage_imports_tortoise():
    assert _offenders("tortoise", ("storage/",)) == []


def test_only_the_slack_edge_imports_the_slack_sdks():
    assert _offenders("slack_bolt", ("bot/slack/",)) == []
    # slack_sdk is also allowed nowhere else: cards are plain dicts validated by the tests.
    assert _offenders("slack_sdk", ("bot/slack/",)) == []


def test_only_the_teams_edge_imports_botbuilder():
    assert _offenders("botbuilder", ("bot/teams/",)) == []
    assert _offenders("botframework", ("bot/teams/",)) == []


def test_the_core_and_the_cards_import_no_web_framework():
    for path in _modules("bot/core", "bot/cards", "bot/commands"):
        assert "aiohttp" not in _imports(path), path


def test_cards_do_no_io():
    forbidden = {"aiohttp", "storage", "asyncio", "random", "time", "uuid", "os"}
    for path in _modules("bot/cards"):
        assert not (_imports(path) & forbidden), path
        source = path.read_text("utf-8")
        assert ".now(" not in source and "utcnow" not in source, f"{path} reads the clock"


def test_outside_storage_nothing_touches_the_orm_models():
    for path in _modules("bot"):
        source = path.read_text("utf-8")
        assert "storage.models" not in source, path


def test_the_channel_packages_import_neither_storage_nor_the_web_app():
    for path in _modules("bot/sms", "bot/email"):
        source = path.read_text("utf-8")
        assert "storage" not in _imports(path), path
        assert "bot.web" not in source, path


def test_each_channel_sdk_stays_in_its_channel_package():
    assert _offenders("twilio", ("bot/sms/",)) == []
    assert _offenders("aiosmtplib", ("bot/email/",)) == []
    assert _offenders("mailparser_reply", ("bot/email/",)) == []

"""Pooled PostgreSQL connections carry no session state, so the pool hands them back without a reset.

`storage.db.release_as_is` replaces asyncpg's reset on release (`SELECT pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL`, about ten round trips a card). That is right only while no statement sent through
the pool leaves something behind in the session: a session advisory lock, a LISTEN, a SET, a prepared
statement or a cursor held past its transaction. The first test reads every SQL string in bot/ and
storage/ for those; the connections that may hold session state are named (their own, outside the pool).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from tortoise import connections

from storage import db

ROOT = Path(__file__).resolve().parent.parent
SESSION_STATE = re.compile(
    r"pg_(try_)?advisory_lock(_shared)?\s*\(|^\s*(LISTEN|SET(?!\s+LOCAL)|PREPARE|DECLARE\s+\w+.*WITH\s+HOLD|"
    r"SELECT\s+set_config\s*\([^)]*false)\b",
    re.MULTILINE,  # keywords as this code writes SQL: upper case ("Set BATON_…" in a message is no statement)
)
# (file, function) whose SQL runs on a connection of its own, never on a pooled one.
OWN_CONNECTION = {("storage/db.py", "_migration_lock")}


def _sql_strings():
    for path in sorted([*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("storage").rglob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("storage/migrations/"):
            continue  # migrations run once, before the pool serves anyone
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    yield relative, function.name, node.value


def test_no_statement_sent_through_the_pool_leaves_session_state_behind():
    offenders = [f"{file}:{function}: {text[:80]!r}" for file, function, text in _sql_strings()
                 if SESSION_STATE.search(text) and (file, function) not in OWN_CONNECTION]

    assert offenders == []


def test_the_scan_finds_session_state_where_there_is_some():
    """The pattern above is not blind: each kind of session state it is there for is caught."""
    for statement in ("SELECT pg_advisory_lock($1)", "LISTEN baton_webchat", "SET statement_timeout = 0",
                      "PREPARE q AS SELECT 1", "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
                      "SELECT set_config('x', 'y', false)"):
        assert SESSION_STATE.search(statement), statement
    for statement in ("SELECT pg_advisory_xact_lock($1, $2)", "UPDATE outbox_job SET lease_until = $1",
                      "SET LOCAL lock_timeout = '1s'"):
        assert not SESSION_STATE.search(statement), statement


async def test_a_connection_given_back_mid_transaction_comes_back_without_it(database):
    """What the pool still does on release: a transaction left open is rolled back, not handed on."""
    if db.dialect() != "postgres":
        pytest.skip("SQLite has one connection and no pool")
    client = connections.get("default")
    await client.execute_query("SELECT 1")  # the pool opens on first use
    pool = client._pool
    assert pool._reset is db.release_as_is
    async with pool.acquire() as raw:
        await raw.execute("BEGIN")
        await raw.execute("CREATE TEMP TABLE left_open (x int) ON COMMIT DROP")
    for _ in range(pool.get_size()):
        async with pool.acquire() as raw:
            assert not raw.is_in_transaction()
            assert await raw.fetchval("SELECT to_regclass('pg_temp.left_open')") is None

"""Shared fixtures: every storage-touching test runs on SQLite and on PostgreSQL.

PostgreSQL: a template database is migrated once per session; the session's test database is a copy
of it, emptied with TRUNCATE … RESTART IDENTITY after every test. Without a reachable server the PostgreSQL cases are skipped with a
visible reason, unless BATON_REQUIRE_POSTGRES=1 (set by .ci/run), where they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import pytest

from storage import db

POSTGRES_ADMIN_URL = os.environ.get("BATON_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("BATON_REQUIRE_POSTGRES") == "1"
TEMPLATE_DB = f"baton_template_{os.getpid()}"


def _pg_url(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _pg_admin(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    _run(db.apply_migrations(f"sqlite://{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template():
    try:
        _run(_pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"', f'CREATE DATABASE "{TEMPLATE_DB}"'))
    except Exception as error:  # no server: visible skip, or a failure in CI
        reason = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({type(error).__name__}: {error})"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " and BATON_REQUIRE_POSTGRES=1")
        pytest.skip(reason)
    _run(db.apply_migrations(_pg_url(TEMPLATE_DB)))
    yield TEMPLATE_DB
    _run(_pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    """A fresh, migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "baton.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite://{path}"
        return
    name = request.getfixturevalue("postgres_database")
    yield _pg_url(name)
    try:
        _run(_truncate_all(_pg_url(name)))
    except Exception:  # a test left a lock behind: start the next one from a fresh copy instead
        _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                       f'CREATE DATABASE "{name}" TEMPLATE "{request.getfixturevalue("postgres_template")}"'))


@pytest.fixture(scope="session")
def postgres_database(postgres_template):
    """One copy of the template for the session, emptied after every test (TRUNCATE is ~20x faster than a copy)."""
    name = f"baton_test_{uuid.uuid4().hex[:10]}"
    _run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield name
    _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=3)
    try:
        await conn.execute("SET lock_timeout = '3s'")
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'"
        )
        names = ", ".join(f'"{row["tablename"]}"' for row in tables)
        await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def database(database_url):
    """Connected to a fresh database for the test's duration."""
    await db.connect(database_url, migrate=False)
    yield database_url
    await db.disconnect()


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request, tmp_path):
    """A database of each kind with no tables at all: for tests that migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'empty.sqlite3'}"
        return
    request.getfixturevalue("postgres_template")  # the same visible skip, or failure in CI, without a server
    name = f"baton_empty_{uuid.uuid4().hex[:10]}"
    _run(_pg_admin(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --------------------------------------------------------------------------- real browser


@pytest.fixture
async def browser():
    """Headless Chromium (Debian's, under Playwright; tests/browser.py): a skip with the reason when it is
    missing, a failure under BATON_REQUIRE_BROWSER=1."""
    from tests.browser import BrowserUnavailable, launch_browser, unavailable

    try:
        launched = launch_browser()
        instance = await launched.__aenter__()
    except BrowserUnavailable as error:
        unavailable(str(error))
    try:
        yield instance
    finally:
        await launched.__aexit__(None, None, None)


@pytest.fixture
async def page(browser):
    """A page in a fresh browser context (no cookies or storage shared between tests)."""
    context = await browser.new_context()
    try:
        yield await context.new_page()
    finally:
        await context.close()

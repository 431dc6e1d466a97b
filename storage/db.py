"""Database lifecycle: Tortoise configuration, connection, migrations (Tortoise ORM's own)."""

from __future__ import annotations

import logging
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.transactions import in_transaction
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate as tortoise_migrate

from storage.lanes import UrgentFirstLock

log = logging.getLogger(__name__)

APP_LABEL = "baton"


def tortoise_config(database_url: str) -> dict[str, Any]:
    connection: str | dict[str, Any] = database_url
    if database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        connection = expand_db_url(database_url)
        connection["credentials"]["reset"] = release_as_is
    return {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": ["storage.models"],
                "default_connection": "default",
                "migrations": "storage.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def release_as_is(connection) -> None:
    """The pool's reset of a connection it takes back: nothing to undo.

    asyncpg's default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every
    release, about ten round trips a card; Baton keeps no session state on pooled connections (advisory
    locks are transaction-scoped, LISTEN and the migration lock have connections of their own, nothing
    SETs; tests/test_pool_session_state.py holds the code to that). asyncpg still rolls back a transaction
    left open before it calls this."""


def unit_of_work():
    """`async with unit_of_work():` the storage calls made inside commit together or not at all.

    (Tortoise's `in_transaction` under a name `bot/` may use: only `storage/` imports tortoise.)"""
    return in_transaction()


def dialect() -> str:
    """`sqlite` or `postgres`: a few queries (row locks) differ between the two."""
    return connections.get("default").capabilities.dialect


async def apply_migrations(database_url: str, *, target: str | None = None) -> None:
    """Apply pending migrations (up to `target`, e.g. "baton.0006_engagement_indexes", when given);
    several processes starting at once are serialized by a lock."""
    lock = await _migration_lock(database_url)
    try:
        await tortoise_migrate(config=tortoise_config(database_url), target=target)
        await Tortoise.close_connections()
    finally:
        if lock is not None:
            await lock.close()  # closing the session releases the advisory lock


MIGRATION_LOCK_KEY = 0x6261746F6E  # "baton"


async def _migration_lock(database_url: str):
    """On PostgreSQL, hold a session advisory lock so two `baton serve` starting together migrate once."""
    if not database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return None
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("asyncpg://", "postgres://", 1))
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    return conn


async def connect(database_url: str, *, migrate: bool = True) -> None:
    """Apply pending migrations (when asked) and open the connection for this process."""
    if migrate:
        await apply_migrations(database_url)
    # Tortoise caches prepared INSERT/DELETE SQL per connection *name*, not per dialect; a process that
    # switches databases (the test suite alternates SQLite and PostgreSQL) must drop that cache.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    if dialect() == "sqlite":
        conn = connections.get("default")
        # An agent's click before the queue on the one connection (storage.lanes). Tortoise takes this
        # lock for every statement and transaction; tests/test_lanes.py fails if it stops doing so.
        conn._lock = UrgentFirstLock()
        # WAL lets readers proceed while the outbox worker writes; busy_timeout waits out a writer.
        await conn.execute_script("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL;")
    log.info("database connected (%s)", dialect())


async def side_connection(application_name: str = "baton-leases"):
    """A PostgreSQL connection of its own, outside the shared pool, to the database Tortoise is connected to
    (None on SQLite, which has one connection anyway). The caller closes it."""
    client = connections.get("default")
    if client.capabilities.dialect != "postgres":
        return None
    import asyncpg

    return await asyncpg.connect(host=client.host, port=client.port, user=client.user, password=client.password,
                                 database=client.database, server_settings={"application_name": application_name})


async def disconnect() -> None:
    await Tortoise.close_connections()


async def ping() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
        return True
    except Exception:  # any failure means "not ready"; the caller answers 503
        log.warning("database ping failed", exc_info=True)
        return False


# For Tortoise's own CLI when a developer changes the models:
#   BATON_DATABASE_URL=sqlite:///tmp/mk.sqlite3 tortoise -c storage.db.TORTOISE_ORM makemigrations
def _cli_config() -> dict[str, Any]:
    import os

    return tortoise_config(os.environ.get("BATON_DATABASE_URL", "sqlite://baton.sqlite3"))


TORTOISE_ORM = _cli_config()


async def model_changes_without_migration(database_url: str) -> list[str]:
    """What `tortoise makemigrations` would write now (descriptions of operations), without writing it.

    Empty when `storage/models.py` and `storage/migrations/` agree; a test keeps it that way.
    """
    from tortoise.context import TortoiseContext
    from tortoise.migrations.autodetector import MigrationAutodetector

    config = tortoise_config(database_url)
    apps = {label: dict(app) for label, app in config["apps"].items()}
    async with TortoiseContext() as context:
        await context.init(config=config)
        writers = await MigrationAutodetector(context.apps, apps).changes()
    return [f"{writer.app_label}: {operation.describe()}" for writer in writers for operation in writer.operations]

"""Migrations: they match the models, and the columns they add can be added to tables that hold rows.

(An actual upgrade of a database with data, 0006 to the latest, is in test_engagement_totals.py.)"""

from __future__ import annotations

import importlib
import pkgutil

import storage.migrations
from storage import db


def _migrations():
    for info in sorted(pkgutil.iter_modules(storage.migrations.__path__), key=lambda m: m.name):
        yield info.name, importlib.import_module(f"storage.migrations.{info.name}").Migration


async def test_the_models_need_no_migration_that_is_not_written(tmp_path):
    changes = await db.model_changes_without_migration(f"sqlite://{tmp_path / 'check.sqlite3'}")

    assert changes == [], "run `tortoise makemigrations` (see docs/production.md) and commit the result"


def test_a_column_added_to_an_existing_table_is_nullable_or_has_a_database_default():
    """A NOT NULL column with only a Python-side default cannot be added to a table with rows in it:
    SQLite refuses outright and PostgreSQL fails on the first row, so the upgrade would stop."""
    offenders = []
    for name, migration in _migrations():
        if migration.initial:
            continue
        for operation in migration.operations:
            if type(operation).__name__ != "AddField":
                continue
            field = operation.field
            if not (field.null or field.has_db_default()):
                offenders.append(f"{name}: {operation.model_name}.{operation.name}")

    assert offenders == []


def test_the_migrations_form_one_line():
    names = [name for name, _ in _migrations()]
    for previous, (name, migration) in zip(names, list(_migrations())[1:]):
        assert migration.dependencies == [("baton", previous)], name


async def test_0020_keys_the_mail_already_received_and_a_copy_stored_twice_before_keeps_the_first_key(empty_database_url):
    """Upgrading a database that holds received and sent mail, and a mail stored twice by the race 0020 closes:
    the upgrade completes, the first copy gets its key, the second and the sent mail none; nothing is deleted."""
    from datetime import datetime, timezone

    from tortoise import connections

    from bot.domain import Handoff
    from storage.channels import received_key
    from storage.intake import store_handoff
    from storage.models import EmailId

    await db.apply_migrations(empty_database_url, target="baton.0019_outbox_priority")
    await db.connect(empty_database_url, migrate=False)
    now = datetime(2026, 3, 3, tzinfo=timezone.utc)
    try:
        result = await store_handoff(Handoff(source="baton:email", conversation_id="<a@x>", channel="email"), [],
                                     targets=[], sentiment=None, now=now)
        conversation_id = int(result.conversation_public_id[1:])
        conn = connections.get("default")
        sql = ('INSERT INTO email_id (conversation_id, mail_id, outbound, "references", created_at) VALUES '
               + ("(?, ?, ?, '[]', ?)" if db.dialect() == "sqlite" else "($1, $2, $3, '[]', $4)"))
        for mail_id, outbound in [("<a@x>", False), ("<a@x>", False), ("<sent@baton>", True), ("<b@x>", False)]:
            await conn.execute_query(sql, [conversation_id, mail_id, outbound, now])
    finally:
        await db.disconnect()

    await db.connect(empty_database_url, migrate=True)
    try:
        keys = await EmailId.all().order_by("id").values_list("received_key", flat=True)
    finally:
        await db.disconnect()
    assert keys == [received_key("baton:email", "<a@x>"), None, None, received_key("baton:email", "<b@x>")]

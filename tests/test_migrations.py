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

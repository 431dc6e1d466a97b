"""Multi-row INSERTs without building ORM objects, for the intake hot path.

Values go through each field's own `to_db_value`, so rows are stored exactly as Tortoise would store
them (JSON text, datetimes, booleans); only the per-object overhead is skipped.
"""

from __future__ import annotations

from typing import Any, Sequence

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model


def _placeholders(dialect: str, rows: int, width: int) -> str:
    if dialect == "sqlite":
        row = "(" + ",".join("?" * width) + ")"
        return ",".join([row] * rows)
    groups = []
    for r in range(rows):
        start = r * width
        groups.append("(" + ",".join(f"${start + c + 1}" for c in range(width)) + ")")
    return ",".join(groups)


async def insert_rows(
    conn: BaseDBAsyncClient,
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    returning: Sequence[str] = (),
    skip_conflicts_on: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """INSERT `rows` (dicts of field name → value, all with the same keys) in one statement.

    `skip_conflicts_on` names the unique columns whose duplicates are silently skipped (ON CONFLICT DO
    NOTHING, on SQLite and PostgreSQL alike); `returning` columns come back for the rows inserted.
    """
    if not rows:
        return []
    meta = model._meta
    names = list(rows[0])
    columns = ",".join(f'"{meta.fields_db_projection[name]}"' for name in names)
    fields = [meta.fields_map[name] for name in names]
    values = [field.to_db_value(row[name], None) for row in rows for name, field in zip(names, fields)]
    sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES {_placeholders(conn.capabilities.dialect, len(rows), len(names))}'
    if skip_conflicts_on:
        sql += " ON CONFLICT (" + ",".join(f'"{c}"' for c in skip_conflicts_on) + ") DO NOTHING"
    if not returning:
        await conn.execute_query(sql, values)
        return []
    # execute_query_dict fetches rows on both backends (execute_query skips fetching for an INSERT on asyncpg).
    return await conn.execute_query_dict(sql + " RETURNING " + ",".join(f'"{c}"' for c in returning), values)

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
    conn: BaseDBAsyncClient, model: type[Model], rows: Sequence[dict[str, Any]], *, returning_id: bool = False
) -> list[int]:
    """INSERT `rows` (dicts of field name → value, all with the same keys) in one statement."""
    if not rows:
        return []
    meta = model._meta
    names = list(rows[0])
    columns = ",".join(f'"{meta.fields_db_projection[name]}"' for name in names)
    fields = [meta.fields_map[name] for name in names]
    values = [field.to_db_value(row[name], None) for row in rows for name, field in zip(names, fields)]
    sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES {_placeholders(conn.capabilities.dialect, len(rows), len(names))}'
    if not returning_id:
        await conn.execute_query(sql, values)
        return []
    # execute_query_dict fetches rows on both backends (execute_query skips fetching for an INSERT on asyncpg).
    result = await conn.execute_query_dict(sql + ' RETURNING "id"', values)
    return [row["id"] for row in result]


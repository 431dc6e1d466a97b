"""Plain SQL for the delivery hot path: statements written once with `?` placeholders, sent as they are.

Building a statement through the ORM (pypika, a model instance per row) cost more CPU per card than
sending it (benchmarks/README.md, Delivery), so the statements every sync sends are written here as SQL.
Values still go through each model field's own conversion (`to_python_value`), so what comes back is
what the ORM would have given.
"""

from __future__ import annotations

from typing import Any

from tortoise import connections

_cache: dict[tuple[str, str], str] = {}


def for_dialect(sql: str, dialect: str) -> str:
    """`?` placeholders as the dialect wants them ($1, $2 … on PostgreSQL)."""
    key = (sql, dialect)
    found = _cache.get(key)
    if found is None:
        found = sql
        if dialect == "postgres":
            parts = sql.split("?")
            found = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))
        _cache[key] = found
    return found


async def rows(sql: str, values: list[Any]) -> list[dict[str, Any]]:
    """The rows of one statement, on the current connection (inside `in_transaction()`: the transaction's)."""
    conn = connections.get("default")
    return await conn.execute_query_dict(for_dialect(sql, conn.capabilities.dialect), values)


def converter(model: Any, name: str):
    """The field's own database → Python conversion (JSON decoding, datetimes made aware, booleans)."""
    return model._meta.fields_map[name].to_python_value

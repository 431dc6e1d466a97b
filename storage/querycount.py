"""Counting the SQL statements Baton sends, to hold the "bounded queries" line (STYLE: Storage).

`count_queries()` instruments the Tortoise client object of a connection alias while it is active:
it replaces, by instance attribute, the client's `execute_query`, `execute_query_dict`,
`execute_query_dict_with_affected`, `execute_insert`, `execute_many` and `execute_script` with
counting wrappers, and restores them on exit. Baton's own code is not touched.

How Tortoise 1.1.9 routes statements, and what that means here:

* Every queryset, `Model.save/create`, `bulk_create` and raw call ends in one of those methods of
  the client that `connections.get(alias)` returns: `SqliteClient` (one aiosqlite connection) or
  `AsyncpgDBClient` (a pool). Outside a transaction that is the object instrumented on entry.
* `in_transaction()` asks that client's `_in_transaction()` for a context whose client is a
  *different* object (`SqliteTransactionWrapper` / asyncpg `TransactionWrapper`), which the context
  installs in the connection handler for the current task. The counter therefore also wraps
  `_in_transaction` and instruments each transaction client (and nested savepoint clients) it
  hands out, so statements inside transactions are counted too.
* BEGIN / COMMIT / ROLLBACK / SAVEPOINT are issued straight on the driver connection by the
  transaction wrapper, not through those methods: they are not counted. `count` is the number of
  statements the ORM asked for (SELECT, INSERT, UPDATE, DELETE, a bulk insert batch counts once).
* Base-class methods that delegate to one another (`execute_query_dict` →
  `execute_query_dict_with_affected` → `execute_query`) are counted once: only the outermost
  call of a task counts.
* The counter sees every task that uses the connection while it is active, not only the caller's;
  measure on a quiet connection (tests, benchmarks).
* A transaction opened *before* the counter was entered keeps its unwrapped client; enter the
  counter first.
"""

from __future__ import annotations

import contextvars
import functools
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from tortoise import connections

_METHODS = (
    "execute_query",
    "execute_query_dict",
    "execute_query_dict_with_affected",
    "execute_insert",
    "execute_many",
    "execute_script",
)

_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("baton_querycount_inside", default=False)


@dataclass
class QueryCounter:
    count: int = 0
    # (method, SQL) of each counted statement, for failure messages and debugging.
    statements: list[tuple[str, str]] = field(default_factory=list)
    keep_sql: bool = True

    def record(self, method: str, query: Any) -> None:
        self.count += 1
        if self.keep_sql:
            self.statements.append((method, " ".join(str(query).split())))

    def selects(self) -> int:
        return sum(1 for _, sql in self.statements if sql.lstrip().upper().startswith(("SELECT", "WITH")))

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()


class _Instrumentation:
    def __init__(self, counter: QueryCounter) -> None:
        self.counter = counter
        self.patched: list[tuple[object, str]] = []

    def instrument(self, client: Any) -> None:
        for name in _METHODS:
            original = getattr(client, name, None)
            if original is None or name in vars(client):
                continue
            setattr(client, name, self._counting(name, original))
            self.patched.append((client, name))
        if "_in_transaction" not in vars(client):
            setattr(client, "_in_transaction", self._transactions(client._in_transaction))
            self.patched.append((client, "_in_transaction"))

    def _counting(self, name: str, original):
        counter = self.counter

        @functools.wraps(original)
        async def counted(query, *args, **kwargs):
            if _inside.get():
                return await original(query, *args, **kwargs)
            counter.record(name, query)
            token = _inside.set(True)
            try:
                return await original(query, *args, **kwargs)
            finally:
                _inside.reset(token)

        return counted

    def _transactions(self, original):
        def in_transaction():
            context = original()
            # SqliteTransactionContext keeps its client in `.connection`; the pooled (asyncpg) and
            # nested contexts in `.client`.
            client = getattr(context, "client", None) or getattr(context, "connection", None)
            if client is not None:
                self.instrument(client)
            return context

        return in_transaction

    def restore(self) -> None:
        for client, name in reversed(self.patched):
            try:
                delattr(client, name)
            except AttributeError:
                pass
        self.patched.clear()


@asynccontextmanager
async def count_queries(alias: str = "default", *, keep_sql: bool = True) -> AsyncIterator[QueryCounter]:
    """`async with count_queries() as counter: ...` then `counter.count` statements were sent."""
    counter = QueryCounter(keep_sql=keep_sql)
    instrumentation = _Instrumentation(counter)
    instrumentation.instrument(connections.get(alias))
    try:
        yield counter
    finally:
        instrumentation.restore()

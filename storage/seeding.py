"""Fast bulk writes for generated data (`baton seed`, benchmarks), and the reads that check it.

`BulkWriter` takes rows for the seedable tables, hands out primary keys itself (so children can
reference parents before anything is written), and flushes them parents-first, one transaction per
flush, in the background while the caller goes on. Rows come either as field dicts (`add`, with the
per-field conversions `bulk_create` applies, `Field.to_db_value`) or, on the generator's hot path, as
tuples of stored values in a column order the caller declares (`layout` + `put`). On SQLite a flush
sends 100-row INSERT statements, on PostgreSQL a COPY. `bulk_load` wraps a large load (SQLite
settings; secondary indexes built after it).

Ids start after the largest existing one: seed while no Baton process is writing.

The module also holds the reference ("naive") implementations the benchmarks measure Baton
against, so that only `storage/` talks to the ORM.
"""

from __future__ import annotations

import asyncio
import time
from itertools import chain
from dataclasses import dataclass, field
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, AsyncIterator, Iterable, Mapping, Sequence

from tortoise import connections
from tortoise.functions import Count
from tortoise.fields import DatetimeField, Field
from tortoise.models import Model
from tortoise.transactions import in_transaction

from bot.domain import CaseFacts, IdentityFact, TimelineEntry
from bot.identity import name_keys
from storage.db import dialect
from storage.engagement import recompute as recompute_engagement
from storage.models import (
    Activity,
    Case,
    CaseComment,
    Conversation,
    Customer,
    Identity,
    Message,
    Note,
    Order,
    Survey,
)
from storage.summary import (
    IDENTITIES_SHOWN,
    PRIOR_INTERACTIONS,
    RECENT_CASES,
    OrderStats,
    SummaryRecord,
    _profile,
)

# Parents before children: a flush writes the tables in this order inside one transaction.
SEED_TABLES: dict[str, type[Model]] = {
    "customer": Customer,
    "case": Case,
    "conversation": Conversation,
    "identity": Identity,
    "case_comment": CaseComment,
    "note": Note,
    "message": Message,
    "order": Order,
    "survey": Survey,
    "activity": Activity,
}

# Tables whose rows feed the running engagement totals on the customer row.
ENGAGEMENT_TABLES = ("order", "survey")

BATCH_ROWS = 50_000  # rows per execute_many call (SQLite; one trip to its thread each)
ROWS_PER_INSERT = 100  # rows per SQLite INSERT statement (33 columns × 100 stays far below its 32,766 parameters)
FLUSH_ROWS = 40_000  # buffered rows that trigger a flush (one transaction)


class _Table:
    """Column order, insert statement and converters of one table, as `bulk_create` would use them."""

    def __init__(self, model: type[Model]) -> None:
        client = connections.get("default")
        executor = client.executor_class(model=model, db=client)
        self.model = model
        self.columns: list[str] = list(executor.regular_columns_all)
        self.sql: str = executor.insert_query_all
        self.db_table: str = model._meta.db_table
        self.db_columns = [model._meta.fields_db_projection[name] for name in self.columns]
        fields_map = model._meta.fields_map
        self.fields = [fields_map[name] for name in self.columns]
        # Plain columns whose `to_db_value` only checks the type (and, for datetimes, awareness):
        # a value of the right type goes through as is, which saves most of the per-row cost.
        self.passthrough = [
            type(fld).to_db_value in (Field.to_db_value, DatetimeField.to_db_value) for fld in self.fields
        ]
        # Database value of each column's default, converted once ("[]" for a JSON list, ...).
        self.defaults: dict[str, Any] = {}
        for name, fld in zip(self.columns, self.fields):
            default = fld.default
            if default is not None or fld.null:
                value = default() if callable(default) else default
                self.defaults[name] = None if value is None else fld.to_db_value(value, model)

    def row(self, values: Mapping[str, Any]) -> list[Any]:
        out = []
        model = self.model
        for name, fld, passthrough in zip(self.columns, self.fields, self.passthrough):
            if name not in values:
                try:
                    out.append(self.defaults[name])
                except KeyError:
                    raise ValueError(f"{model.__name__}.{name} has no default; give a value") from None
                continue
            value = values[name]
            if value is None:
                out.append(None)
            elif passthrough and isinstance(value, fld.field_type) and (
                not isinstance(value, datetime) or value.tzinfo is not None
            ):
                out.append(value)
            else:
                out.append(fld.to_db_value(value, model))
        return out


class Layout:
    """Rows of one table given as tuples in a column order of the caller's choosing (`BulkWriter.layout`).

    The values must already be what the database stores (`Field.to_db_value`): str, int, float, bool,
    Decimal, aware datetimes, JSON as its text, None. Columns the caller leaves out get their default.
    This is the generator's hot path: no dict and no conversion per row."""

    def __init__(self, name: str, table: _Table, columns: Sequence[str]) -> None:
        unknown = [c for c in columns if c not in table.columns]
        if unknown:
            raise ValueError(f"{table.model.__name__} has no columns {unknown}")
        rest = [c for c in table.columns if c not in columns]
        missing = [c for c in rest if c not in table.defaults]
        if missing:
            raise ValueError(f"{table.model.__name__}.{missing} have no default; give values")
        self.name = name
        self.columns = [*columns, *rest]
        self.tail = tuple(table.defaults[c] for c in rest)
        projection = table.model._meta.fields_db_projection
        self.db_columns = [projection[c] for c in self.columns]
        self.sql = (f'INSERT INTO "{table.db_table}" (' + ",".join(f'"{c}"' for c in self.db_columns)
                    + ") VALUES (" + ",".join("?" * len(self.columns)) + ")")
        self.rows: list[Sequence[Any]] = []
        self._values = "(" + ",".join("?" * len(self.columns)) + ")"
        self._fields = table.model._meta.fields_map
        self._model = table.model

    def sql_of(self, rows: int) -> str:
        """The INSERT of `rows` rows at once (SQLite placeholders)."""
        return self.sql.rsplit(" VALUES ", 1)[0] + " VALUES " + ",".join([self._values] * rows)

    def encode(self, column: str, value: Any) -> Any:
        """`value` as this column stores it (JSON as text, an enum as its value): for callers to cache."""
        return self._fields[column].to_db_value(value, self._model)


class BulkWriter:
    """Buffer rows of the seedable tables and write them in batches; ids are assigned on `add`.

    Use as `async with BulkWriter() as writer: cid = writer.add("customer", ...)`, awaiting
    `writer.maybe_flush()` now and then; leaving the block flushes the rest and, on PostgreSQL,
    moves the id sequences past the ids handed out. `layout` + `put` is the faster way for many
    rows of one shape; rows written that way leave the engagement totals to the caller (`engaged`).
    """

    def __init__(self, *, batch_rows: int = BATCH_ROWS, flush_rows: int = FLUSH_ROWS) -> None:
        self.batch_rows = batch_rows
        self.flush_rows = flush_rows
        self.counts: dict[str, int] = {name: 0 for name in SEED_TABLES}
        self.flush_seconds = 0.0  # the writes' own durations (they overlap the generation)
        self.wait_seconds = 0.0  # how long the caller waited for a write to end
        self._buffered = 0
        self._engaged: set[int] = set()  # customers whose orders or surveys are buffered
        self._next_id: dict[str, int] = {}
        self._tables: dict[str, _Table] = {}
        self._layouts: dict[str, list[Layout]] = {name: [] for name in SEED_TABLES}
        self._full: dict[str, Layout] = {}
        self._pending: asyncio.Future | None = None  # the write under way

    async def __aenter__(self) -> "BulkWriter":
        self._tables = {name: _Table(model) for name, model in SEED_TABLES.items()}
        self._full = {name: self.layout(name, table.columns) for name, table in self._tables.items()}
        self._copy = dialect() == "postgres"
        self._next_id = await next_ids()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            if self._pending is not None:  # let a write under way end (committed or rolled back)
                await asyncio.gather(self._pending, return_exceptions=True)
            return  # a failed flush was rolled back; earlier flushes stay committed
        await self.flush()
        await sync_id_sequences()

    def new_id(self, table: str) -> int:
        value = self._next_id[table]
        self._next_id[table] = value + 1
        return value

    def layout(self, table: str, columns: Sequence[str]) -> Layout:
        """A row shape for `put`: these columns, in this order, then the defaults of the others."""
        layout = Layout(table, self._tables[table], columns)
        self._layouts[table].append(layout)
        return layout

    def put(self, layout: Layout, values: tuple) -> None:
        """Buffer one row of `layout` (database values in its column order, ids given)."""
        layout.rows.append(values + layout.tail if layout.tail else values)
        self._buffered += 1
        self.counts[layout.name] += 1

    def engaged(self, customer_id: int) -> None:
        """Recompute this customer's engagement totals with the next flush."""
        self._engaged.add(customer_id)

    def add(self, table: str, **values: Any) -> int:
        """Buffer one row (field name -> Python value); returns its id."""
        if table == "customer" and "name_key" not in values:
            values["name_key"], values["surname_key"] = name_keys(values["display_name"])
        if "id" not in values:
            values["id"] = self.new_id(table)
        elif values["id"] >= self._next_id[table]:
            self._next_id[table] = values["id"] + 1
        self._full[table].rows.append(self._tables[table].row(values))
        if table in ENGAGEMENT_TABLES:
            self._engaged.add(values["customer_id"])
        self._buffered += 1
        self.counts[table] += 1
        return values["id"]

    async def maybe_flush(self) -> None:
        """Start writing what is buffered once it is big enough, and go on generating meanwhile.

        One write runs in the background while the next buffer fills (the database's own work —
        SQLite's thread with the GIL released, or the PostgreSQL server — overlaps the generator's);
        the caller must let the event loop run now and then (`await asyncio.sleep(0)`), and a second
        write waits for the first. A failed write raises here, or when the block ends.
        """
        if self._buffered >= self.flush_rows:
            await self._start_flush()

    async def flush(self) -> None:
        """Write everything buffered, and wait until it is written."""
        await self._start_flush()
        await self._settle()

    async def _settle(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            started = time.perf_counter()
            try:
                await pending
            finally:
                self.wait_seconds += time.perf_counter() - started

    async def _start_flush(self) -> None:
        await self._settle()
        if not self._buffered:
            return
        taken = [(layout, layout.rows) for name in SEED_TABLES for layout in self._layouts[name] if layout.rows]
        for layout, _ in taken:
            layout.rows = []
        engaged, self._engaged, self._buffered = self._engaged, set(), 0
        self._pending = asyncio.ensure_future(self._write(taken, engaged))

    async def _write(self, taken: list[tuple[Layout, list]], engaged: set[int]) -> None:
        started = time.perf_counter()
        async with in_transaction() as connection:
            driver = getattr(connection, "_connection", None)
            for layout, rows in taken:
                if self._copy and hasattr(driver, "copy_records_to_table"):
                    # PostgreSQL: COPY beats batched INSERTs (measured 5.3 s against 7.9 s of writing
                    # for 200,000 rows). The transaction client holds asyncpg's own connection.
                    await driver.copy_records_to_table(
                        self._tables[layout.name].db_table, records=rows, columns=layout.db_columns
                    )
                    continue
                # SQLite: INSERTs of ROWS_PER_INSERT rows each (measured a third faster than one row per
                # statement), sent in calls of `batch_rows` rows; the remainder row by row.
                whole = len(rows) - len(rows) % ROWS_PER_INSERT
                many = layout.sql_of(ROWS_PER_INSERT)
                for start in range(0, whole, self.batch_rows):
                    part = rows[start : min(start + self.batch_rows, whole)]
                    await connection.execute_many(many, [
                        list(chain.from_iterable(part[i : i + ROWS_PER_INSERT])) for i in range(0, len(part), ROWS_PER_INSERT)
                    ])
                if whole < len(rows):
                    await connection.execute_many(layout.sql, rows[whole:])
            await recompute_engagement(engaged)
        self.flush_seconds += time.perf_counter() - started


# A load at least this large, into tables holding fewer rows than it adds, drops their secondary indexes
# first and builds them again at the end: one sort per index instead of a random B-tree insert per row.
BULK_INDEX_ROWS = 500_000


@dataclass
class BulkLoad:
    set_aside: list[str] = field(default_factory=list)  # indexes dropped for the load
    rebuild_seconds: float = 0.0  # creating them again at the end


@asynccontextmanager
async def bulk_load(expected_rows: int, *, set_indexes_aside: bool | None = None) -> AsyncIterator[BulkLoad]:
    """Settings for writing many rows at once; yields what it set aside (and, after, how long the
    indexes took to build again).

    SQLite: no fsync per commit (`synchronous = OFF`; a power cut during a seed can lose the seed, not
    what was committed before it) and a 512 MB page cache, both restored after. Both databases: with
    `expected_rows` ≥ BULK_INDEX_ROWS and more than the seedable tables hold (or `set_indexes_aside`),
    their non-unique indexes are dropped, then created again when the block ends, whether it succeeded or not. Unique indexes
    stay: they are what keeps the data right. Run it while no Baton process is serving the database."""
    conn = connections.get("default")
    sqlite = conn.capabilities.dialect == "sqlite"
    if sqlite:
        _, [row] = await conn.execute_query("PRAGMA cache_size")
        cache_size = int(row[0])
        await conn.execute_script("PRAGMA synchronous = OFF; PRAGMA cache_size = -524288;")
    dropped: list[tuple[str, str]] = []
    load = BulkLoad()
    try:
        if set_indexes_aside is None:
            set_indexes_aside = expected_rows >= BULK_INDEX_ROWS and expected_rows > sum((await table_counts()).values())
        if set_indexes_aside:
            dropped = await _secondary_indexes(sqlite)
            for name, _ in dropped:
                await conn.execute_script(f'DROP INDEX "{name}"')
            load.set_aside = [name for name, _ in dropped]
        yield load
    finally:
        started = time.perf_counter()
        try:
            for _, statement in dropped:
                await conn.execute_script(statement)
        finally:
            load.rebuild_seconds = time.perf_counter() - started
            if sqlite:
                await conn.execute_script(f"PRAGMA synchronous = NORMAL; PRAGMA cache_size = {cache_size};")


async def _secondary_indexes(sqlite: bool) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-unique indexes of the seedable tables."""
    conn = connections.get("default")
    tables = [model._meta.db_table for model in SEED_TABLES.values()]
    if sqlite:
        marks = ",".join("?" * len(tables))
        _, rows = await conn.execute_query(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({marks}) AND sql IS NOT NULL",
            tables,
        )
    else:
        _, rows = await conn.execute_query(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY($1::text[])",
            [tables],
        )
    return [(row[0], row[1]) for row in rows if not row[1].upper().startswith("CREATE UNIQUE")]


async def next_ids() -> dict[str, int]:
    """The first free id of every seedable table."""
    result = {}
    for name, model in SEED_TABLES.items():
        top = await model.all().order_by("-id").first().values_list("id", flat=True)
        result[name] = int(top or 0) + 1
    return result


async def sync_id_sequences() -> None:
    """PostgreSQL serial sequences do not move when ids are given explicitly: move them past max(id)."""
    if dialect() != "postgres":
        return  # SQLite's rowid allocation already follows max(rowid)
    connection = connections.get("default")
    for model in SEED_TABLES.values():
        table = model._meta.db_table
        await connection.execute_query(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM \"{table}\"), 1), "
            f"(SELECT COUNT(*) > 0 FROM \"{table}\"))"
        )


async def analyze(*, vacuum: bool = False) -> None:
    """Refresh planner statistics after a bulk load, so the first queries pick the indexes.

    `vacuum=True` (PostgreSQL) also vacuums, which marks the new pages all-visible: index-only
    scans become possible and autovacuum has nothing left to do in the middle of a measurement.
    """
    statement = "VACUUM ANALYZE" if vacuum and dialect() == "postgres" else "ANALYZE"
    await connections.get("default").execute_script(statement)


# --------------------------------------------------------------------------- reads for checks


async def database_size_bytes() -> int:
    """The database's size on disk: pages × page size on SQLite, `pg_database_size` on PostgreSQL."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        _, [pages] = await conn.execute_query("PRAGMA page_count")
        _, [size] = await conn.execute_query("PRAGMA page_size")
        return int(pages[0]) * int(size[0])
    _, [row] = await conn.execute_query("SELECT pg_database_size(current_database())")
    return int(row[0])


async def existing_identity_values(kinds: Sequence[str]) -> set[tuple[str, str]]:
    """(kind, value) pairs already stored, so a second seeding run does not share identities by chance."""
    return set(await Identity.filter(kind__in=list(kinds)).values_list("kind", "value"))


async def table_counts() -> dict[str, int]:
    return {name: await model.all().count() for name, model in SEED_TABLES.items()}


async def identity_values(kind: str) -> list[str]:
    return list(await Identity.filter(kind=kind).values_list("value", flat=True))


async def shared_identities() -> list[tuple[str, str, int]]:
    """(kind, value, owners) of identities that more than one customer has."""
    rows = (
        await Identity.all()
        .annotate(owners=Count("customer_id", distinct=True))
        .group_by("kind", "value")
        .filter(owners__gt=1)
        .values_list("kind", "value", "owners")
    )
    return sorted((k, v, int(n)) for k, v, n in rows)


async def customer_id_range() -> tuple[int, int]:
    low = await Customer.all().order_by("id").first().values_list("id", flat=True)
    high = await Customer.all().order_by("-id").first().values_list("id", flat=True)
    return int(low or 0), int(high or 0)


async def contacts_of(customer_ids: Iterable[int]) -> list[tuple[int, str | None, str | None, str]]:
    """(id, email, mobile phone, display name) of these customers, for realistic benchmark payloads."""
    rows = await Customer.filter(id__in=list(customer_ids)).values_list("id", "email", "mobile_phone", "display_name")
    return [(int(i), e, p, n) for i, e, p, n in rows]


# --------------------------------------------------------------------------- benchmark baselines


async def baseline_handoff(source: str, external_id: str, *, customer_input: dict[str, Any], now: datetime) -> int:
    """The least a handoff endpoint must do: one indexed SELECT and one INSERT (no transaction).

    The benchmark's baseline server calls this to show what the database alone costs.
    """
    existing = await Conversation.filter(source=source, external_id=external_id).first().values_list("id", flat=True)
    if existing is not None:
        return int(existing)
    conversation = await Conversation.create(
        source=source,
        external_id=external_id,
        customer_input=customer_input,
        last_activity_at=now,
        created_at=now,
    )
    return conversation.id


def _per_currency(orders) -> tuple[tuple[str, Decimal], ...]:
    sums: dict[str, Decimal] = {}
    for o in orders:
        sums[o.currency] = sums.get(o.currency, Decimal("0")) + Decimal(o.total)
    return tuple((code, amount.quantize(Decimal("0.01"))) for code, amount in sorted(sums.items()))


async def naive_summary_record(customer_id: int, *, timeline_limit: int = 10) -> SummaryRecord | None:
    """The obvious way to build a summary: load all of the customer's history, then summarize in Python.

    Its cost grows with the history; `storage.summary.load_summary` is measured against it.
    """
    customer = await Customer.get_or_none(id=customer_id)
    if customer is None:
        return None
    identities = await Identity.filter(customer_id=customer_id).all()
    activities = await Activity.filter(customer_id=customer_id).all()
    cases = await Case.filter(customer_id=customer_id).all()
    conversations = await Conversation.filter(customer_id=customer_id).all()
    orders = await Order.filter(customer_id=customer_id).all()
    surveys = await Survey.filter(customer_id=customer_id).all()

    activities.sort(key=lambda a: (a.at, a.id), reverse=True)
    cases.sort(key=lambda c: (c.created_at, c.id), reverse=True)
    prior = sorted((c for c in conversations if c.sentiment is not None), key=lambda c: (c.created_at, c.id), reverse=True)
    orders.sort(key=lambda o: (o.placed_at, o.id))
    identities.sort(key=lambda i: (i.kind, i.id))
    return SummaryRecord(
        conversation=None,
        profile=_profile(customer),
        identities=tuple(IdentityFact(i.kind, i.value) for i in identities[:IDENTITIES_SHOWN]),
        recent_cases=tuple(
            CaseFacts(c.number, c.title, c.priority, c.status, c.product, c.owner, c.created_at)
            for c in cases[:RECENT_CASES]
        ),
        timeline=tuple(TimelineEntry(a.at, a.category, a.kind, a.title, a.detail) for a in activities[:timeline_limit]),
        prior_interactions=tuple((c.sentiment, c.topic_text or "") for c in prior[:PRIOR_INTERACTIONS]),
        orders=OrderStats(
            count=len(orders),
            totals=_per_currency(orders),
            first_at=orders[0].placed_at if orders else None,
            last_at=orders[-1].placed_at if orders else None,
            last_number=orders[-1].number if orders else None,
            csat=(sum(s.score for s in surveys) / len(surveys)) if surveys else None,
            csat_responses=len(surveys),
        ),
    )


async def secondary_index_names() -> list[str]:
    """The non-unique indexes of the seedable tables, sorted: what `bulk_load` sets aside and builds again."""
    return sorted(name for name, _ in await _secondary_indexes(connections.get("default").capabilities.dialect == "sqlite"))

"""What every benchmark shares: throwaway databases, seeding, percentiles and printing."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Iterable, Sequence

POSTGRES_ADMIN_URL = os.environ.get("BATON_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASES = ("sqlite", "postgres")


def _pg_url(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _pg_admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def temp_database(kind: str) -> AsyncIterator[str]:
    """A fresh, empty database URL: a SQLite file in a temp dir, or `baton_bench_<pid>` on PostgreSQL.

    Dropped (or deleted) afterwards, also when the benchmark fails.
    """
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="baton-bench-")
        try:
            yield f"sqlite://{folder}/bench.sqlite3"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if kind != "postgres":
        raise ValueError(kind)
    name = f"baton_bench_{os.getpid()}"
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Run:
    """One load against one server: how many requests, how long, their latencies and answer statuses."""

    name: str
    requests: int
    seconds: float
    latency: "Latency"
    statuses: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Latency:
    n: int
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Latency":
        return cls(
            n=len(seconds),
            p50_ms=percentile(seconds, 50) * 1000,
            p99_ms=percentile(seconds, 99) * 1000,
            mean_ms=statistics.fmean(seconds) * 1000 if seconds else float("nan"),
        )


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain aligned text table (numbers right-aligned)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        parts = []
        for i, value in enumerate(row):
            numeric = index > 0 and _looks_numeric(value)
            parts.append(value.rjust(widths[i]) if numeric else value.ljust(widths[i]))
        lines.append("  ".join(parts).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _looks_numeric(text: str) -> bool:
    stripped = text.replace(",", "").replace(".", "").replace("%", "").replace("x", "").replace("-", "")
    return stripped.isdigit()


def banner(text: str) -> str:
    return f"\n== {text} " + "=" * max(0, 76 - len(text))

"""Run every benchmark and print the figures: `python -m benchmarks.run [--database sqlite|postgres|both]
[--customers N] [--quick] [--bench seed,summary,intake]`.

For each database: a fresh one (a temp SQLite file, or `baton_bench_<pid>` on PostgreSQL, dropped
afterwards), seeded with `--customers` generated customers (100,000; 10,000 with `--quick`), then
the summary benchmark and the intake benchmark against it. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import random
import sys
import time
import warnings

from benchmarks import bench_intake, bench_summary
from benchmarks.common import banner, table, temp_database
from bot.clock import utc_now
from bot.seed import seed
from storage import db
from storage.seeding import analyze

BENCHES = ("seed", "summary", "intake")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--customers", type=int, default=None, help="customers to seed (default 100,000; 10,000 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smaller database and fewer iterations (about 3 minutes)")
    parser.add_argument("--bench", default=",".join(BENCHES), help="comma-separated subset of: seed, summary, intake")
    parser.add_argument("--requests", type=int, default=None, help="measured handoffs per server (default 3,000; 1,000 with --quick)")
    parser.add_argument("--iterations", type=int, default=None, help="summaries per measurement (default 200; 100 with --quick)")
    args = parser.parse_args(argv)
    args.customers = args.customers if args.customers is not None else (10_000 if args.quick else 100_000)
    args.requests = args.requests or (1_000 if args.quick else 3_000)
    args.iterations = args.iterations or (100 if args.quick else 200)
    args.benches = [b.strip() for b in args.bench.split(",") if b.strip()]
    unknown = set(args.benches) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    return args


async def _one_database(kind: str, args: argparse.Namespace) -> dict:
    figures: dict = {}
    async with temp_database(kind) as url:
        print(banner(f"{kind}: seeding {args.customers:,} customers"), flush=True)
        await db.connect(url, migrate=True)
        try:
            report = await seed(args.customers, now=utc_now(), rng=random.Random(7), featured=True)
            print("\n".join(report.lines()), flush=True)
            figures["seed"] = report
            settle = time.perf_counter()
            await analyze(vacuum=True)
            print(f"(vacuum/analyze after seeding: {time.perf_counter() - settle:.1f} s)", flush=True)
            if "summary" in args.benches:
                print(banner(f"{kind}: summary of a customer with 10 vs 10,000 timeline entries"), flush=True)
                result = await bench_summary.run(now=utc_now(), iterations=args.iterations)
                print(bench_summary.report(result, database=kind), flush=True)
                figures["summary"] = result
            if "intake" in args.benches:
                print(banner(f"{kind}: POST /handoff, {args.requests:,} signed requests, concurrency {bench_intake.CONCURRENCY}"), flush=True)
                result = await bench_intake.run(requests=args.requests)
                print(bench_intake.report(result, database=kind), flush=True)
                figures["intake"] = result
        finally:
            await db.disconnect()
    return figures


def _summary_lines(all_figures: dict[str, dict]) -> str:
    rows = []
    for kind, figures in all_figures.items():
        seeded = figures.get("seed")
        summary = figures.get("summary")
        intake = figures.get("intake")
        rows.append((
            kind,
            f"{seeded.customers:,} in {seeded.seconds:.0f} s" if seeded else "-",
            f"{summary.row('Baton summary_for_customer', 10).queries}/{summary.row('Baton summary_for_customer', 10_000).queries}" if summary else "-",
            f"{summary.row('Baton summary_for_customer', 10_000).latency.p99_ms:.2f}" if summary else "-",
            f"{summary.row('baseline: load all + Python', 10_000).latency.p99_ms:.1f}" if summary else "-",
            f"{intake.baton.per_second:,.0f} / {intake.baseline.per_second:,.0f}" if intake else "-",
            f"{intake.ratio:.0%}" if intake else "-",
        ))
    return table(
        ("database", "seeded", "summary queries 10/10k", "summary p99 ms @10k", "baseline p99 ms @10k",
         "handoffs/s Baton/baseline", "ratio"),
        rows,
    )


async def _main(args: argparse.Namespace) -> int:
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    print(f"Baton benchmarks on Python {platform.python_version()}, {platform.machine()}, "
          f"{'quick' if args.quick else 'full'} run", flush=True)
    started = time.perf_counter()
    all_figures = {}
    for kind in kinds:
        all_figures[kind] = await _one_database(kind, args)
    print(banner("summary"))
    print(_summary_lines(all_figures))
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv if argv is not None else sys.argv[1:])
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="tortoise")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    raise SystemExit(main())

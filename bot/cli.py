"""The `baton` command: serve, demo, seed, migrate, import, audit, teams-package, config check (SPEC §1)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Sequence

from bot.settings import ConfigError, Settings, load_settings

log = logging.getLogger("baton")


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Library debug output can carry message text and tokens; keep it out of the info stream.
    for noisy in ("tortoise", "aiosqlite", "asyncpg", "slack_sdk", "slack_bolt", "botbuilder", "msrest", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def freeze_startup_heap(app=None) -> None:
    """Once the app has started, what exists (modules, settings, the app) lives as long as the process: kept
    out of the garbage collector's full passes (`gc.freeze`), which otherwise walk all of it each time enough
    new objects have survived: a pause of every request and open event stream (about 150 ms on a loaded
    2-core machine; the longest stall of an agent's reply with 1,000 web chat streams open)."""
    import gc

    from bot import visitor

    visitor.warm_up()  # its tables then live as long as the process too
    gc.collect()
    gc.freeze()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from aiohttp import web

    from bot.web.app import create_app

    app = create_app(settings)
    app.on_startup.append(freeze_startup_heap)  # after the app's own start-up (database, worker, hub)
    log.info("Baton listening on http://%s:%s", settings.host, settings.port)
    if settings.webchat_enabled:
        base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
        log.info("Web chat: %s/chat (embed: <script src=\"%s/chat/widget.js\" async></script>)", base, base)
    else:
        log.info("Web chat is off ([webchat] enabled = false)")
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from storage import db

    asyncio.run(db.apply_migrations(settings.database_url))
    log.info("migrations applied")
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from bot.seed import run_seed

    columns = (TextColumn("seeding customers"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task("seed", total=args.customers)
        report = asyncio.run(run_seed(settings.database_url, args.customers, seed=args.random_seed,
                                      progress=lambda done, total: bar.update(task, completed=done)))
    print("\n".join(report.lines()))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(settings, output_dir=args.output))


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from bot.clock import utc_now
    from bot.imports import ImportFileError, check_readable, import_files
    from storage import db

    paths = [Path(p) for p in args.files]
    try:
        for path in paths:  # unreadable files are refused before the database is touched
            check_readable(path)
    except ImportFileError as error:
        print(f"baton import: {error}", file=sys.stderr)
        return 2

    async def run() -> int:
        await db.connect(settings.database_url, migrate=not args.dry_run)
        try:
            reports = await import_files(paths, now=utc_now(), kind=args.kind, source=args.source.strip().lower(),
                                         dry_run=args.dry_run)
        finally:
            await db.disconnect()
        for report in reports:
            print("\n".join(report.lines(dry_run=args.dry_run)))
        return 1 if any(r.skipped for r in reports) else 0

    try:
        return asyncio.run(run())
    except ImportFileError as error:
        print(f"baton import: {error}", file=sys.stderr)
        return 2


def cmd_teams_package(args: argparse.Namespace, settings: Settings) -> int:
    from bot.teams.package import build_package

    path = build_package(settings, output=args.output)
    print(f"Teams app package written to {path}")
    return 0


def cmd_config_check(args: argparse.Namespace, settings: Settings) -> int:
    """Reaching here means the configuration is valid (main stops on a bad one)."""
    from bot.config_check import render

    sys.stdout.write(render(settings))
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """The audit as JSON, CSV or lines on stdout, newest first (SPEC 5 Roles)."""
    import getpass

    from bot.clock import utc_now
    from bot.core import audit_log
    from bot.domain import Actor
    from bot.errors import UserError
    from storage import db

    async def run() -> int:
        await db.connect(settings.database_url)
        try:
            now = utc_now()
            since = audit_log.parse_since(args.since, now) if args.since else None
            operator = Actor(platform="cli", user_id=getpass.getuser(), display_name=None, role="admin")
            entries = await audit_log.read_for_operator(operator, args.customer, since, now)
        finally:
            await db.disconnect()
        sys.stdout.write(audit_log.render(entries, args.format))
        return 0

    try:
        return asyncio.run(run())
    except UserError as error:
        print(f"baton audit: {error.text}", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="baton", description=__doc__)
    root.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = root.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="run every HTTP endpoint, the scheduler and Socket Mode").set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="fill the database with generated customers")
    seed.add_argument("--customers", type=int, default=1000)
    seed.add_argument("--random-seed", type=int, default=7)
    seed.set_defaults(func=cmd_seed)

    demo = sub.add_parser("demo", help="sample data, a real handoff, the card in the terminal")
    demo.add_argument("--output", default="baton-demo", help="folder for the Block Kit and Adaptive Card JSON")
    demo.set_defaults(func=cmd_demo)

    imports = sub.add_parser("import", help="import customers, cases and orders from CSV exports of another CRM")
    imports.add_argument("files", nargs="+", help="CSV files; customers are imported first, then cases, then orders")
    imports.add_argument("--kind", choices=("customers", "cases", "orders"),
                         help="what every file holds (default: told by its name, then by its columns)")
    imports.add_argument("--source", default="crm",
                         help="the identity kind of the files' customer ids, e.g. crm, salesforce (default: crm)")
    imports.add_argument("--dry-run", action="store_true", help="read and check the files, change nothing")
    imports.set_defaults(func=cmd_import)
    audit = sub.add_parser("audit", help="who viewed, looked up, exported, merged, edited, locked or anonymized customers")
    audit.add_argument("--customer", help="one customer: number, email, phone, case number or name")
    audit.add_argument("--since", help="from a date (2026-11-01), a date and time, or 7d / 12h / 2w ago")
    audit.add_argument("--format", choices=("text", "json", "csv"), default="text")
    audit.set_defaults(func=cmd_audit)
    package = sub.add_parser("teams-package", help="build the Teams app package zip")
    package.add_argument("--output", default="baton-teams.zip")
    package.set_defaults(func=cmd_teams_package)

    configuration = sub.add_parser("config", help="check the configuration (environment and baton.toml)")
    config_sub = configuration.add_subparsers(dest="config_command", required=True)
    config_sub.add_parser("check", help="validate, then print the effective settings with secrets hidden"
                          ).set_defaults(func=cmd_config_check)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        settings = load_settings()
    except ConfigError as error:  # one line naming the file and key: no traceback (SPEC §1)
        print(error, file=sys.stderr)
        return 2
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())

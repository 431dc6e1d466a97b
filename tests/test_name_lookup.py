"""`/baton lookup <name>` (SPEC 4.2): the start of the name or of the surname, whatever the case and the
accents, through an index (`customer.name_key`, `customer.surname_key`, migration 0018), kept current by
every writer of a customer's name: create, edit, import, anonymize, seed, and the migration's backfill."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timezone

from bot.commands.builtin import registry
from bot.core import actions
from bot.core.services import Services
from bot.domain import Actor, CommandRequest
from bot.identity import fold_name, name_keys
from bot.imports import import_files
from bot.seed import seed
from bot.settings import Settings
from storage import db
from storage.customer_admin import search_by_name
from storage.customers import create_customer
from storage.models import Customer
from storage.seeding import naive_summary_record, secondary_index_names, table_counts
from storage.summary import load_summary
from tests.test_import import DATA

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
ADMIN = Actor("slack", "U_ADMIN", "Sam Admin", role="admin")


def _services() -> Services:
    return Services(settings=Settings(), clock=lambda: NOW, targets=[])


async def _lookup(text: str):
    return await registry.dispatch(_services(), CommandRequest(actor=ADMIN, text=f"lookup {text}", platform="slack",
                                                               channel_id="C1"))


async def _found(text: str) -> list[str]:
    return [c.display_name for c in await search_by_name(text)]


async def _customer(name: str, email: str) -> int:
    return await create_customer(display_name=name, identities=[("email", email)], now=NOW)


def test_a_name_is_folded_to_lower_case_without_accents_or_apostrophes():
    assert fold_name("  Zoë   O'Brien-Núñez ") == "zoe obrien nunez"
    assert fold_name("Ångström, STRASSE Straße") == "angstrom strasse strasse"
    assert name_keys("Mary Ann Smith") == ("mary ann smith", "smith mary ann")
    assert name_keys("Cher") == ("cher", None)


async def test_a_lookup_finds_a_name_whatever_its_case_and_accents(database):
    zoe = await _customer("Zoë Ångström", "zoe@example.com")

    for query in ("zoe", "ZOË", "Zoe ang", "ångström", "ANGSTROM", "Ångström, Zoë"):
        reply = await _lookup(query)
        assert reply.summary is not None and reply.summary.profile.customer_id == zoe, query


async def test_a_lookup_matches_the_start_of_the_name_or_of_the_surname(database):
    await _customer("Dana Whitfield", "dana@example.com")
    await _customer("Dana W", "dw@example.com")
    await _customer("Mary Ann Smith", "mary@example.com")
    await _customer("Dan O'Neil", "dan@example.com")

    assert await _found("dana") == ["Dana W", "Dana Whitfield"]
    assert await _found("dan") == ["Dan O'Neil", "Dana W", "Dana Whitfield"]
    assert await _found("whit") == ["Dana Whitfield"]
    assert await _found("smith mary") == ["Mary Ann Smith"]
    assert await _found("o'neil") == await _found("oneil") == ["Dan O'Neil"]
    assert await _found("itfield") == []  # the start of a word, not any part of it
    assert await _found("ann") == []  # a middle name is neither the start of the name nor the surname
    reply = await _lookup("dana")
    assert reply.summary is None and len(reply.candidates) == 2


async def test_a_lookup_lists_at_most_25_namesakes(database):
    for n in range(30):
        await _customer("Alex Kim", f"alex{n}@example.com")

    assert len(await search_by_name("alex kim")) == 25


async def test_editing_the_name_moves_the_customer_to_its_new_name(database):
    dana = await _customer("Dana Whitfield", "dana@example.com")

    await actions.save_profile(_services(), ADMIN, dana, {"first_name": "Danièle", "last_name": "Weiß"})

    assert await _found("dana") == []
    assert await _found("daniele weiss") == await _found("weiss") == ["Danièle Weiß"]
    assert (await Customer.get(id=dana)).name_key == "daniele weiss"


async def test_a_merged_customer_is_found_as_its_survivor_until_the_merge_is_undone(database):
    survivor = await _customer("Dana Whitfield", "dana@example.com")
    merged = await _customer("Dana W", "dw@example.com")

    await actions.merge_customers(_services(), ADMIN, survivor, merged)
    assert await _found("dana") == ["Dana Whitfield"]

    await actions.undo_merge(_services(), ADMIN, merged)
    assert await _found("dana") == ["Dana W", "Dana Whitfield"]


async def test_an_anonymized_customer_is_not_found_by_the_old_name(database):
    dana = await _customer("Dana Whitfield", "dana@example.com")

    await actions.anonymize(_services(), ADMIN, dana)

    assert await _found("dana") == [] and await _found("whitfield") == []
    assert await _found("anonymized customer") == [f"Anonymized customer {dana}"]


async def test_an_import_that_renames_a_customer_keys_the_new_name(database):
    existing = await _customer("Zoe A", "zoe.a@example.com")

    await import_files([DATA / "contacts.csv"], now=NOW)

    assert [c.customer_id for c in await search_by_name("angstrom")] == [existing]
    assert "Omar Haddad" in await _found("haddad")  # created by the import


async def test_seeded_customers_are_keyed_and_carry_the_totals_of_their_rows(database):
    report = await seed(40, now=NOW, rng=random.Random(11))

    customers = await Customer.filter(id__in=list(report.customer_ids))
    assert len(customers) == 40
    assert all((c.name_key, c.surname_key) == name_keys(c.display_name) for c in customers)
    assert report.featured_customer_id in [c.customer_id for c in await search_by_name("whitfield")]
    for c in customers:  # written with the row, not by an UPDATE after it
        assert (await load_summary(customer_id=c.id)).orders == (await naive_summary_record(c.id)).orders


async def test_a_seed_that_sets_the_indexes_aside_writes_the_same_rows_and_builds_them_again(database):
    indexes = await secondary_index_names()

    aside = await seed(30, now=NOW, rng=random.Random(5), set_indexes_aside=True)
    counts = await table_counts()
    kept = await seed(30, now=NOW, rng=random.Random(5), set_indexes_aside=False, featured=False)

    assert aside.indexes_rebuilt == len(indexes) > 10 and kept.indexes_rebuilt == 0
    assert await secondary_index_names() == indexes
    assert counts["customer"] == 31 and counts["identity"] == aside.identities and counts["message"] == aside.messages
    assert (await table_counts())["customer"] == 61
    assert sum(counts.values()) == aside.rows


async def test_upgrading_a_database_with_customers_keys_their_names(empty_database_url):
    await db.apply_migrations(empty_database_url, target="baton.0017_customer_page")
    await _write_0017_customers(empty_database_url, ["Zoë Ångström", "Dana Whitfield", "Cher"])

    await db.connect(empty_database_url, migrate=True)
    try:
        keys = await Customer.all().order_by("id").values_list("name_key", "surname_key")
        assert keys == [("zoe angstrom", "angstrom zoe"), ("dana whitfield", "whitfield dana"), ("cher", None)]
        assert await _found("angstrom") == ["Zoë Ångström"]
        assert await _found("CHER") == ["Cher"]
    finally:
        await db.disconnect()


async def _write_0017_customers(url: str, names: list[str]) -> None:
    """Customers written the way a database at migration 0017 held them (no name keys yet)."""
    rows = [(n + 1, name, "[]", False, datetime(2024, 1, 1, tzinfo=timezone.utc)) for n, name in enumerate(names)]
    sql = "INSERT INTO customer (id, display_name, tags, locked, created_at, updated_at) VALUES ({})"
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            conn.executemany(sql.format("?, ?, ?, ?, ?, ?"), [(*r[:4], "2024-01-01 00:00:00+00:00",
                                                             "2024-01-01 00:00:00+00:00") for r in rows])
        return
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.executemany(sql.format("$1, $2, $3, $4, $5, $6"), [(*r, r[4]) for r in rows])
        await conn.execute("SELECT setval(pg_get_serial_sequence('customer', 'id'), 3)")
    finally:
        await conn.close()

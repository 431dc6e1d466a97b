"""`baton seed`: realistic generated data, the featured demo customer, and deliberate shared identities."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import phonenumbers

from bot import sample_data
from bot.core.summary import summary_for_customer
from bot.identity import normalize_email, normalize_phone
from bot.seed import add_customer, add_history, run_seed, seed
from storage import db
from storage.customers import create_customer, find_by_identities
from storage.seeding import identity_values, shared_identities, table_counts

ROOT = Path(__file__).resolve().parent.parent

NOW = datetime(2026, 11, 22, 10, 5, tzinfo=timezone.utc)
CUSTOMERS = 260  # enough for two deliberately shared identities (every 250th customer shares one)


async def _seed(customers: int = CUSTOMERS, *, featured: bool = True, rng_seed: int = 7):
    return await seed(customers, now=NOW, rng=random.Random(rng_seed), featured=featured)


async def test_seeding_creates_the_featured_customer(database):
    report = await _seed()

    assert await find_by_identities([("email", sample_data.FEATURED_EMAIL)]) == [report.featured_customer_id]
    assert await find_by_identities([("phone", sample_data.FEATURED_PHONE)]) == [report.featured_customer_id]
    assert await find_by_identities([("crm", sample_data.FEATURED_CRM)]) == [report.featured_customer_id]
    summary = await summary_for_customer(report.featured_customer_id, now=NOW, topic_phrases=("damaged",))
    assert summary.profile.display_name == sample_data.FEATURED_NAME
    assert (summary.profile.company, summary.profile.city) == (sample_data.FEATURED_COMPANY, sample_data.FEATURED_CITY)


async def test_the_featured_customer_has_the_active_damaged_parcel_case(database):
    report = await _seed()

    summary = await summary_for_customer(report.featured_customer_id, now=NOW)

    newest = summary.recent_cases[0]
    assert newest.number == sample_data.FEATURED_CASE == "CAS-01234"
    assert (newest.title, newest.priority, newest.status, newest.product) == (
        "Parcel arrived damaged", "High", "active", "Ceramic Vase Set",
    )
    assert [case.number for case in summary.recent_cases] == list(reversed(sample_data.FEATURED_CASES))


async def test_the_featured_customer_has_a_rich_history(database):
    report = await _seed()

    summary = await summary_for_customer(report.featured_customer_id, now=NOW, topic_phrases=("damaged", "refund"))

    assert summary.engagement.lifetime_values == (("USD", sample_data.FEATURED_LIFETIME_VALUE),)
    assert summary.engagement.order_count == len(sample_data.FEATURED_ORDER_TOTALS)
    assert summary.engagement.last_order_number == sample_data.FEATURED_ORDER
    assert summary.engagement.csat == round(sum(sample_data.FEATURED_CSAT_SCORES) / len(sample_data.FEATURED_CSAT_SCORES), 2)
    damaged = summary.sentiment.topics[0]
    assert summary.sentiment.interactions == sample_data.FEATURED_PRIOR_CONVERSATIONS == 6
    assert (damaged.phrase, damaged.mentions, damaged.percent) == ("damaged", 3, 50)
    assert {entry.kind for entry in summary.timeline} >= {"case", "comment", "note", "conversation"}


async def test_the_report_counts_what_was_written(database):
    report = await _seed()

    counts = await table_counts()

    assert counts == {
        "customer": report.customers,
        "case": report.cases,
        "conversation": report.conversations,
        "identity": report.identities,
        "case_comment": report.case_comments,
        "note": report.notes,
        "message": report.messages,
        "order": report.orders,
        "survey": report.surveys,
        "activity": report.activities,
    }
    assert report.customers == CUSTOMERS + 1  # and Dana
    assert report.activities > report.customers  # every customer has some history on average
    assert len(report.customer_ids) == CUSTOMERS


async def test_a_few_identities_are_shared_by_two_customers(database):
    report = await _seed()

    shared = await shared_identities()

    assert len(shared) == report.shared_identities == 2
    assert {kind for kind, _, _ in shared} == {"phone", "email"}
    for kind, value, owners in shared:
        assert owners == 2
        assert len(await find_by_identities([(kind, value)])) == 2  # a multi-match card


async def test_phone_identities_are_e164_and_emails_lower_case(database):
    await _seed()

    phones = await identity_values("phone")
    emails = await identity_values("email")

    for phone in phones:
        parsed = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(parsed), phone
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == phone
        assert normalize_phone(phone) == phone  # what intake will look up
    assert emails and all(email == email.lower() and normalize_email(email) == email for email in emails)


async def test_every_case_number_is_unique_and_well_formed(database):
    report = await _seed()

    summary_numbers = set()
    for customer_id in report.customer_ids[:40]:
        summary = await summary_for_customer(customer_id, now=NOW)
        summary_numbers.update(case.number for case in summary.recent_cases)

    assert all(number.startswith("CAS-0") and number[4:].isdigit() for number in summary_numbers)


async def test_seeding_twice_adds_customers_but_not_a_second_featured_customer(database):
    first = await _seed(30)
    second = await _seed(30)

    assert first.featured_customer_id is not None and second.featured_customer_id is None
    assert await find_by_identities([("email", sample_data.FEATURED_EMAIL)]) == [first.featured_customer_id]
    assert (await table_counts())["customer"] == 61
    # The same random stream again, yet no identity is shared by chance.
    assert len(await shared_identities()) == first.shared_identities + second.shared_identities


async def test_add_history_gives_a_customer_exactly_that_many_timeline_entries(database):
    customer_id = await add_customer(now=NOW, rng=random.Random(3))
    before = (await table_counts())["activity"]

    report = await add_history(customer_id, 250, now=NOW, rng=random.Random(3))

    assert report.activities == 250
    assert (await table_counts())["activity"] - before == 250
    assert report.orders and report.conversations and report.cases and report.case_comments


async def test_run_seed_connects_migrates_seeds_and_disconnects(database_url):
    report = await run_seed(database_url, 12, seed=11)

    assert report.customers == 13
    await db.connect(database_url, migrate=False)
    try:
        assert (await table_counts())["customer"] == 13
        # Ids handed out by the seeder do not collide with ids the database assigns afterwards.
        created = await create_customer(display_name="Ada Lovelace", identities=[("email", "ada@example.org")], now=NOW)
        assert created > max(report.customer_ids)
    finally:
        await db.disconnect()


def test_baton_seed_shows_progress_then_the_time_and_the_database_size(database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env.update(BATON_DATABASE_URL=database_url, COLUMNS="100")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "seed", "--customers", "200"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert "seeding customers" in done.stdout and "200/200" in done.stdout  # the rich progress bar
    assert re.search(r"rows in \d+\.\d s", done.stdout)
    size = re.search(r"database size\s+([\d,.]+) MB", done.stdout)
    assert size and float(size.group(1).replace(",", "")) > 0

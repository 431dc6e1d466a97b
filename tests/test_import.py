"""`baton import`: CRM exports become customers, cases and orders the summary card shows (SPEC §1)."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.summary import summary_for_customer
from bot.imports import import_files
from storage.customers import create_customer, find_by_identities
from storage.models import Customer
from storage.seeding import table_counts

DATA = Path(__file__).parent / "data" / "import"
FILES = [DATA / "orders.csv", DATA / "cases.csv", DATA / "contacts.csv"]  # any order: customers go first
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


async def _import(files=FILES, **options):
    return {r.kind: r for r in await import_files(list(files), now=NOW, **options)}


async def _customer(crm_id: str) -> int:
    [customer_id] = await find_by_identities([("crm", crm_id)])
    return customer_id


async def test_a_dynamics_and_salesforce_export_fills_the_summary_card(database):
    reports = await _import()

    zoe = await _customer("C-7001")
    summary = await summary_for_customer(zoe, now=NOW)
    assert summary.profile.display_name == "Zoë Ångström"
    assert (summary.profile.company, summary.profile.city, summary.profile.job_title) == ("Fjord AB", "Malmö", "Buyer")
    assert summary.profile.email == "zoe.a@example.com" and summary.profile.mobile_phone == "+14155550199"
    assert [case.number for case in summary.recent_cases] == ["00001026"]
    assert summary.recent_cases[0].priority == "High"
    assert summary.engagement.order_count == 2 and summary.engagement.lifetime_value == Decimal("1300.00")
    assert summary.engagement.last_order_number == "SO-5002"
    assert {entry.title for entry in summary.timeline} >= {"Order SO-5001 placed", "Case 00001026 opened"}
    assert await find_by_identities([("email", "zoe.a@example.com")]) == [zoe]
    assert (reports["customers"].created, reports["cases"].created, reports["orders"].created) == (3, 3, 3)


async def test_a_case_can_name_its_customer_by_email(database):
    await _import()

    omar = await _customer("C-7002")
    summary = await summary_for_customer(omar, now=NOW)

    assert [c.number for c in summary.recent_cases] == ["00001027"]
    assert summary.recent_cases[0].status == "resolved"
    assert summary.profile.home_phone == "+442079460958"


async def test_bad_rows_are_reported_by_line_and_the_good_ones_still_go_in(database):
    reports = await _import()

    def said(kind: str) -> dict[int, str]:
        lines: dict[int, str] = {}
        for problem in reports[kind].skipped + reports[kind].notes:
            lines[problem.line] = lines.get(problem.line, "") + problem.text + " | "
        return lines

    assert "not an email address" in said("customers")[4] and "not a phone number" in said("customers")[4]
    assert "no id, email or phone" in said("customers")[5]
    assert "C-9999" in said("cases")[4] and "no case number" in said("cases")[5]
    assert "15/03/2025" in said("cases")[6] and "ISO 8601" in said("cases")[6]
    assert "“abc” is not an amount" in said("orders")[5] and "C-4040" in said("orders")[6]
    assert [len(reports[k].skipped) for k in ("customers", "cases", "orders")] == [1, 2, 2]
    assert await Customer.filter(display_name="Bad Mail", email__isnull=True).exists()


async def test_importing_the_same_files_again_changes_nothing(database):
    await _import()
    counts = await table_counts()

    again = await _import()

    assert await table_counts() == counts
    assert [again[k].created + again[k].updated for k in ("customers", "cases", "orders")] == [0, 0, 0]
    assert again["customers"].unchanged == 3


async def test_a_customer_already_in_baton_is_matched_by_email_and_learns_the_crm_id(database):
    existing = await create_customer(display_name="Zoe A", identities=[("email", "zoe.a@example.com")], now=NOW)

    reports = await _import([DATA / "contacts.csv"])

    assert await _customer("C-7001") == existing
    assert (await Customer.get(id=existing)).display_name == "Zoë Ångström"  # the CRM is the source of truth
    assert reports["customers"].updated == 1 and reports["customers"].created == 2


async def test_ambiguous_locked_or_anonymized_customers_are_left_alone_and_said_so(database):
    one = await create_customer(display_name="Z1", identities=[("email", "zoe.a@example.com")], now=NOW)
    two = await create_customer(display_name="Z2", identities=[("phone", "+14155550199")], now=NOW)
    omar = await create_customer(display_name="Omar", identities=[("email", "omar@example.com")], now=NOW)
    await Customer.filter(id=omar).update(locked=True)

    reports = await _import([DATA / "contacts.csv"])

    skipped = {p.line: p.text for p in reports["customers"].skipped}
    assert f"matches customers {one}, {two}" in skipped[2]
    assert f"customer {omar} is locked" in skipped[3]
    assert (await Customer.get(id=omar)).display_name == "Omar"


async def test_a_dry_run_reads_and_reports_but_writes_nothing(database):
    counts = await table_counts()

    reports = await _import(dry_run=True)

    assert await table_counts() == counts
    assert reports["customers"].rows == 4 and len(reports["orders"].skipped) == 1  # the bad total only


def test_the_cli_imports_prints_a_report_and_exits_1_when_rows_were_skipped(database_url, tmp_path, capsys, monkeypatch):
    for f in FILES:
        shutil.copy(f, tmp_path / f.name)
    monkeypatch.setitem(os.environ, "BATON_DATABASE_URL", database_url)

    code = main(["import", *(str(tmp_path / f.name) for f in FILES)])

    out = capsys.readouterr().out
    assert code == 1
    assert "contacts.csv (customers: contactid → external_id" in out
    assert "4 rows: 3 created, 0 updated, 0 unchanged, 1 skipped" in out
    assert "line 5: total “abc” is not an amount (row skipped)" in out


@pytest.mark.parametrize("content,expected", [
    (None, "No such file"),
    (b"", "no header line"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"colour,size\nred,XL\n", "pass --kind"),
])
def test_a_file_that_cannot_be_imported_exits_2_with_the_reason(tmp_path, capsys, monkeypatch, content, expected):
    path = tmp_path / "export.csv"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setitem(os.environ, "BATON_DATABASE_URL", f"sqlite://{tmp_path / 'b.sqlite3'}")

    code = main(["import", str(path)])

    assert code == 2 and expected in capsys.readouterr().err


async def test_a_case_baton_opens_later_never_collides_with_an_imported_number(database, tmp_path):
    from storage import cases

    path = tmp_path / "cases.csv"
    path.write_text("CaseNumber,Subject\nCAS-00002,Imported from the old CRM\n", encoding="utf-8")
    await _import([path])  # the import's case is row 1 and holds the number Baton would give row 2

    opened = await cases.open_case(title="New in Baton", customer_id=None, owner="Ana", now=NOW)

    assert opened.number == "CAS-00002-B"
    assert (await cases.find_case("CAS-00002")).title == "Imported from the old CRM"

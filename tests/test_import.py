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
    assert summary.engagement.order_count == 2 and summary.engagement.lifetime_values == (("EUR", Decimal("1300.00")),)
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
    assert "no id, email or mobile phone" in said("customers")[5]
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


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_values_a_database_would_refuse_are_cut_or_reported_and_never_stop_the_file(database, tmp_path):
    contacts = _csv(tmp_path, "contacts.csv", f"contactid,fullname,jobtitle\nC-1,{'N' * 300},Buyer\nC-2,Nul\x00l Byte,x\n")
    orders = _csv(tmp_path, "orders.csv", "OrderNumber,CustomerId,TotalAmount,OrderDate\n"
                  "SO-1,C-1,12345678901,2025-01-01\nSO-2,C-1,1e40,2025-01-01\nSO-3,C-1,5.00,0001-01-01T00:00:00+01:00\n"
                  "SO-4,C-1,5.00,2025-01-01\n")

    reports = await _import([contacts, orders])

    assert reports["customers"].created == 2 and reports["orders"].created == 1
    assert [p.line for p in reports["orders"].skipped] == [2, 3, 4]
    assert any("display_name cut to 200" in p.text for p in reports["customers"].notes)
    assert await Customer.filter(display_name="Null Byte").exists()


async def test_colleagues_sharing_an_office_phone_or_an_inbox_stay_separate_customers(database, tmp_path):
    contacts = _csv(tmp_path, "contacts.csv", "contactid,fullname,emailaddress1,telephone1\n"
                    "C-1,Ann One,ann@example.com,+1 415 555 0100\nC-2,Bob Two,bob@example.com,+1 415 555 0100\n"
                    "C-3,Cat Three,ann@example.com,\n")

    reports = await _import([contacts])
    again = await _import([contacts])

    assert reports["customers"].created == 2
    assert "another crm id" in reports["customers"].skipped[0].text and reports["customers"].skipped[0].line == 4
    assert await _customer("C-1") != await _customer("C-2")
    assert (again["customers"].updated, again["customers"].unchanged) == (0, 2)


async def test_a_hubspot_export_is_keyed_on_the_record_id_not_the_account(database, tmp_path):
    contacts = _csv(tmp_path, "contacts.csv", "Record ID,Account ID,First Name,Last Name,Email\n"
                    "101,A-1,Ann,One,ann@example.com\n102,A-1,Bob,Two,bob@example.com\n")

    await _import([contacts])

    assert await _customer("101") != await _customer("102")


@pytest.mark.parametrize("written,amount", [("65,50", "65.50"), ("1.234,50", "1234.50"), ("1,234.50", "1234.50"),
                                            ("1 234,5", "1234.50"), ("€ 19.99", "19.99"), ("1,234", "1234.00")])
async def test_amounts_with_decimal_commas_or_thousands_separators_are_read_right(database, tmp_path, written, amount):
    await create_customer(display_name="Ann", identities=[("crm", "C-1")], now=NOW)
    orders = _csv(tmp_path, "orders.csv", f"OrderNumber;CustomerId;TotalAmount;OrderDate\nSO-1;C-1;{written};2025-01-01\n")

    await _import([orders])

    assert (await summary_for_customer(await _customer("C-1"), now=NOW)).engagement.lifetime_values == (("USD", Decimal(amount)),)


async def test_the_columns_tell_the_kind_before_the_file_name(database, tmp_path):
    await create_customer(display_name="Ann", identities=[("crm", "C-1")], now=NOW)
    orders = _csv(tmp_path, "customer_orders.csv", "OrderNumber,CustomerId,TotalAmount,OrderDate\nSO-1,C-1,5,2025-01-01\n")

    reports = await _import([orders])

    assert list(reports) == ["orders"] and reports["orders"].created == 1
    assert (await Customer.get(id=await _customer("C-1"))).display_name == "Ann"


async def test_an_order_finds_its_customer_by_this_crms_id_or_an_email_never_another_systems_id(database, tmp_path):
    other = await create_customer(display_name="Zendesk person", identities=[("zendesk", "1001")], now=NOW)
    ann = await create_customer(display_name="Ann", identities=[("email", "ann@example.com")], now=NOW)
    orders = _csv(tmp_path, "orders.csv", "OrderNumber,CustomerId,TotalAmount,OrderDate\n"
                  "SO-1,1001,5,2025-01-01\nSO-2,Ann@Example.com,7,2025-01-01\n")

    reports = await _import([orders])

    assert [p.line for p in reports["orders"].skipped] == [2]
    assert (await summary_for_customer(other, now=NOW)).engagement is None
    assert (await summary_for_customer(ann, now=NOW)).engagement.order_count == 1


async def test_a_row_with_more_fields_than_the_header_is_skipped_not_shifted(database, tmp_path):
    contacts = _csv(tmp_path, "contacts.csv", "contactid,fullname,company\nC-1,Haddad, Omar,Acme\nC-2,Ann One,Acme\n")

    reports = await _import([contacts])

    assert [p.line for p in reports["customers"].skipped] == [2] and reports["customers"].created == 1


async def test_an_imported_case_never_takes_over_another_customers_case(database, tmp_path):
    from storage import cases

    dana = await create_customer(display_name="Dana", identities=[("email", "dana@example.com")], now=NOW)
    own = await cases.open_case(title="Baton's own case", customer_id=dana, owner="Ana", now=NOW)
    await create_customer(display_name="Ann", identities=[("crm", "C-1")], now=NOW)
    rows = _csv(tmp_path, "cases.csv", f"CaseNumber,Subject,ContactId\n{own.number},Imported,C-1\n")

    reports = await _import([rows])

    assert "belongs to customer" in reports["cases"].skipped[0].text
    assert (await cases.find_case(own.number)).title == "Baton's own case"


async def test_a_case_linked_to_its_customer_on_a_later_run_joins_the_timeline(database, tmp_path):
    rows = _csv(tmp_path, "cases.csv", "CaseNumber,Subject,ContactId,CreatedDate\nT-1,Broken lid,C-1,2025-05-01\n")
    await _import([rows])  # the customer is not known yet: imported without one
    await _import([_csv(tmp_path, "contacts.csv", "contactid,fullname\nC-1,Ann One\n")])

    await _import([rows])

    summary = await summary_for_customer(await _customer("C-1"), now=NOW)
    assert [c.number for c in summary.recent_cases] == ["T-1"]
    assert "Case T-1 opened" in {entry.title for entry in summary.timeline}


async def test_a_file_unreadable_halfway_keeps_the_rows_before_and_says_where_it_stopped(database, tmp_path):
    contacts = _csv(tmp_path, "contacts.csv", "contactid,fullname\nC-1,Ann One\nC-2," + "x" * 200_000 + "\nC-3,Cat\n")

    reports = await _import([contacts], batch_rows=1)

    assert reports["customers"].created == 1
    assert "the rest of the file was not read" in reports["customers"].skipped[-1].text


async def test_a_file_of_many_bad_rows_counts_them_all_but_keeps_only_the_first_thousand(database, tmp_path):
    rows = "".join(f"SO-{i},C-1,not money,2025-01-01\n" for i in range(1500))
    orders = _csv(tmp_path, "orders.csv", "OrderNumber,CustomerId,TotalAmount,OrderDate\n" + rows)

    [report] = await import_files([orders], now=NOW, dry_run=True)

    assert report.skipped_rows == 1500 and len(report.skipped) == 1000
    assert "1,500 rows read, 0 would be imported, 1,500 skipped" in report.lines(dry_run=True)[1]
    assert report.lines(dry_run=True)[-1] == "  … and 1,480 more"

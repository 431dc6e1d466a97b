"""`baton import`: customers, cases and orders from another CRM's CSV exports (SPEC §1).

Reading is streamed (one row at a time, any file size) and forgiving about the export's dialect: a
UTF-8 byte-order mark, `,` `;` or tab separators, and the column names of common CRMs (Dynamics 365,
Salesforce, HubSpot-style generic names) all work. Each row becomes a typed record or a clear problem
naming its line; a bad row never stops the good ones. `storage.imports` then writes batches of records,
each batch in one transaction, and matching makes a second run of the same file change nothing.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator, Mapping

from bot.identity import normalize_email, normalize_phone

KINDS = ("customers", "cases", "orders")

# Normalized header (lower case, letters and digits only) -> Baton field, per kind.
# Never `accountid`: an account (a company) holds many contacts, and keying on it would fold them into one.
_CUSTOMER_ID = ("contactid", "customerid", "externalid", "crmid", "recordid", "id")
_CUSTOMER_REF = ("customerid", "contactid", "customerexternalid", "customer", "contact", "crmid")
_CUSTOMER_EMAIL_REF = ("customeremail", "contactemail", "email", "emailaddress", "emailaddress1")
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "external_id": _CUSTOMER_ID,
        "display_name": ("fullname", "name", "displayname", "contactname", "customername"),
        "first_name": ("firstname", "givenname"),
        "last_name": ("lastname", "surname", "familyname"),
        "email": ("email", "emailaddress", "emailaddress1", "mail", "emailaddr"),
        "mobile_phone": ("mobilephone", "mobile", "cellphone", "cell"),
        "home_phone": ("homephone", "phone", "telephone", "telephone1", "businessphone"),
        "company": ("company", "companyname", "account", "accountname", "parentcustomerid", "organization"),
        "job_title": ("jobtitle", "title"),
        "city": ("city", "address1city", "mailingcity"),
        "relationship_type": ("relationshiptype", "customertype", "customertypecode"),
        "category": ("category", "segment"),
        "preferred_channel": ("preferredchannel", "preferredcontactmethod", "preferredcontactmethodcode"),
        "tags": ("tags",),
    },
    "cases": {
        "number": ("casenumber", "ticketnumber", "number", "ticketid"),
        "title": ("title", "subject", "casetitle"),
        "status": ("status", "statecode", "statuscode"),
        "priority": ("priority", "prioritycode"),
        "product": ("product", "productid", "productname"),
        "owner": ("owner", "ownerid", "assignedto", "ownername"),
        "opened_at": ("createdon", "createddate", "opened", "openedat", "created"),
        "customer_ref": _CUSTOMER_REF,
        "customer_email": _CUSTOMER_EMAIL_REF,
    },
    "orders": {
        "number": ("ordernumber", "number", "orderid", "ordername"),
        "total": ("total", "totalamount", "amount", "ordertotal", "grandtotal"),
        "currency": ("currency", "currencycode", "currencyisocode", "transactioncurrencyid"),
        "placed_at": ("orderdate", "placedat", "createdon", "createddate", "date", "submitdate"),
        "customer_ref": _CUSTOMER_REF,
        "customer_email": _CUSTOMER_EMAIL_REF,
    },
}
_FILE_NAMES = {"customers": ("customer", "contact", "account", "people"), "cases": ("case", "incident", "ticket"),
               "orders": ("order", "salesorder", "purchase")}
DATE_HELP = "use ISO 8601, e.g. 2024-03-05 or 2024-03-05T10:00:00Z"
EXTRA_FIELDS = "\x00extra"  # marks a row with more fields than the header (never a real header)


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, no header, unknown kind)."""


@dataclass(frozen=True)
class CustomerRecord:
    line: int
    external_id: str | None
    display_name: str
    named: bool  # False: the name is a stand-in (the email or the id), only good for a new customer
    email: str | None
    mobile: str | None  # a personal number, matched on; an office or home number is profile only
    profile: Mapping[str, object]  # first/last name, company, mobile_phone, home_phone, tags, …


@dataclass(frozen=True)
class CaseRecord:
    line: int
    number: str
    title: str
    status: str
    priority: str | None
    product: str | None
    owner: str | None
    opened_at: datetime | None
    customer_ref: str | None
    customer_email: str | None


@dataclass(frozen=True)
class OrderRecord:
    line: int
    number: str
    total: Decimal
    currency: str
    placed_at: datetime
    customer_ref: str | None
    customer_email: str | None


@dataclass(frozen=True)
class Problem:
    line: int
    text: str
    skipped: bool  # False: the row went in, without the value named


Record = CustomerRecord | CaseRecord | OrderRecord


@dataclass
class ParsedRow:
    record: Record | None
    problems: list[Problem] = field(default_factory=list)


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def detect_kind(path: Path, headers: list[str]) -> str:
    """By the columns when they tell (an order total, a case number), else by the file's name."""
    keys = {_key(h) for h in headers}
    if keys & set(COLUMNS["orders"]["total"]):
        return "orders"
    if keys & (set(COLUMNS["cases"]["number"]) - {"number"}):
        return "cases"
    stem = _key(path.stem)
    for kind, words in _FILE_NAMES.items():
        if any(word in stem for word in words):
            return kind
    if keys & set(COLUMNS["customers"]["email"] + COLUMNS["customers"]["display_name"]):
        return "customers"
    raise ImportFileError(f"{path.name}: cannot tell whether it holds customers, cases or orders; pass --kind")


def column_map(kind: str, headers: list[str]) -> dict[str, str]:
    """Baton field -> the file's header for it (the first synonym present wins)."""
    by_key = {}
    for header in headers:
        by_key.setdefault(_key(header), header)
    mapping = {}
    for name, synonyms in COLUMNS[kind].items():
        for synonym in synonyms:
            if synonym in by_key and by_key[synonym] not in mapping.values():
                mapping[name] = by_key[synonym]
                break
    return mapping


def check_readable(path: Path) -> None:
    """ImportFileError unless `path` is a CSV file with a header line (reads only its start)."""
    _, rows = open_rows(path)
    for _ in rows:  # enter the reader (its `with` owns the file), so that close() releases the file
        break
    rows.close()


def open_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and an iterator of (line number, row) over the file, streamed."""
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")
    except OSError as error:
        raise ImportFileError(f"{path}: {error.strerror or error}") from None
    try:
        sample = handle.read(64 * 1024)
    except UnicodeDecodeError:
        handle.close()
        raise ImportFileError(f"{path.name}: not UTF-8 text; export the file as CSV (UTF-8)") from None
    handle.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(handle, dialect=dialect)
    headers = [h for h in (reader.fieldnames or []) if h]
    if not headers:
        handle.close()
        raise ImportFileError(f"{path.name}: the file is empty or has no header line")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with handle:
            try:
                for row in reader:
                    if None in row:  # more fields than the header: the columns would be shifted
                        yield reader.line_num, {EXTRA_FIELDS: "1"}
                        continue
                    yield reader.line_num, {k: (v or "").replace("\x00", "").strip() for k, v in row.items()}
            except (csv.Error, UnicodeDecodeError) as error:
                raise ImportFileError(f"{path.name}, line {reader.line_num}: {error}") from None

    return headers, rows()


def _date(text: str) -> datetime:
    """ISO 8601, in UTC; ValueError for anything else (including dates too far out to store)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(text) from None
    if not 1900 <= value.year <= 9999:
        raise ValueError(text)
    return value


def _amount(text: str) -> Decimal:
    """"1,234.50", "1.234,50", "65,50" and "65.50" alike: the last `.` or `,` followed by one or two
    digits is the decimal separator, every other one groups thousands. InvalidOperation otherwise."""
    cleaned = re.sub(r"^[A-Za-z]{3}\s*|\s*[A-Za-z]{3}$", "", text.strip())  # "USD 5.00", "5,00 EUR"
    cleaned = re.sub(r"[\s\u00a0\u202f'$€£¥]", "", cleaned)  # spaces, apostrophes and symbols group or label
    if not re.fullmatch(r"-?[\d.,]+", cleaned):
        raise InvalidOperation(text)
    decimals = re.search(r"[.,](\d{1,2})$", cleaned)
    whole = cleaned[: decimals.start()] if decimals else cleaned
    whole = re.sub(r"[.,]", "", whole)
    if not re.fullmatch(r"-?\d+", whole):
        raise InvalidOperation(text)
    return Decimal(f"{whole}.{decimals.group(1)}" if decimals else whole).quantize(Decimal("0.01"))


def parse_row(kind: str, line: int, row: Mapping[str, str], columns: Mapping[str, str]) -> ParsedRow:
    if EXTRA_FIELDS in row:
        return ParsedRow(None, [Problem(line, "more fields than the header has (an unquoted separator?)", True)])
    values = {name: row.get(header, "") for name, header in columns.items()}
    if kind == "customers":
        return _customer(line, values)
    if kind == "cases":
        return _case(line, values)
    return _order(line, values)


def _customer(line: int, v: Mapping[str, str]) -> ParsedRow:
    problems: list[Problem] = []
    email = normalize_email(v.get("email")) if v.get("email") else None
    if v.get("email") and email is None:
        problems.append(Problem(line, f"“{v['email']}” is not an email address; imported without it", skipped=False))
    profile: dict[str, object] = {}
    for name in ("mobile_phone", "home_phone"):
        if raw := v.get(name):
            phone = normalize_phone(raw)
            if phone is None:
                problems.append(Problem(line, f"“{raw}” is not a phone number; imported without it", skipped=False))
            else:
                profile[name] = phone
    mobile = profile.get("mobile_phone")
    for name in ("first_name", "last_name", "company", "job_title", "city", "relationship_type", "category",
                 "preferred_channel"):
        if v.get(name):
            profile[name] = v[name]
    if v.get("tags"):
        profile["tags"] = [t.strip() for t in re.split(r"[;,]", v["tags"]) if t.strip()]
    name = v.get("display_name") or " ".join(x for x in (v.get("first_name"), v.get("last_name")) if x)
    external_id = v.get("external_id") or None
    if not (external_id or email or mobile):
        return ParsedRow(None, [*problems, Problem(line, "no id, email or mobile phone to recognise the customer by", True)])
    stand_in = email or external_id or str(mobile)
    return ParsedRow(CustomerRecord(line, external_id, name or stand_in, bool(name), email, mobile, profile), problems)


def _customer_ref(v: Mapping[str, str]) -> tuple[str | None, str | None]:
    return v.get("customer_ref") or None, normalize_email(v.get("customer_email")) if v.get("customer_email") else None


NUMBER_LENGTH = 64  # the length of the case and order number columns
MAX_TOTAL = Decimal("9999999999.99")  # an order total's column is NUMERIC(12, 2)


def _case(line: int, v: Mapping[str, str]) -> ParsedRow:
    if not v.get("number"):
        return ParsedRow(None, [Problem(line, "no case number", True)])
    if len(v["number"]) > NUMBER_LENGTH:
        return ParsedRow(None, [Problem(line, f"case number longer than {NUMBER_LENGTH} characters", True)])
    opened_at = None
    if v.get("opened_at"):
        try:
            opened_at = _date(v["opened_at"])
        except ValueError:
            return ParsedRow(None, [Problem(line, f"opened date “{v['opened_at']}” is not a date ({DATE_HELP})", True)])
    ref, email = _customer_ref(v)
    return ParsedRow(CaseRecord(line, v["number"].strip().upper(), v.get("title") or v["number"],
                                (v.get("status") or "active").lower(), v.get("priority") or None,
                                v.get("product") or None, v.get("owner") or None, opened_at, ref, email))


def _order(line: int, v: Mapping[str, str]) -> ParsedRow:
    if not v.get("number"):
        return ParsedRow(None, [Problem(line, "no order number", True)])
    if len(v["number"]) > NUMBER_LENGTH:
        return ParsedRow(None, [Problem(line, f"order number longer than {NUMBER_LENGTH} characters", True)])
    try:
        total = _amount(v.get("total") or "")
        if abs(total) > MAX_TOTAL:
            raise InvalidOperation
    except InvalidOperation:
        return ParsedRow(None, [Problem(line, f"total “{v.get('total', '')}” is not an amount", True)])
    try:
        placed_at = _date(v.get("placed_at") or "")
    except ValueError:
        return ParsedRow(None, [Problem(line, f"order date “{v.get('placed_at', '')}” is not a date ({DATE_HELP})", True)])
    currency = (v.get("currency") or "USD").strip().upper()[:3]
    ref, email = _customer_ref(v)
    return ParsedRow(OrderRecord(line, v["number"].strip(), total, currency, placed_at, ref, email))


def describe_columns(kind: str, columns: Mapping[str, str]) -> str:
    shown = ", ".join(f"{header} → {name}" for name, header in columns.items())
    return f"{kind}: {shown}" if shown else f"{kind}: no known columns"


@dataclass
class FileReport:
    path: Path
    kind: str
    columns: Mapping[str, str]
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)  # the first KEPT of each, whatever the file's size
    notes: list[Problem] = field(default_factory=list)
    skipped_rows: int = 0
    problem_count: int = 0

    SHOWN = 20
    KEPT = 1000

    def add(self, problems: list[Problem]) -> None:
        for problem in problems:
            self.problem_count += 1
            self.skipped_rows += problem.skipped
            kept = self.skipped if problem.skipped else self.notes
            if len(kept) < self.KEPT:
                kept.append(problem)

    def lines(self, *, dry_run: bool = False) -> list[str]:
        head = f"{self.path.name} ({describe_columns(self.kind, self.columns)})"
        if dry_run:
            counts = f"{self.rows:,} rows read, {self.rows - self.skipped_rows:,} would be imported, {self.skipped_rows:,} skipped"
        else:
            counts = (f"{self.rows:,} rows: {self.created:,} created, {self.updated:,} updated, "
                      f"{self.unchanged:,} unchanged, {self.skipped_rows:,} skipped")
        out = [head, "  " + counts]
        problems = sorted(self.skipped + self.notes, key=lambda p: p.line)
        out += [f"  line {p.line}: {p.text}{' (row skipped)' if p.skipped else ''}" for p in problems[: self.SHOWN]]
        if self.problem_count > self.SHOWN:
            out.append(f"  … and {self.problem_count - self.SHOWN:,} more")
        return out


async def import_files(
    paths: list[Path],
    *,
    now: datetime,
    kind: str | None = None,
    source: str = "crm",
    dry_run: bool = False,
    batch_rows: int = 500,
) -> list[FileReport]:
    """Import each file (customers first, then cases, then orders, so references resolve)."""
    from storage.imports import import_batch  # noqa: PLC0415 (the CLI imports this module before connecting)

    opened = []
    for path in paths:
        headers, rows = open_rows(path)
        file_kind = kind or detect_kind(path, headers)
        opened.append((KINDS.index(file_kind), path, file_kind, headers, rows))
    reports = []
    for _, path, file_kind, headers, rows in sorted(opened, key=lambda item: item[0]):
        report = FileReport(path, file_kind, column_map(file_kind, headers))
        batch: list[Record] = []

        async def flush() -> None:
            if batch and not dry_run:
                result = await import_batch(file_kind, batch, source=source, now=now)
                report.created += result.created
                report.updated += result.updated
                report.unchanged += result.unchanged
                report.add([Problem(line, text, True) for line, text in result.skipped])
                report.add([Problem(line, text, False) for line, text in result.notes])
            batch.clear()

        try:
            for line, row in rows:
                report.rows += 1
                parsed = parse_row(file_kind, line, row, report.columns)
                report.add(parsed.problems)
                if parsed.record is not None:
                    batch.append(parsed.record)
                if len(batch) >= batch_rows:
                    await flush()
        except ImportFileError as error:  # unreadable from here on: keep what was read, say where it stopped
            report.add([Problem(report.rows + 1, f"{error}; the rest of the file was not read", True)])
        await flush()
        reports.append(report)
    return reports

"""Importing legacy customers from CSV, and the streaming import runner that orders share.

A file is read row by row with csv.reader (never a list of all rows), cut into units (a customer
row; for orders, the consecutive rows of one order) and stored through the same services as every
other intake path, one transaction per unit, so a bad row spoils nothing else. A dry run does the
same work inside one transaction per batch that is rolled back: it validates exactly as a real
import would and changes nothing.
"""

import csv
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TextIO

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, reset_queries, transaction
from django.utils import timezone

from crm.models import Channel
from customers.models import Customer
from customers.services import Identity, customer_resolve

if TYPE_CHECKING:
    import _csv

BATCH_SIZE = 500
# Every raw value is capped before it reaches a service or the database.
MAX_VALUE_LENGTH = 1000

CUSTOMER_COLUMNS: dict[str, str] = {
    "email": "E-mail address.",
    "phone": "Phone number; national numbers are read in CRM_DEFAULT_PHONE_REGION.",
    "loyalty_number": "Loyalty card number (4 to 32 letters and digits).",
    "external_system": "Name of the legacy system the id comes from (e.g. oldshop).",
    "external_id": "The customer's id in that system; needs external_system.",
    "first_name": "Up to 100 characters.",
    "last_name": "Up to 100 characters.",
    "address_line1": "Up to 200 characters.",
    "city": "Up to 100 characters.",
    "postcode": "Up to 20 characters.",
    "country": "Two-letter ISO code (US, GB, ...).",
    "customer_since": "ISO 8601 date or date-time (2019-05-01 or 2019-05-01T10:30:00+02:00); "
    "without an offset it is read in the CRM's time zone.",
}
CUSTOMER_IDENTIFIERS = ("email", "phone", "loyalty_number", "external_id")
_CUSTOMER_LENGTHS = {
    "first_name": 100,
    "last_name": 100,
    "address_line1": 200,
    "city": 100,
    "postcode": 20,
    "external_system": 32,
    "external_id": 200,
}


class ImportFileError(Exception):
    """The file as a whole can't be imported (no header, unknown or missing columns)."""


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


@dataclass
class Row:
    """One CSV record: its first line number in the file, its raw values and them by column."""

    line: int
    values: list[str]
    record: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


class Outcome:
    CREATED = "created"
    MATCHED = "matched"
    EXISTING = "existing"
    ERROR = "error"


@dataclass
class RowOutcome:
    row: Row
    status: str
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ImportSummary:
    kind: str
    dry_run: bool
    rows_read: int = 0
    # Rows stored (or, in a dry run, that would be) and rows skipped for their errors.
    rows_stored: int = 0
    rows_skipped: int = 0
    # Customers: new records and records matched to an existing customer. Orders: orders created
    # and orders already imported before (a re-import), plus the customers their buyers created.
    created: int = 0
    existing: int = 0
    new_customers: int = 0
    matched_customers: int = 0
    seconds: float = 0.0
    errors_path: str = ""

    def lines(self) -> list[str]:
        verb = "would be stored" if self.dry_run else "stored"
        if self.kind == "customers":
            records = (
                f"customers: {self.new_customers} new, {self.matched_customers} matched "
                "to existing records"
            )
        else:
            records = (
                f"orders: {self.created} new, {self.existing} already imported; "
                f"new customers: {self.new_customers}"
            )
        result = [
            f"{'Dry run: nothing was changed. ' if self.dry_run else ''}"
            f"Rows read: {self.rows_read}, {verb}: {self.rows_stored}, "
            f"skipped with errors: {self.rows_skipped}.",
            records[0].upper() + records[1:] + ".",
            f"Seconds: {self.seconds:.1f}.",
        ]
        if self.errors_path and self.rows_skipped:
            result.append(f"Errors: {self.errors_path}")
        return result


class Importer(Protocol):
    kind: str
    columns: tuple[str, ...]

    def check_header(self, header: Sequence[str]) -> None: ...

    def units(self, rows: Iterator[Row]) -> Iterator[list[Row]]: ...

    def store(self, unit: list[Row]) -> list[RowOutcome]: ...


# A cell starting with one of these is a formula to a spreadsheet (CSV injection): the error report
# repeats the file's raw values, so it quotes them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A raw value as a spreadsheet shows it as text, never runs it. A plain number ("-3", the
    bad quantity the report is about) is no formula and stays as it is."""
    if not value.startswith(FORMULA_STARTS) or _is_number(value):
        return value
    return f"'{value}"


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def read_rows(file: Iterable[str], importer: Importer) -> tuple[list[str], Iterator[Row]]:
    """The normalised header and a lazy iterator of the records that follow it."""
    reader = csv.reader(file)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("The file is empty: it needs a header line.") from None
    except csv.Error as error:
        raise ImportFileError(f"The header line can't be read: {error}.") from None
    header = [name.strip().lower() for name in header]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise ImportFileError(f"Columns appear twice: {', '.join(duplicates)}.")
    unknown = [name for name in header if name not in importer.columns]
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. "
            f"The columns are: {', '.join(importer.columns)}."
        )
    importer.check_header(header)
    return header, _records(reader, header)


def _records(reader: "_csv.Reader", header: list[str]) -> Iterator[Row]:
    previous_end = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line = previous_end + 1
            previous_end = reader.line_num
            yield Row(line, [], {}, [Problem("", f"The line can't be read as CSV: {error}.")])
            continue
        line, previous_end = previous_end + 1, reader.line_num
        if not any(value.strip() for value in values):
            continue  # blank lines are not rows
        row = Row(line, values, dict(zip(header, (v.strip() for v in values), strict=False)))
        if len(values) != len(header):
            row.problems.append(
                Problem("", f"The row has {len(values)} values; the header has {len(header)}.")
            )
        for name, value in row.record.items():
            if len(value) > MAX_VALUE_LENGTH:
                row.problems.append(Problem(name, f"Longer than {MAX_VALUE_LENGTH} characters."))
        yield row


def problems_of(error: ValidationError, rename: dict[str, str] | None = None) -> list[Problem]:
    """A service's ValidationError as (field, message) pairs, fields named as the CSV columns."""
    rename = rename or {}
    if hasattr(error, "error_dict"):
        return [
            Problem(rename.get(name, name), message)
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return [Problem("", message) for message in error.messages]


def parse_datetime(value: str) -> datetime:
    """ISO 8601 date or date-time; naive values are in the CRM's time zone. Not in the future."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"“{value}” is not an ISO 8601 date or date-time (2019-05-01T10:30:00)."
        ) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed > timezone.now() + timedelta(days=1):
        raise ValidationError(f"“{value}” is in the future.")
    return parsed


def check_lengths(row: Row, lengths: dict[str, int]) -> list[Problem]:
    return [
        Problem(name, f"At most {limit} characters (this has {len(row.record[name])}).")
        for name, limit in lengths.items()
        if len(row.record.get(name, "")) > limit
    ]


def run_import(
    importer: Importer,
    file: Iterable[str],
    *,
    dry_run: bool = False,
    errors: TextIO | None = None,
    batch_size: int = BATCH_SIZE,
    on_outcome: Callable[[RowOutcome], None] | None = None,
) -> ImportSummary:
    """Import every unit of the file and count what happened. Bad rows go to `errors` as CSV
    (line, field, message, then the row's raw values), one line per problem."""
    started = time.monotonic()
    summary = ImportSummary(kind=importer.kind, dry_run=dry_run)
    header, rows = read_rows(file, importer)
    writer = csv.writer(errors) if errors is not None else None
    if writer is not None:
        writer.writerow(["line", "field", "message", *header])
    units = importer.units(rows)
    while batch := list(itertools.islice(units, batch_size)):
        # A dry run writes each batch exactly as a real import would, then rolls it back.
        with transaction.atomic() if dry_run else nullcontext():
            first_new_customer = _next_customer_id()
            for unit in batch:
                outcomes = importer.store(unit)
                # One record per unit (a customer, an order), whatever its number of rows.
                if outcomes[0].status == Outcome.CREATED:
                    summary.created += 1
                elif outcomes[0].status in (Outcome.MATCHED, Outcome.EXISTING):
                    summary.existing += 1
                for outcome in outcomes:
                    _count(summary, outcome, writer)
                    if on_outcome is not None:
                        on_outcome(outcome)
            if importer.kind != "customers":
                summary.new_customers += Customer.objects.filter(pk__gte=first_new_customer).count()
            if dry_run:
                transaction.set_rollback(True)
        reset_queries()  # under DEBUG the query log would otherwise grow with the file
    if importer.kind == "customers":
        summary.new_customers, summary.matched_customers = summary.created, summary.existing
    summary.seconds = time.monotonic() - started
    return summary


def _next_customer_id() -> int:
    last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def _count(summary: ImportSummary, outcome: RowOutcome, writer: "_csv.Writer | None") -> None:
    summary.rows_read += 1
    if outcome.status == Outcome.ERROR:
        summary.rows_skipped += 1
        if writer is not None:
            for problem in outcome.problems:
                writer.writerow(
                    [
                        outcome.row.line,
                        problem.field,
                        problem.message,
                        *map(spreadsheet_safe, outcome.row.values),
                    ]
                )
        return
    summary.rows_stored += 1


def store_unit(work: Callable[[], str]) -> str | list[Problem]:
    """Run one unit's writes in their own transaction: the outcome status, or the problems that
    refused it. The services are atomic themselves; inside a dry run's batch transaction a
    savepoint keeps a refused unit from spoiling the batch (outside one it would only cost two
    more round trips a row)."""
    try:
        if not transaction.get_connection().in_atomic_block:
            return work()
        with transaction.atomic():
            return work()
    except ValidationError as error:
        return problems_of(error)
    except (DataError, IntegrityError) as error:
        return [Problem("", f"The database refused the row: {str(error).splitlines()[0]}")]


class CustomerImporter:
    """One row, one customer: found by identity resolution or created."""

    kind = "customers"
    columns = tuple(CUSTOMER_COLUMNS)

    def check_header(self, header: Sequence[str]) -> None:
        if not set(CUSTOMER_IDENTIFIERS) & set(header):
            raise ImportFileError(
                f"The file needs at least one of the columns {', '.join(CUSTOMER_IDENTIFIERS)}."
            )

    def units(self, rows: Iterator[Row]) -> Iterator[list[Row]]:
        return ([row] for row in rows)

    def store(self, unit: list[Row]) -> list[RowOutcome]:
        (row,) = unit
        problems = list(row.problems)
        identity, since = None, None
        if not problems:
            problems, identity, since = self.parse(row)
        if identity is not None and not problems:
            resolved = store_unit(lambda: self.resolve(identity, since))
            if isinstance(resolved, str):
                return [RowOutcome(row, resolved)]
            problems = resolved
        return [RowOutcome(row, Outcome.ERROR, problems)]

    def parse(self, row: Row) -> tuple[list[Problem], Identity | None, datetime | None]:
        record = row.record
        problems = check_lengths(row, _CUSTOMER_LENGTHS)
        country = record.get("country", "").upper()
        if country and not (len(country) == 2 and country.isalpha()):
            problems.append(Problem("country", f"“{country}” is not a two-letter country code."))
        system, external_id = record.get("external_system", ""), record.get("external_id", "")
        if bool(system) != bool(external_id):
            problems.append(
                Problem(
                    "external_system" if external_id else "external_id",
                    "An external id needs both external_system and external_id.",
                )
            )
        since = None
        if record.get("customer_since"):
            try:
                since = parse_datetime(record["customer_since"])
            except ValidationError as error:
                problems.append(Problem("customer_since", error.messages[0]))
        identity = Identity(
            email=record.get("email", ""),
            phone=record.get("phone", ""),
            loyalty_number=record.get("loyalty_number", ""),
            external_ids={system: external_id} if system and external_id else {},
            first_name=record.get("first_name", ""),
            last_name=record.get("last_name", ""),
            address_line1=record.get("address_line1", ""),
            city=record.get("city", ""),
            postcode=record.get("postcode", ""),
            country=country,
        )
        try:
            identity.contact_points()
        except ValidationError as error:
            problems.extend(problems_of(error, {"external_ids": "external_id"}))
        return problems, identity, since

    def resolve(self, identity: Identity, since: datetime | None) -> str:
        resolution = customer_resolve(identity=identity, source=Channel.SYSTEM, occurred_at=since)
        return Outcome.CREATED if resolution.created else Outcome.MATCHED


def import_customers(
    file: Iterable[str],
    *,
    dry_run: bool = False,
    errors: TextIO | None = None,
    batch_size: int = BATCH_SIZE,
    on_outcome: Callable[[RowOutcome], None] | None = None,
) -> ImportSummary:
    """Import legacy customers (columns: CUSTOMER_COLUMNS) through identity resolution."""
    return run_import(
        CustomerImporter(),
        file,
        dry_run=dry_run,
        errors=errors,
        batch_size=batch_size,
        on_outcome=on_outcome,
    )

"""manage.py import_customers FILE.csv: legacy customers through identity resolution."""

from argparse import ArgumentParser, RawDescriptionHelpFormatter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.importing import (
    BATCH_SIZE,
    CUSTOMER_COLUMNS,
    ImportFileError,
    ImportSummary,
    import_customers,
)


def columns_help(columns: dict[str, str]) -> str:
    return "\n".join(f"  {name:<16} {text}" for name, text in columns.items())


class ImportCommand(BaseCommand):
    """Shared by import_customers and import_orders: the file, --dry-run, --errors, the summary."""

    columns: dict[str, str] = {}
    intro = ""
    run: Callable[..., ImportSummary]

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        parser.epilog = (
            f"{self.intro}\n\nColumns (a header line names them, in any order; "
            f"unknown columns are refused):\n{columns_help(self.columns)}\n\n"
            "Each bad row is skipped and listed in the error file (line, field, message, then "
            "the row's raw values); the others are stored, one transaction per record. "
            "The file is UTF-8 (a byte-order mark is allowed) and read as a stream."
        )
        return parser

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file to import.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate every row exactly as an import would and report what would happen; "
            "nothing is changed.",
        )
        parser.add_argument(
            "--errors",
            type=Path,
            help="Where to write the error report (default: <file>.errors.csv).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"Rows per batch (progress and dry-run transactions; default {BATCH_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        errors_path: Path = options["errors"] or path.with_name(path.name + ".errors.csv")
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        with (
            path.open(encoding="utf-8-sig", newline="") as source,
            errors_path.open("w", encoding="utf-8", newline="") as errors,
        ):
            try:
                summary = self.run_file(source, errors, options)
            except ImportFileError as error:
                raise CommandError(str(error)) from None
            except UnicodeDecodeError as error:
                raise CommandError(f"The file is not UTF-8 text: {error}.") from None
        summary.errors_path = str(errors_path)
        for line in summary.lines():
            self.stdout.write(line)

    def run_file(self, source: Iterable[str], errors: TextIO, options: dict) -> ImportSummary:
        return type(self).run(
            source, dry_run=options["dry_run"], errors=errors, batch_size=options["batch_size"]
        )


class Command(ImportCommand):
    help = "Import legacy customers from a CSV file, one customer a row."
    intro = (
        "Each row is resolved like any other intake: a customer whose e-mail, phone, loyalty "
        "card or external id is already known is matched (blank name and address fields are "
        "filled in); otherwise a new customer is created. Each row needs at least one of "
        "email, phone, loyalty_number, external_id."
    )
    columns = CUSTOMER_COLUMNS
    run = staticmethod(import_customers)

"""`manage.py rebuild_insights [--batch-size N]`: recompute every live customer's insight from
her whole history, a batch of customers at a time with grouped queries (not a task each)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.insights.services import REBUILD_BATCH, insights_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the insight of every live customer from the source tables, in batches "
        "(after an import or a restore; events keep them current otherwise)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=REBUILD_BATCH,
            help=f"Customers per batch and transaction (default {REBUILD_BATCH}).",
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.perf_counter()
        verbose = options["verbosity"] > 0

        def progress(done: int, total: int) -> None:
            if verbose:
                elapsed = time.perf_counter() - started
                self.stdout.write(f"  {done:,} of {total:,} customers ({elapsed:.1f} s)")

        count = insights_rebuild(batch_size=batch_size, progress=progress)
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"Rebuilt the insights of {count:,} customers in {seconds:.1f} s.")
        )

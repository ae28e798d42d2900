"""Every customer's insight, computed by the app's own insights_compute and written with COPY:
the same figures as insights_rebuild, without the ORM's upsert, which is most of its time when
the table starts empty."""

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from itertools import batched

from django.db import connection, connections, models, transaction

from crm.bench.loader import copy_rows
from customers.insights.figures import insights_compute
from customers.models import Customer, CustomerInsight


def insights_copy(*, now: datetime, batch_size: int, processes: int = 1) -> int:
    """Write the insight of every live customer into an empty insight table; returns how many.
    With committed data, `processes` worker processes share the batches (each with its own
    database connection); inside a transaction, which they could not see, the work stays here."""
    if CustomerInsight.objects.exists():
        raise ValueError("insights_copy fills an empty insight table; use insights_rebuild.")
    ids = list(
        Customer.objects.filter(merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    batches = list(batched(ids, batch_size))
    if processes <= 1 or connection.in_atomic_block:
        return _batches_copy(batches, now)
    # Forked processes must not share this process's connection: each opens its own.
    connections.close_all()
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = [batches[part::processes] for part in range(processes)]
        return sum(pool.map(_batches_copy, parts, [now] * processes))


def _batches_copy(batches: list[tuple[int, ...]], now: datetime) -> int:
    fields = CustomerInsight._meta.concrete_fields
    columns = [str(field.column) for field in fields]
    as_json = [isinstance(field, models.JSONField) for field in fields]
    done = 0
    for chunk in batches:
        insights = insights_compute(chunk, now=now)
        with transaction.atomic():
            copy_rows(
                connection,
                CustomerInsight._meta.db_table,
                columns,
                (
                    tuple(
                        json.dumps(value) if json_field else value
                        for value, json_field in zip(
                            (getattr(insight, field.attname) for field in fields),
                            as_json,
                            strict=True,
                        )
                    )
                    for insight in insights.values()
                ),
            )
        done += len(insights)
    return done

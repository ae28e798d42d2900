"""Every customer's insight, computed by the app's own insights_compute and written with COPY:
the same figures as insights_rebuild, without the ORM's upsert, which is most of its time when
the table starts empty."""

import json
from collections.abc import Callable
from datetime import datetime
from itertools import batched

from django.db import connection, models, transaction

from crm.bench.loader import copy_rows
from customers.insights.figures import insights_compute
from customers.models import Customer, CustomerInsight


def insights_copy(
    *, now: datetime, batch_size: int, progress: Callable[[int, int], None] | None = None
) -> int:
    """Write the insight of every live customer into an empty insight table; returns how many."""
    if CustomerInsight.objects.exists():
        raise ValueError("insights_copy fills an empty insight table; use insights_rebuild.")
    fields = CustomerInsight._meta.concrete_fields
    columns = [str(field.column) for field in fields]
    as_json = [isinstance(field, models.JSONField) for field in fields]
    ids = list(
        Customer.objects.filter(merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = 0
    for chunk in batched(ids, batch_size):
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
        done += len(chunk)
        if progress is not None:
            progress(done, len(ids))
    return done

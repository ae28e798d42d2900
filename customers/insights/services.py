"""Every write of customer insights: the recompute after an event (enqueued once per customer
and transaction), the rebuild of every customer, and the supervisor's thresholds."""

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from itertools import batched
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from crm.models import User
from crm.services import audit_record, enqueue_after_commit
from customers.insights.figures import insights_compute
from customers.models import (
    INSIGHT_THRESHOLD_FIELDS,
    Customer,
    CustomerInsight,
    InsightThresholds,
)

REBUILD_BATCH = 500
STORED_FIELDS = [
    field.name for field in CustomerInsight._meta.concrete_fields if not field.primary_key
]


class _RefreshMark:
    """Sits in the connection's on-commit list beside a customer's refresh task: a later event
    of hers in the same transaction finds it and enqueues nothing more. Called at commit, it
    marks itself done; a rolled-back savepoint takes it away together with the task."""

    __slots__ = ("customer_id", "done")

    def __init__(self, customer_id: int) -> None:
        self.customer_id = customer_id
        self.done = False

    def __call__(self) -> None:
        self.done = True


def _pending_marks(connection: BaseDatabaseWrapper) -> dict[int, _RefreshMark]:
    """The marks still waiting in the current transaction, by customer. Django replaces its
    on-commit list when a transaction ends or a savepoint rolls back, so the index is rebuilt
    only then: recording many events in one transaction stays linear."""
    pending = connection.run_on_commit
    cached: tuple[list[Any], dict[int, _RefreshMark]] | None = getattr(
        connection, "_insight_refresh_marks", None
    )
    if cached is None or cached[0] is not pending:
        marks = {
            func.customer_id: func
            for func in (entry[1] for entry in pending)
            if isinstance(func, _RefreshMark) and not func.done
        }
        cached = (pending, marks)
        connection._insight_refresh_marks = cached  # type: ignore[attr-defined]
    return cached[1]


def insight_refresh_after_commit(customer_id: int) -> None:
    """Recompute the customer's insight once the current transaction commits: one task per
    customer and transaction, however many of her events it records."""
    from customers.tasks import refresh_insight  # tasks call services: import late

    connection = transaction.get_connection()
    if connection.in_atomic_block:
        marks = _pending_marks(connection)
        mark = marks.get(customer_id)
        if mark is not None and not mark.done:
            return
        mark = _RefreshMark(customer_id)
        transaction.on_commit(mark)
        marks[customer_id] = mark
    enqueue_after_commit(refresh_insight, customer_id)


def insights_refresh_after_commit(customer_ids: Iterable[int]) -> None:
    """insight_refresh_after_commit for the customers of many events recorded at once: one task
    recomputes every one of them whose refresh this transaction has not already enqueued."""
    from customers.tasks import refresh_insights  # tasks call services: import late

    wanted = list(dict.fromkeys(customer_ids))
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        marks = _pending_marks(connection)
        wanted = [
            customer_id
            for customer_id in wanted
            if (mark := marks.get(customer_id)) is None or mark.done
        ]
        for customer_id in wanted:
            mark = _RefreshMark(customer_id)
            transaction.on_commit(mark)
            marks[customer_id] = mark
    if wanted:
        enqueue_after_commit(refresh_insights, wanted)


def _save(rows: dict[int, CustomerInsight]) -> None:
    CustomerInsight.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=STORED_FIELDS,
    )


@transaction.atomic
def insight_refresh(*, customer_id: int, now: datetime | None = None) -> CustomerInsight | None:
    """Recompute one customer's insight from her whole history, so running it twice, or late,
    leaves the same row. Refreshes of one customer take turns on her record's lock, each reading
    what was committed before it started. A merged customer keeps no insight (None)."""
    locked = (
        Customer.objects.select_for_update(no_key=True)
        .filter(pk=customer_id)
        .values_list("merged_into_id", flat=True)
    )
    rows = (
        insights_compute([customer_id], now=now or timezone.now()) if locked.first() is None else {}
    )
    if customer_id not in rows:
        CustomerInsight.objects.filter(customer_id=customer_id).delete()
        return None
    _save(rows)
    return rows[customer_id]


def insights_rebuild(
    *,
    batch_size: int = REBUILD_BATCH,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute every live customer's insight, a batch of customers per transaction with the
    same grouped queries as a single refresh, and drop the rows of merged customers. Returns how
    many customers were computed."""
    moment = now or timezone.now()
    live = Customer.objects.filter(merged_into__isnull=True).order_by("pk")
    ids = list(live.values_list("pk", flat=True))
    done = 0
    for chunk in _chunks(ids, batch_size):
        with transaction.atomic():
            _save(insights_compute(chunk, now=moment))
        done += len(chunk)
        if progress is not None:
            progress(done, len(ids))
    CustomerInsight.objects.filter(customer__merged_into__isnull=False).delete()
    return done


def _chunks(ids: list[int], size: int) -> Iterator[tuple[int, ...]]:
    return batched(ids, max(size, 1))


def insight_discard(*, customer: Customer) -> None:
    """A merged customer's history now belongs to her survivor: her own insight goes."""
    CustomerInsight.objects.filter(customer=customer).delete()


def insight_thresholds_current() -> InsightThresholds:
    """The stored thresholds, or the defaults (unsaved) before a supervisor first sets them."""
    return InsightThresholds.objects.filter(pk=InsightThresholds.SINGLETON_ID).first() or (
        InsightThresholds(pk=InsightThresholds.SINGLETON_ID)
    )


@transaction.atomic
def insight_thresholds_update(
    *, actor: User, values: dict[str, Decimal | int]
) -> InsightThresholds:
    """A supervisor or admin sets the flags' thresholds. All values are checked together and
    nothing changes unless all are valid; the change is audited with the old and new values.
    Flags are judged at read time, so every page shows the new thresholds at once."""
    from customers.insights.flags import can_set_insight_thresholds

    if not can_set_insight_thresholds(actor):
        raise ValidationError("Only supervisors and admins set the insight thresholds.")
    unknown = sorted(set(values) - set(INSIGHT_THRESHOLD_FIELDS))
    if unknown:
        raise ValidationError(f"Unknown thresholds: {', '.join(unknown)}.")
    current = (
        InsightThresholds.objects.select_for_update()
        .filter(pk=InsightThresholds.SINGLETON_ID)
        .first()
    ) or InsightThresholds(pk=InsightThresholds.SINGLETON_ID)
    before = {name: str(getattr(current, name)) for name in INSIGHT_THRESHOLD_FIELDS}
    for name, value in values.items():
        setattr(current, name, value)
    current.updated_by = actor
    current.updated_at = timezone.now()
    current.full_clean(exclude=["updated_by"])
    current.save()
    after = {name: str(getattr(current, name)) for name in INSIGHT_THRESHOLD_FIELDS}
    audit_record(
        actor=actor,
        action="insight_thresholds.update",
        obj=current,
        data={
            "changed": {
                name: {"from": before[name], "to": after[name]}
                for name in INSIGHT_THRESHOLD_FIELDS
                if before[name] != after[name]
            }
        },
    )
    return current

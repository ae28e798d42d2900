"""Benchmark: every report of the dashboards on a large data set.

Generates a synthetic retailer with N inquiries (default 200,000) over two years into a PostgreSQL
database of its own (crm_bench_reports on the server of DATABASE_URL, or BENCH_DATABASE_URL), in
the proportions the reports are designed for (1M inquiries : 3M orders): 3 orders per inquiry,
15% of them picked up in a store, 8% returned; acknowledgements, call-backs with their calls,
ratings, and two years of daily backlog snapshots. Then it times each report function (the
selectors the dashboards call) over the last 30 days, for every store and for one store, and
over a year, and prints EXPLAIN ANALYZE of each report's main query.

    .venv/bin/python tests/bench/bench_reports.py [--inquiries N] [--reuse] [--repeat N]

Without --reuse the database is dropped and generated afresh; with it, the data there is measured
again. Rows are written with bulk_create in batches (the models' defaults apply, so the script
follows the schema as it changes).
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_reports"
BATCH = 5000
BUDGET_MS = 1000
HISTORY_DAYS = 730
STORES = 30
QUEUES = ["Returns & refunds", "Store pickups", "Orders & delivery", "Priority", "Products"]

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tests.bench import bench_search_360  # noqa: E402


def bench_database_url() -> str:
    """BENCH_DATABASE_URL, else crm_bench_reports on DATABASE_URL's server, else local."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    if os.environ.get("DATABASE_URL"):
        return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/crm_bench_reports"))
    return DEFAULT_URL


def declared_indexes_ensure() -> list[str]:
    """Create the indexes the models declare that no migration has made yet (a model's Meta
    edited ahead of its app's migration), so that the benchmark measures the schema as declared.
    Returns their names."""
    from django.apps import apps
    from django.db import connection

    made = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            existing = connection.introspection.get_constraints(cursor, model._meta.db_table)
            for index in model._meta.indexes:
                if index.name not in existing:
                    with connection.schema_editor() as editor:
                        editor.add_index(model, index)
                    made.append(index.name)
    return made


def batched(items: Iterator[Any], size: int = BATCH) -> Iterator[list[Any]]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(inquiries: int, seed: int) -> dict[str, float]:
    """Write the synthetic retailer; returns seconds per step."""
    from django.db import transaction
    from django.utils import timezone

    from crm.models import (
        AuditEntry,
        BacklogCount,
        BacklogSnapshot,
        Channel,
        OutboundEmail,
        OutboundEmailStatus,
    )
    from customers.models import Customer
    from orders.models import (
        Fulfilment,
        Order,
        OrderLine,
        Pickup,
        PickupStatus,
        Return,
        ReturnLine,
        ReturnReason,
        ReturnStatus,
    )
    from stores.models import Store
    from tickets.models import (
        CallbackRequest,
        CallbackStatus,
        Inquiry,
        InquiryStatus,
        Queue,
    )

    rng = random.Random(seed)
    now = timezone.now()
    span = timedelta(days=HISTORY_DAYS).total_seconds()
    timings: dict[str, float] = {}

    def moment() -> datetime:
        return now - timedelta(seconds=rng.random() * span)

    def timed(step: str, work: Callable[[], None]) -> None:
        started = time.perf_counter()
        with transaction.atomic():
            work()
        timings[step] = time.perf_counter() - started
        print(f"  {step}: {timings[step]:.0f} s", flush=True)

    # Occurred-at is stamped "now" on insert; the history needs its own moments.
    AuditEntry._meta.get_field("occurred_at").auto_now_add = False

    stores = [
        Store(
            code=f"b{n:02d}",
            name=f"Store {n:02d}",
            address_line1="1 Main St",
            city="X",
            postcode="1",
        )
        for n in range(1, STORES + 1)
    ]
    Store.objects.bulk_create(stores)
    queues = list(Queue.objects.all()) + Queue.objects.bulk_create(
        Queue(name=name, slug=f"bench-{n}") for n, name in enumerate(QUEUES)
    )
    customer_count = max(1000, inquiries // 2)

    def customers() -> None:
        Customer.objects.bulk_create(
            (
                Customer(
                    first_name=f"First{n}",
                    last_name=f"Last{n}",
                    search_name=f"first{n} last{n}",
                    search_name_reversed=f"last{n} first{n}",
                )
                for n in range(customer_count)
            ),
            batch_size=BATCH,
        )

    timed(f"{customer_count:,} customers", customers)
    first_customer = Customer.objects.order_by("pk").values_list("pk", flat=True)[0]

    def customer_id() -> int:
        return first_customer + rng.randrange(customer_count)

    channels = [Channel.EMAIL, Channel.WEB_FORM, Channel.PORTAL, Channel.PHONE, Channel.STORE]
    channels += [Channel.CALLBACK]
    weights = [30, 30, 10, 15, 10, 5]
    acknowledged = {Channel.EMAIL, Channel.WEB_FORM, Channel.PORTAL, Channel.CALLBACK}

    def service() -> None:
        for chunk in batched(iter(range(inquiries))):
            rows: list[Inquiry] = []
            emails: list[OutboundEmail] = []
            for _ in chunk:
                created = moment()
                channel = rng.choices(channels, weights)[0]
                answered = created + timedelta(minutes=rng.lognormvariate(4.5, 1.2))
                resolved = answered + timedelta(hours=rng.lognormvariate(2.5, 1.0))
                done = resolved < now and rng.random() < 0.9
                rated = done and rng.random() < 0.3
                item = Inquiry(
                    customer_id=customer_id(),
                    channel=channel,
                    subject="Bench",
                    status=InquiryStatus.RESOLVED if done else InquiryStatus.OPEN,
                    queue=rng.choice(queues) if rng.random() < 0.97 else None,
                    store=rng.choice(stores) if rng.random() < 0.2 else None,
                    automated_reason="Auto-Submitted" if rng.random() < 0.02 else "",
                    created_at=created,
                    last_message_at=created,
                    first_response_due_at=created + timedelta(hours=6),
                    first_responded_at=answered if answered < now else None,
                    resolved_at=resolved if done else None,
                    rating=rng.choice([5, 5, 4, 4, 3, 2, 1]) if rated else None,
                    rated_at=resolved + timedelta(hours=1) if rated else None,
                )
                if channel in acknowledged and not item.automated_reason:
                    sent = created + timedelta(seconds=rng.lognormvariate(3, 1))
                    emails.append(
                        OutboundEmail(
                            key=f"ack-{len(emails)}-{rng.random()}",
                            to=["x@example.com"],
                            subject="Ack",
                            text_body="",
                            message_id=f"{rng.random()}@bench",
                            status=OutboundEmailStatus.SENT,
                            sent_at=sent,
                        )
                    )
                    item.acknowledgement = emails[-1]
                rows.append(item)
            OutboundEmail.objects.bulk_create(emails)
            for item in rows:
                if item.acknowledgement is not None:
                    item.acknowledgement_id = item.acknowledgement.pk
            Inquiry.objects.bulk_create(rows)
            requests, calls = [], []
            for item in rows:
                if item.channel != Channel.CALLBACK:
                    continue
                start = item.created_at + timedelta(hours=rng.randint(1, 24))
                requests.append(
                    CallbackRequest(
                        inquiry=item,
                        customer_id=item.customer_id or customer_id(),
                        phone="+14155550100",
                        window_start=start,
                        window_end=start + timedelta(hours=2),
                        due_at=start,
                        status=CallbackStatus.REACHED,
                    )
                )
            CallbackRequest.objects.bulk_create(requests)
            for request in requests:
                if rng.random() < 0.9:
                    calls.append(
                        AuditEntry(
                            action="callback.outcome",
                            object_type="tickets.callbackrequest",
                            object_id=str(request.pk),
                            occurred_at=request.window_start
                            + timedelta(minutes=rng.randint(-10, 200)),
                        )
                    )
            AuditEntry.objects.bulk_create(calls)

    timed(f"{inquiries:,} inquiries with acknowledgements and call-backs", service)

    order_channels = [Channel.WEB, Channel.STORE, Channel.PHONE, Channel.KIOSK]
    order_weights = [55, 30, 8, 7]

    def orders() -> None:
        number = 0
        for chunk in batched(iter(range(3 * inquiries))):
            placed = []
            for _ in chunk:
                number += 1
                channel = rng.choices(order_channels, order_weights)[0]
                in_store = channel in (Channel.STORE, Channel.KIOSK)
                placed.append(
                    Order(
                        number=f"B{number:09d}",
                        customer_id=customer_id(),
                        channel=channel,
                        store=rng.choice(stores) if in_store else None,
                        fulfilment=Fulfilment.PICKUP
                        if not in_store and rng.random() < 0.25
                        else Fulfilment.SHIP,
                        placed_at=moment(),
                    )
                )
            Order.objects.bulk_create(placed)
            pickups, returned = [], []
            for item in placed:
                if item.fulfilment == Fulfilment.PICKUP:
                    ready = item.placed_at + timedelta(hours=rng.randint(2, 30))
                    collected = ready + timedelta(hours=rng.lognormvariate(3, 0.8))
                    expired = rng.random() < 0.08
                    status = (
                        PickupStatus.EXPIRED
                        if expired and ready + timedelta(days=7) < now
                        else PickupStatus.COLLECTED
                        if collected < now
                        else PickupStatus.READY
                    )
                    pickups.append(
                        Pickup(
                            order=item,
                            store=rng.choice(stores),
                            status=status,
                            ready_at=ready,
                            hold_until=ready + timedelta(days=7),
                            collected_at=collected if status == PickupStatus.COLLECTED else None,
                            created_at=item.placed_at,
                        )
                    )
                if rng.random() < 0.08:
                    returned.append(item)
            Pickup.objects.bulk_create(pickups)
            lines = OrderLine.objects.bulk_create(
                OrderLine(
                    order=item, sku="SKU", name="Item", quantity=2, unit_price=10, line_total=20
                )
                for item in returned
            )
            backs = []
            for item, line in zip(returned, lines, strict=True):
                completed = item.placed_at + timedelta(days=rng.randint(2, 40))
                backs.append(
                    (
                        Return(
                            number=f"RB{item.number}",
                            customer_id=item.customer_id,
                            order=item,
                            channel=rng.choice([Channel.STORE, Channel.STORE, Channel.WEB]),
                            store=rng.choice(stores) if rng.random() < 0.9 else None,
                            status=ReturnStatus.COMPLETED
                            if completed < now
                            else ReturnStatus.AWAITING_ITEMS,
                            created_at=completed - timedelta(days=1),
                            completed_at=completed if completed < now else None,
                        ),
                        line,
                    )
                )
            Return.objects.bulk_create(back for back, _line in backs)
            ReturnLine.objects.bulk_create(
                ReturnLine(
                    return_request=back,
                    order_line=line,
                    quantity=rng.randint(1, 2),
                    reason=rng.choice(list(ReturnReason)),
                    condition="resellable",
                )
                for back, line in backs
            )

    timed(f"{3 * inquiries:,} orders with pickups and returns", orders)

    def snapshots() -> None:
        today = timezone.localdate(now)
        days = [
            BacklogSnapshot(day=today - timedelta(days=n), taken_at=now - timedelta(days=n))
            for n in range(HISTORY_DAYS)
        ]
        BacklogSnapshot.objects.bulk_create(days)
        places = [None, *stores]
        BacklogCount.objects.bulk_create(
            (
                BacklogCount(
                    snapshot=snapshot,
                    day=snapshot.day,
                    queue=queue,
                    store=store,
                    open=rng.randint(0, 40 if store is None else 4),
                    unanswered=0,
                    overdue=0,
                )
                for snapshot in days
                for queue in queues
                for store in places
            ),
            batch_size=BATCH,
        )

    timed(f"{HISTORY_DAYS} days of backlog snapshots", snapshots)
    return timings


def measure(repeat: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from crm.models import BacklogCount
    from crm.reports.base import ReportScope
    from crm.reports.dashboards import DASHBOARDS
    from orders.models import Order, Pickup, Return
    from stores.models import Store
    from tickets.models import Inquiry

    now = timezone.now()
    today = timezone.localdate(now)
    one_store = Store.objects.order_by("pk").values_list("pk", flat=True).first()

    def scope(days: int, stores: tuple[int, ...] | None) -> ReportScope:
        first = today - timedelta(days=days - 1)
        zone = timezone.get_current_timezone()
        return ReportScope(
            first_day=first,
            last_day=today,
            start=datetime.combine(first, datetime.min.time(), tzinfo=zone),
            end=datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=zone),
            now=now,
            store_ids=stores,
        )

    cases = [
        ("30 days, all stores", scope(30, None), True),
        ("30 days, one store", scope(30, (one_store,) if one_store else ()), True),
        ("365 days, all stores", scope(365, None), False),
    ]
    print(
        f"\n{Inquiry.objects.count():,} inquiries, {Order.objects.count():,} orders, "
        f"{Pickup.objects.count():,} pickups, {Return.objects.count():,} returns, "
        f"{BacklogCount.objects.count():,} backlog counts"
    )
    version = connection.pg_version  # type: ignore[attr-defined]
    print(
        f"PostgreSQL {version // 10000}.{version % 100}; median of {repeat} runs after one warm-up"
    )
    header = ["report", "range", "ms", "queries", "rows", f"< {BUDGET_MS} ms"]
    table = [header]
    plans: dict[str, tuple[str, str]] = {}
    failures = 0
    for dashboard in DASHBOARDS.values():
        for report in dashboard.reports:
            name = report.function.__name__
            for label, case, judged in cases:
                report.function(case)  # warm-up
                times = []
                for _ in range(repeat):
                    with CaptureQueriesContext(connection) as queries:
                        started = time.perf_counter()
                        charts = report.function(case)
                        times.append(1000 * (time.perf_counter() - started))
                ms = statistics.median(times)
                cells = sum(len(chart.labels) * len(chart.series) for chart in charts)
                ok = ms < BUDGET_MS
                failures += judged and not ok
                verdict = ("pass" if ok else "FAIL") if judged else ("(pass)" if ok else "(over)")
                table.append([name, label, f"{ms:.0f}", str(len(queries)), str(cells), verdict])
                if label == cases[0][0]:
                    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
                    plans[name] = (slowest["sql"], slowest["time"])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print("\nrows: the values drawn (labels x series). The 365-day row is shown, not judged.")
    for name, (query, _seconds) in plans.items():
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {query}")
            lines = [line for (line,) in cursor.fetchall()]
        print(f"\nEXPLAIN ANALYZE, {name} (30 days, all stores), its slowest query:")
        shown = [
            line
            for line in lines
            if any(word in line for word in ("Scan", "Execution", "Join", "Aggregate"))
        ]
        for line in shown[:14]:
            print(f"  {line.rstrip()}")
    if failures:
        sys.exit(f"\n{failures} report(s) over {BUDGET_MS} ms.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inquiries", type=int, default=200_000)
    parser.add_argument("--reuse", action="store_true", help="measure the data already there")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per report and range")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    url = bench_database_url()
    bench_search_360.database_create(url, fresh=not args.reuse)
    bench_search_360.django_setup(url)

    from django.core.management import call_command
    from django.db import connection

    from tickets.models import Inquiry

    call_command("migrate", verbosity=0)
    made = declared_indexes_ensure()
    if made:
        print(
            f"Created indexes declared on the models but not in a migration yet: {', '.join(made)}"
        )
    if args.reuse and Inquiry.objects.exists():
        print("Reusing the data already generated (--inquiries is ignored with --reuse).")
    else:
        print(
            f"Generating {args.inquiries:,} inquiries and the rest into {urlsplit(url).path[1:]}:"
        )
        generate(args.inquiries, args.seed)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            # Fresh tables have no planner statistics, and index-only scans need the visibility map.
            cursor.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE: {time.perf_counter() - started:.0f} s")
    measure(args.repeat)


if __name__ == "__main__":
    main()

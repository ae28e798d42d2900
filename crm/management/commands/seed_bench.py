"""`manage.py seed_bench --customers N [--stores S] [--seed X] [--force]`: the benchmark data set.

Stores, catalogue, staff logins and the service desk are written like seed_demo's; the customers
and everything they did are generated in chunks and streamed in with COPY, with the loaded tables'
secondary indexes and foreign keys set aside until the end (see crm.bench).
"""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from crm import demo
from crm.bench.generator import (
    COLUMNS,
    MAX_CUSTOMERS,
    TABLES,
    BenchWorld,
    Generator,
    Product,
)
from crm.bench.insights import insights_copy
from crm.bench.loader import (
    analyze,
    copy_rows,
    indexes_restore,
    indexes_set_aside,
    sequences_reset,
)
from crm.demo.knowledge import knowledge_write
from crm.demo.reports import backlog_history_write
from crm.demo.service_desk import teams_write
from crm.management.commands.seed_demo import DemoWorld, world_write
from crm.models import Role, User
from customers.models import Customer
from stores.models import StaffMembership, Store, StoreKind, StoreRole
from tickets.models import Queue, QueueMembership, SlaPolicy
from tickets.services.tally import open_inquiry_tally_compact

# Customers generated and copied per round trip: bounds the memory held at once.
CHUNK = 2000
MAX_STORES = 50
MIN_STORES = 6
# One store per this many customers, within MIN_STORES..MAX_STORES.
CUSTOMERS_PER_STORE = 20000
# Customers per insight batch: larger than the default, fewer round trips for the whole rebuild.
INSIGHT_BATCH = 2000


class Command(BaseCommand):
    help = (
        "Fill an empty PostgreSQL database with the benchmark data set: N customers with their "
        "contact points, orders, pickups, returns, inquiries, timelines and web activity over "
        "two years, 6 to 50 stores, the service desk and the demo logins. Prints how long each "
        "part took."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, required=True, help="How many customers.")
        parser.add_argument(
            "--stores",
            type=int,
            default=None,
            help=f"How many stores (default: one per {CUSTOMERS_PER_STORE:,} customers, "
            f"{MIN_STORES} to {MAX_STORES}).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run outside development too (it makes logins with the published demo password).",
        )

    def handle(
        self,
        *args: Any,
        customers: int,
        stores: int | None,
        seed: int,
        force: bool,
        **options: Any,
    ) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                f"seed_bench loads with PostgreSQL's COPY; this database is {connection.vendor}. "
                "Point DATABASE_URL at a PostgreSQL database."
            )
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_bench makes logins with a published password, so it runs only in "
                "development (DJANGO_DEBUG=true), or with --force."
            )
        if not 1 <= customers <= MAX_CUSTOMERS:
            raise CommandError(f"--customers must be between 1 and {MAX_CUSTOMERS:,}.")
        store_count = stores or min(
            MAX_STORES, max(MIN_STORES, round(customers / CUSTOMERS_PER_STORE))
        )
        if not MIN_STORES <= store_count <= MAX_STORES:
            raise CommandError(f"--stores must be between {MIN_STORES} and {MAX_STORES}.")
        _check_empty()

        started = time.perf_counter()
        made = bench_load(
            customers=customers,
            stores=store_count,
            seed=seed,
            report=self._report if options["verbosity"] > 0 else _silent,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Benchmark data loaded in {time.perf_counter() - started:.1f} s (seed {seed}):"
            )
        )
        width = max(len(name) for name in made)
        for name, count in made.items():
            self.stdout.write(f"  {name:<{width}}  {count:>12,}")
        self.stdout.write(
            f"\nLogins (password {demo.DEMO_PASSWORD}): "
            + ", ".join(user.email for user in demo.USERS if user.login)
        )

    def _report(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()


def _silent(message: str) -> None:
    pass


def _check_empty() -> None:
    """The data set goes into an empty database only: never mixed with real data."""
    found = Customer.objects.count()
    if found:
        raise CommandError(
            f"The database already holds {found:,} customers. seed_bench fills an empty "
            "database only: create a new one (createdb, then `manage.py migrate`)."
        )
    held = [
        name
        for name, exists in (
            ("stores", Store.objects.exists()),
            ("the demo logins", User.objects.filter(email__in=_demo_emails()).exists()),
        )
        if exists
    ]
    if held:
        raise CommandError(
            f"The database already holds {' and '.join(held)}. seed_bench fills an empty "
            "database only: create a new one (createdb, then `manage.py migrate`)."
        )


def _demo_emails() -> list[str]:
    return [user.email for user in demo.USERS]


@contextmanager
def _timed(report: Callable[[str], None], label: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    report(f"  {label:<34} {time.perf_counter() - started:8.1f} s")


def bench_load(
    *, customers: int, stores: int, seed: int, report: Callable[[str], None]
) -> dict[str, int]:
    """Write the data set and return the row count of each loaded table."""
    now = timezone.now()
    with transaction.atomic():
        with _timed(report, "stores, catalogue, staff, desk"):
            world = _world_write(stores=stores, now=now.timestamp())
        with _timed(report, "indexes and foreign keys dropped"):
            aside = indexes_set_aside(connection, TABLES)
        generator = Generator(world, seed=seed)
        generating = copying = 0.0
        counts = dict.fromkeys(TABLES, 0)
        for first in range(1, customers + 1, CHUNK):
            began = time.perf_counter()
            rows = generator.chunk(first, min(CHUNK, customers + 1 - first))
            copied = time.perf_counter()
            for table in TABLES:
                if rows[table]:
                    copy_rows(connection, table, COLUMNS[table], rows[table])
                    counts[table] += len(rows[table])
            done = time.perf_counter()
            generating += copied - began
            copying += done - copied
            last = min(first + CHUNK - 1, customers)
            if last % (50 * CHUNK) == 0 or last == customers:
                report(
                    f"  {last:>12,} of {customers:,} customers "
                    f"(generating {generating:.0f} s, copying {copying:.0f} s)"
                )
        report(f"  {'generating rows':<34} {generating:8.1f} s")
        report(f"  {'COPY':<34} {copying:8.1f} s")
        with _timed(report, f"{aside.count} indexes and keys re-created"):
            indexes_restore(connection, aside)
        sequences_reset(connection, TABLES)
        # The portal login is the first customer, as in the demo.
        Customer.objects.filter(pk=1).update(user=User.objects.get(email=_portal_email()))
    with _timed(report, "open-inquiry tally compacted"):
        open_inquiry_tally_compact()
    with _timed(report, "VACUUM and ANALYZE"):
        analyze(connection, TABLES)
    with _timed(report, "backlog snapshots"):
        backlog_history_write(now=timezone.now())
    with _timed(report, "insights computed"):
        insights_copy(now=now, batch_size=INSIGHT_BATCH, processes=os.cpu_count() or 1)
    with _timed(report, "VACUUM and ANALYZE insights"):
        analyze(connection, ("customers_customerinsight", "crm_backlogcount"))
    return {table: counts[table] for table in TABLES} | {"stores": len(world.stores)}


def _portal_email() -> str:
    return next(user.email for user in demo.USERS if user.role == Role.CUSTOMER)


def _world_write(*, stores: int, now: float) -> BenchWorld:
    """The demo's stores, catalogue, staff and service desk, and more stores up to `stores`."""
    demo_world: DemoWorld = world_write()
    knowledge_write(author=demo_world.users["supervisor"])
    desk = teams_write(demo_world.users)
    reps = [user for user in demo_world.users.values() if user.role == Role.REP]
    for queue in desk.queues.values():
        QueueMembership.objects.bulk_create(
            (QueueMembership(queue=queue, user=rep) for rep in reps), ignore_conflicts=True
        )
    shops = list(
        Store.objects.filter(kind=StoreKind.STORE).order_by("id").values_list("id", "name")
    )
    first = shops[0][0]
    more = [
        Store(
            code=f"bench-{number:02d}",
            name=f"Bench store {number:02d}",
            address_line1=f"{number} Market Street",
            city="Springfield",
            postcode=f"{60000 + number}",
            country="US",
            time_zone=settings.TIME_ZONE,
        )
        for number in range(len(shops) + 1, stores + 1)
    ]
    shops += [(store.pk, store.name) for store in Store.objects.bulk_create(more)]
    managers: dict[int, int] = {}
    for store_id, user_id in StaffMembership.objects.filter(role=StoreRole.MANAGER).values_list(
        "store_id", "user_id"
    ):
        managers.setdefault(store_id, user_id)
    policies = list(
        SlaPolicy.objects.values_list(
            "queue_id", "priority", "first_response_minutes", "resolution_minutes"
        )
    )
    return BenchWorld(
        now=now,
        stores=[pk for pk, _ in shops],
        busy_store=first,
        store_names=dict(shops),
        managers=managers,
        products=[
            Product(p.pk, p.sku, p.name, int(p.price * 100)) for p in demo_world.products.values()
        ],
        queues=dict(Queue.objects.values_list("slug", "id")),
        reps=[rep.pk for rep in reps],
        first_response_minutes={(q, p): first for q, p, first, _ in policies},
        resolution_minutes={(q, p): resolution for q, p, _, resolution in policies},
    )

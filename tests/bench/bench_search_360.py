"""Benchmark: customer search and the customer 360 page on a large data set.

Seeds N customers (default 100,000) with seed_demo into a PostgreSQL database of its own
(crm_bench on the server of DATABASE_URL, or BENCH_DATABASE_URL), then requests pages through
Django's test client, signed in as the demo rep, and prints p50/p95 response times and SQL queries
per request for:
  - search by name prefix, e-mail, phone typed in another format, loyalty card and order number,
    each over a few hundred real identifiers picked at random;
  - the 360 page of random customers, and of the customer with the longest history.

    .venv/bin/python tests/bench/bench_search_360.py [--customers N] [--reuse] [--samples N]

Without --reuse the database is dropped and seeded afresh; with it, data already seeded there is
measured again. Every measurement has a sample count and a time budget, so the script ends by
itself.
"""

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench"
REP = "rep@demo.example.com"
BUDGET_SECONDS = 90  # per measured request kind
WARM_UP = 20


def bench_database_url() -> str:
    """BENCH_DATABASE_URL, else a crm_bench database on DATABASE_URL's server, else local."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    if os.environ.get("DATABASE_URL"):
        return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/crm_bench"))
    return DEFAULT_URL


def database_create(url: str, *, fresh: bool) -> None:
    """Create the benchmark database; with `fresh`, drop it first. Only a database whose name
    says it is for benchmarks is ever dropped."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"Refusing to use {name!r}: the benchmark database's name must contain 'bench'.")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        if fresh or not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_setup(url: str) -> None:
    """Development settings on the benchmark database alone (no reports replica), with Celery
    tasks run in-process."""
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_DEBUG="true",
        DJANGO_SETTINGS_MODULE="crm.settings",
        DJANGO_SECRET_KEY="benchmark-only-not-secret",
        DJANGO_LOG_LEVEL="WARNING",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("CRM_REPORTS_DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@dataclass
class Sample:
    ms: float
    queries: int
    found: bool


@dataclass
class Row:
    label: str
    samples: list[Sample]

    def cells(self) -> list[str]:
        times = sorted(s.ms for s in self.samples)
        queries = sorted(s.queries for s in self.samples)
        return [
            self.label,
            f"{len(times)}",
            f"{100 * sum(s.found for s in self.samples) / len(times):.0f}%",
            f"{_percentile(times, 50):.1f}",
            f"{_percentile(times, 95):.1f}",
            f"{times[-1]:.1f}",
            f"{_percentile(queries, 50):.0f} / {queries[-1]}",
        ]


def _percentile(values: list[float] | list[int], percent: int) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, round(percent / 100 * len(values)))
    return float(values[rank - 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="measure data already seeded")
    parser.add_argument("--samples", type=int, default=300, help="requests per search kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    url = bench_database_url()
    database_create(url, fresh=not args.reuse)
    django_setup(url)

    from django.core.management import call_command
    from django.db import connections

    from crm.management.commands.seed_demo import SEED_ACTION
    from crm.models import AuditEntry
    from customers.models import Customer

    call_command("migrate", verbosity=0)
    seeding = ""
    if args.reuse and AuditEntry.objects.filter(action=SEED_ACTION).exists():
        print("Reusing the data already seeded (--customers is ignored with --reuse).")
    else:
        if Customer.objects.exists():
            # A seed that stopped half-way: start again from an empty database.
            connections.close_all()
            database_create(url, fresh=True)
            call_command("migrate", verbosity=0)
        started = time.perf_counter()
        call_command("seed_demo", customers=args.customers, seed=args.seed)
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        with connections["default"].cursor() as cursor:
            # Fresh tables have no planner statistics yet; autovacuum would gather them soon.
            cursor.execute("VACUUM ANALYZE")
        seeding = f"seeded in {seeded:.0f} s, VACUUM ANALYZE {time.perf_counter() - started:.0f} s"
    measure(args.samples, args.seed, seeding, urlsplit(url).path.lstrip("/"))


def measure(samples: int, seed: int, seeding: str, database: str) -> None:
    import phonenumbers
    from django.db import connection, reset_queries
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crm.models import User
    from customers.models import Activity, ContactKind, ContactPoint, Customer
    from orders.models import Order

    rng = random.Random(seed)
    client = Client()
    client.force_login(User.objects.get(email=REP))

    def request(path: str, params: dict[str, str] | None = None) -> tuple[float, int, Any]:
        reset_queries()  # DEBUG keeps the last 9,000 queries; counting needs room after them
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path, params)
            ms = 1000 * (time.perf_counter() - started)
        if response.status_code not in {200, 302}:
            raise SystemExit(f"GET {path} {params or ''} answered {response.status_code}")
        return ms, len(queries.captured_queries), response

    def run(label: str, cases: list[tuple[str, dict[str, str] | None, int]]) -> Row:
        """Each case: path, query, the customer id the page should lead to."""
        for path, params, _ in cases[:WARM_UP]:
            request(path, params)
        measured: list[Sample] = []
        deadline = time.monotonic() + BUDGET_SECONDS
        for path, params, customer_id in cases:
            ms, count, response = request(path, params)
            target = f"/customers/{customer_id}/"
            found = (
                response.url == target
                if response.status_code == 302
                else path == target or target in response.content.decode()
            )
            measured.append(Sample(ms, count, found))
            if time.monotonic() > deadline:
                break
        return Row(label, measured)

    def picks(rows: Iterator[tuple[Any, int]]) -> list[tuple[Any, int]]:
        values = list(rows)
        return rng.sample(values, min(samples, len(values)))

    search = "/customers/"
    points = ContactPoint.objects.filter(customer__merged_into__isnull=True)

    def by_kind(kind: str, typed: Callable[[str], str]) -> list[tuple[str, dict[str, str], int]]:
        rows = points.filter(kind=kind).values_list("value", "customer_id").iterator()
        return [(search, {"q": typed(value)}, pk) for value, pk in picks(rows)]

    def national(e164: str) -> str:
        return phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL
        )

    live = Customer.objects.filter(merged_into__isnull=True)
    named = live.exclude(first_name="").exclude(last_name="")
    names = picks(
        ((f"{first} {last[:3]}", pk) for first, last, pk in
         named.values_list("first_name", "last_name", "pk").iterator())
    )  # fmt: skip
    orders = picks(Order.objects.values_list("number", "customer_id").iterator())
    customer_ids = picks((pk, pk) for pk in live.values_list("pk", flat=True).iterator())
    longest = (
        Activity.objects.values("customer").annotate(n=Count("pk")).order_by("-n", "customer")[0]
    )

    rows = [
        run("search: name prefix", [(search, {"q": q}, pk) for q, pk in names]),
        run("search: e-mail", by_kind(ContactKind.EMAIL, str.upper)),
        run("search: phone, other format", by_kind(ContactKind.PHONE, national)),
        run("search: loyalty card",
            by_kind(ContactKind.LOYALTY, lambda v: f"{v[:2]}-{v[2:6]}-{v[6:]}".lower())),
        run("search: order number", [(search, {"q": n.lower()}, pk) for n, pk in orders]),
        run("360 page: random customers",
            [(f"/customers/{pk}/", None, pk) for pk, _ in customer_ids]),
        run(f"360 page: longest history ({longest['n']:,} entries)",
            [(f"/customers/{longest['customer']}/", None, longest["customer"])] * 100),
    ]  # fmt: skip

    sizes = (
        f"{Customer.objects.count():,} customers, {Order.objects.count():,} orders, "
        f"{Activity.objects.count():,} timeline entries"
    )
    print(f"\n{database}: {sizes}" + (f" ({seeding})" if seeding else ""))
    version = connection.pg_version  # type: ignore[attr-defined]
    print(f"Django test client signed in as {REP}, PostgreSQL {version // 10000}.{version % 100}.")
    header = ["request", "n", "found", "p50 ms", "p95 ms", "max ms", "queries p50 / max"]
    table = [header] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main()

"""Benchmark: order ingestion through the REST API, against gunicorn on PostgreSQL.

Creates a PostgreSQL database of its own (crm_bench_api on the server of DATABASE_URL, or
BENCH_API_DATABASE_URL), migrates it and seeds what orders need (two stores, a warehouse, 50
products with stock, an integration token), starts gunicorn with the production settings (2
workers, DEBUG off, Redis broker, an SMTP server nobody listens on), then measures for --seconds
each:
  - single: POST /api/v1/orders/ with an Idempotency-Key, from --threads concurrent clients
    (target ≥ 100 orders/s);
  - bulk: POST /api/v1/orders/bulk/ with 1,000 orders each (target ≥ 500 orders/s).
Every order has its own external id and customer. At the end the orders in the database are
counted: each acknowledged order is stored exactly once.

    .venv/bin/python tests/bench/bench_api.py [--seconds 20] [--threads 4] [--bulk-size 1000]

The broker is Redis database --redis-db (default 9), whose "celery" queue is emptied at the
end: no worker runs during the benchmark. Requests go only to 127.0.0.1; each phase stops at
its deadline (a request already sent is waited for, at most --timeout seconds) and gunicorn is
stopped at the end.
"""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_api"
SINGLE_TARGET = 100.0
BULK_TARGET = 500.0
PRODUCTS = 50


def bench_database_url() -> str:
    """BENCH_API_DATABASE_URL, else crm_bench_api on DATABASE_URL's server, else local."""
    if os.environ.get("BENCH_API_DATABASE_URL"):
        return os.environ["BENCH_API_DATABASE_URL"]
    if os.environ.get("DATABASE_URL"):
        return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/crm_bench_api"))
    return DEFAULT_URL


def database_create(url: str) -> None:
    """Drop and create the benchmark database. Only a database whose name says it is for
    benchmarks is ever dropped."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"Refusing to use {name!r}: the benchmark database's name must contain 'bench'.")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def seed(url: str) -> str:
    """Migrate and seed the database in this process (development settings); return the raw
    secret of an integration token that may write every channel and store."""
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_DEBUG="true",
        DJANGO_SETTINGS_MODULE="crm.settings",
        DJANGO_SECRET_KEY="benchmark-only-not-secret",
        DJANGO_LOG_LEVEL="WARNING",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connections

    from crm.models import Channel, Role, Scope, User
    from crm.services import token_create
    from orders.models import Category, Product
    from stores.models import StockAction, Store, StoreKind
    from stores.services import stock_adjust

    call_command("migrate", verbosity=0)
    admin = User.objects.create_user(email="bench-admin@example.com", role=Role.ADMIN)
    category = Category.objects.create(name="Bench", slug="bench")
    locations = [
        Store.objects.create(code=code, name=name, address_line1="1 Main St", city="SF",
                             postcode="94100", kind=kind)
        for code, name, kind in [
            ("st01", "Union Square", StoreKind.STORE),
            ("st02", "Mission", StoreKind.STORE),
            ("wh01", "Warehouse", StoreKind.WAREHOUSE),
        ]
    ]  # fmt: skip
    for n in range(PRODUCTS):
        product = Product.objects.create(
            sku=f"BENCH-{n:03d}", name=f"Product {n}", category=category, price=Decimal("19.90")
        )
        for location in locations:
            stock_adjust(
                store=location, product=product, action=StockAction.RECEIVE, quantity=1_000_000
            )
    _, raw = token_create(
        name="Benchmark",
        scopes=[Scope.ORDERS_READ, Scope.ORDERS_WRITE],
        actor=admin,
        channels=list(Channel.values),
        stores=[],
        all_stores=True,
    )
    connections.close_all()
    return raw


def start_gunicorn(url: str, port: int, redis_db: int) -> subprocess.Popen[bytes]:
    env = os.environ.copy()
    env.pop("DJANGO_DEBUG", None)
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SETTINGS_MODULE="crm.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=url,
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{redis_db}",
        # Nobody listens there: mail that would be sent fails in the (absent) worker.
        EMAIL_URL=f"smtp://127.0.0.1:{free_port()}",
        DJANGO_SECURE_SSL_REDIRECT="false",
        CRM_API_TOKEN_RATE="1000000/minute",
        DJANGO_LOG_LEVEL="WARNING",
    )
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "crm.wsgi:application",
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            "--timeout=300",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def wait_ready(base: str, headers: dict[str, str], server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}")
        try:
            if requests.get(f"{base}/api/v1/orders/", headers=headers, timeout=5).ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or its workers still booting on a busy machine
        time.sleep(0.5)
    sys.exit("gunicorn did not answer within 60 s")


def order(index: str) -> dict[str, Any]:
    """One web order of a new customer, with its own external id."""
    n = int(uuid.UUID(index).int % PRODUCTS)
    return {
        "external_source": "bench",
        "external_id": index,
        "customer": {"email": f"c-{index}@bench.example.com", "first_name": "Bench"},
        "channel": "web",
        "lines": [
            {"sku": f"BENCH-{n:03d}", "quantity": 1},
            {"sku": f"BENCH-{(n + 7) % PRODUCTS:03d}", "quantity": 2},
        ],
    }


@dataclass
class Phase:
    label: str
    target: float
    requests: int = 0
    orders: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, latency: float, stored: int, failed: int) -> None:
        with self.lock:
            self.requests += 1
            self.orders += stored
            self.errors += failed
            self.latencies.append(latency)

    @property
    def rate(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0

    def cells(self) -> list[str]:
        times = sorted(self.latencies) or [0.0]
        return [
            self.label,
            f"{self.requests}",
            f"{self.orders}",
            f"{self.errors}",
            f"{self.seconds:.1f}",
            f"{self.rate:.1f}",
            f"{times[len(times) // 2] * 1000:.0f}",
            f"{times[min(len(times) - 1, int(len(times) * 0.95))] * 1000:.0f}",
            f"≥ {self.target:.0f}",
            "pass" if self.rate >= self.target and not self.errors else "FAIL",
        ]


def run_phase(phase: Phase, threads: int, seconds: float, send: Any, timeout: float) -> None:
    deadline = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                stored, failed = send(session, timeout)
            except requests.RequestException:
                stored, failed = 0, 1
            phase.add(time.perf_counter() - started, stored, failed)

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    phase.seconds = time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients")
    parser.add_argument("--bulk-size", type=int, default=1000, help="orders per bulk request")
    parser.add_argument("--redis-db", type=int, default=9, help="Redis database for the broker")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per request, at most")
    args = parser.parse_args()

    url = bench_database_url()
    database_create(url)
    raw = seed(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {raw}", "Content-Type": "application/json"}
    server = start_gunicorn(url, port, args.redis_db)
    try:
        wait_ready(base, headers, server)
        import json

        def single(session: requests.Session, timeout: float) -> tuple[int, int]:
            body = json.dumps(order(str(uuid.uuid4())))
            response = session.post(
                f"{base}/api/v1/orders/",
                data=body,
                headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
                timeout=timeout,
            )
            return (1, 0) if response.status_code == 201 else (0, 1)

        def bulk(session: requests.Session, timeout: float) -> tuple[int, int]:
            items = [order(str(uuid.uuid4())) for _ in range(args.bulk_size)]
            response = session.post(
                f"{base}/api/v1/orders/bulk/",
                data=json.dumps({"items": items}),
                headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
                timeout=timeout,
            )
            if response.status_code != 207:
                return 0, args.bulk_size
            statuses = [result["status"] for result in response.json()["results"]]
            stored = sum(status == 201 for status in statuses)
            return stored, len(statuses) - stored

        phases = [
            Phase("single POST /orders/", SINGLE_TARGET),
            Phase(f"bulk POST /orders/bulk/ ({args.bulk_size}/request)", BULK_TARGET),
        ]
        run_phase(phases[0], args.threads, args.seconds, single, args.timeout)
        run_phase(phases[1], args.threads, args.seconds, bulk, args.timeout)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        # No worker runs here: drop the tasks the orders queued (merge suggestions and such).
        redis.Redis.from_url(f"redis://127.0.0.1:6379/{args.redis_db}").delete("celery")

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT external_id) FROM orders_order"
        ).fetchone()
    stored, distinct = row if row else (0, 0)
    acknowledged = sum(phase.orders for phase in phases)

    print(f"\n{urlsplit(url).path.lstrip('/')}: gunicorn, 2 workers, DEBUG off, "
          f"{args.threads} client threads, {args.seconds:g} s per phase, Idempotency-Key on "
          "every POST.")  # fmt: skip
    header = ["request", "requests", "orders", "errors", "s", "orders/s", "p50 ms", "p95 ms",
              "target", "result"]  # fmt: skip
    table = [header] + [phase.cells() for phase in phases]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
        )
    print(
        f"Orders acknowledged {acknowledged}, stored {stored}, distinct external ids {distinct}: "
        + ("each stored once." if acknowledged == stored == distinct else "MISMATCH.")
    )


if __name__ == "__main__":
    main()

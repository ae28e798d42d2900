"""Load: a bounded locust run on loopback that mixes what shoppers, the web shop, reps and store
managers do at once, against gunicorn and real Celery workers on PostgreSQL and Redis.

A database of its own (crm_bench_load on DATABASE_URL's server, or LOAD_DATABASE_URL) is dropped,
created and seeded with seed_demo. gunicorn runs with the production settings (2 workers, DEBUG
off, the cache in Redis, one proxy in front), Celery workers deliver to an SMTP server on loopback,
and locust (tests/load/locustfile.py) runs --users for --seconds:
  - shoppers write in through the web form, each from an address of her own, and look up
    inquiries on their tracking pages;
  - the web shop posts orders through the API with Idempotency-Keys, a quarter of them twice;
  - reps open customers' 360 pages; store managers add comments to them.
Then the script waits for the workers to drain the queue and checks the promises:
  - no answer was a 5xx or a broken connection;
  - the queue drained, and every inquiry the web form accepted is stored and routed;
  - acknowledgements = eligible inquiries (each from a first-time address here), none twice;
  - every order the API answered 201 is stored once, the repeated POSTs included;
  - every comment the 360 page showed as added is stored once.
A promise about work that never happened in the run counts as broken. It prints its figures and
exits non-zero when a promise breaks; every phase has a deadline.

    .venv/bin/python tests/load/load_mix.py [--seconds 60] [--users 12] [--workers 2]
        [--customers 300] [--redis-db 6]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench import bench_pages, bench_search_360  # noqa: E402

MAIL_DOMAIN = "load.example.org"
DRAIN_SECONDS = 180.0


def database_url() -> str:
    if url := os.environ.get("LOAD_DATABASE_URL"):
        return url
    base = urlsplit(os.environ.get("DATABASE_URL") or bench_search_360.DEFAULT_URL)
    return urlunsplit(base._replace(path="/crm_bench_load"))


def plan(samples: int) -> dict[str, object]:
    """Ids and logins from the seeded database, and an API token for the web shop."""
    from crm.models import Channel, Role, Scope, User
    from crm.services import token_create
    from customers.models import Customer
    from orders.models import Product
    from tickets.models import Inquiry

    password, rep, manager, _ = bench_pages.logins()
    admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
    if admin is None:
        raise SystemExit("The seeded database has no admin to issue the web shop's token.")
    _, raw = token_create(
        name="Load: web shop",
        scopes=[Scope.ORDERS_READ, Scope.ORDERS_WRITE],
        actor=admin,
        channels=[Channel.WEB],
        all_stores=True,
    )
    live = Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    return {
        "password": password,
        "rep": rep,
        "manager": manager,
        "api_token": raw,
        "mail_domain": MAIL_DOMAIN,
        "customers": list(live.order_by("?").values_list("pk", flat=True)[:samples]),
        "tracking_tokens": list(
            Inquiry.objects.order_by("?").values_list("tracking_token", flat=True)[:samples]
        ),
        "skus": list(Product.objects.filter(is_active=True).values_list("sku", flat=True)[:50]),
    }


def run_locust(port: int, plan_file: Path, result_file: Path, users: int, seconds: float) -> None:
    env = os.environ.copy()
    env.update(LOAD_PLAN=str(plan_file), LOAD_RESULT=str(result_file))
    subprocess.run(
        [str(ROOT / ".venv/bin/locust"), "-f", str(ROOT / "tests/load/locustfile.py"),
         "--headless", f"--users={users}", f"--spawn-rate={users}", f"--run-time={seconds:g}s",
         f"--host=http://127.0.0.1:{port}", "--only-summary", "--stop-timeout=10",
         "--loglevel=WARNING", "--skip-log-setup"],
        cwd=ROOT, env=env, check=False, timeout=seconds + 120, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    if not result_file.exists():
        raise SystemExit("locust wrote no result.")


def wait_drained(redis_db: int, addresses: list[str], sink: bench_pages.Sink) -> float:
    """Seconds until the queue is empty, every accepted inquiry is routed and each acknowledged
    (or the deadline passed)."""
    import redis

    from tickets.models import Inquiry

    queue = redis.Redis.from_url(f"redis://127.0.0.1:6379/{redis_db}")
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_SECONDS:
        unrouted = Inquiry.objects.filter(
            requester_email__in=addresses, routed_at__isnull=True
        ).exists()
        if not queue.llen("celery") and not unrouted and set(addresses) <= set(sink.delivered):
            break
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    time.sleep(2)  # room for a duplicate, were one coming
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the locust run")
    parser.add_argument("--users", type=int, default=12, help="concurrent locust users")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--customers", type=int, default=300, help="seed_demo --customers")
    parser.add_argument("--redis-db", type=int, default=6, help="Redis database for the broker")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    scratch = Path(tempfile.mkdtemp(prefix="crm-load-"))
    # Static files of its own: a benchmark may be collecting them into the default place.
    os.environ["CRM_STATIC_ROOT"] = str(scratch / "static")
    url = database_url()
    bench_pages.progress(f"seeding {urlsplit(url).path.lstrip('/')}: seed_demo")
    bench_pages.seed(url, "seed_demo", args.customers)
    bench_search_360.django_setup(url)
    facts = plan(samples=200)
    from django.db import connections

    connections.close_all()
    bench_pages.purge_queue(args.redis_db)

    sink = bench_pages.Sink()
    env = bench_pages.production_env(url, args.redis_db, sink.port)
    workers = bench_pages.Workers(env, f"redis://127.0.0.1:6379/{args.redis_db}")
    try:
        workers.start(args.workers)
        with bench_pages.gunicorn(url, args.redis_db, env) as port:
            facts["rep_cookie"] = bench_pages.sign_in(
                port, str(facts["rep"]), str(facts["password"])
            )
            facts["manager_cookie"] = bench_pages.sign_in(
                port, str(facts["manager"]), str(facts["password"])
            )
            (scratch / "plan.json").write_text(json.dumps(facts))
            bench_pages.progress(f"locust: {args.users} users for {args.seconds:g} s")
            run_locust(port, scratch / "plan.json", scratch / "result.json", args.users,
                       args.seconds)  # fmt: skip
            result = json.loads((scratch / "result.json").read_text())
            bench_pages.progress("waiting for the workers to drain the queue")
            drained = wait_drained(args.redis_db, result["inquiries"], sink)
    finally:
        workers.stop()
        sink.stop()
        bench_pages.purge_queue(args.redis_db)
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(report(result, sink, drained, args))


def report(result: dict, sink: bench_pages.Sink, drained: float, args: argparse.Namespace) -> int:
    """Print the figures and the promises; the number of promises broken."""
    import redis

    from customers.models import Comment
    from orders.models import Order
    from tickets.models import Inquiry

    print(
        f"\nlocust, {args.users} users for {result['seconds']:.0f} s; gunicorn 2 workers, "
        f"{args.workers} Celery workers; queue drained {drained:.1f} s after the run"
    )
    header = ["request", "requests", "p50 ms", "p95 ms", "answers"]
    rows = [header]
    for name, counts in sorted(result["statuses"].items()):
        latency = result["latencies"].get(name, {})
        rows.append([name, str(sum(counts.values())), f"{latency.get('p50', 0):.0f}",
                     f"{latency.get('p95', 0):.0f}",
                     ", ".join(f"{n}× {code}" for code, n in sorted(counts.items()))])  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))

    addresses = result["inquiries"]
    inquiries = Inquiry.objects.filter(requester_email__in=addresses)
    routed = inquiries.filter(routed_at__isnull=False).count()
    delivered = Counter(address for address in sink.received if address.endswith(f"@{MAIL_DOMAIN}"))
    orders = Counter(
        Order.objects.filter(external_source="load").values_list("external_id", flat=True)
    )
    comments = Counter(
        Comment.objects.filter(body__startswith="Load comment").values_list("body", flat=True)
    )
    failures = {
        f"{name}: {n}× {code}"
        for name, counts in result["statuses"].items()
        for code, n in counts.items()
        if code == "connection error" or code.startswith("5")
    }
    queued = redis.Redis.from_url(f"redis://127.0.0.1:6379/{args.redis_db}").llen("celery")
    promises = [
        ("no 5xx and no broken connection", not failures, ", ".join(sorted(failures))),
        ("the queue drained", drained < DRAIN_SECONDS and not queued, f"{queued} tasks left"),
        ("every accepted inquiry stored and routed",
         0 < inquiries.count() == len(addresses) == routed,
         f"{len(addresses)} accepted, {inquiries.count()} stored, {routed} routed"),
        ("acknowledgements = eligible inquiries, none twice",
         addresses and set(delivered) == set(addresses) and all(n == 1 for n in delivered.values()),
         f"{len(addresses)} eligible, {sum(delivered.values())} acknowledgements to "
         f"{len(delivered)} addresses"),
        ("every order answered 201 stored once",
         orders and set(orders) == set(result["orders"]) and all(n == 1 for n in orders.values()),
         f"{len(set(result['orders']))} orders answered 201 ({len(result['orders'])} answers), "
         f"{sum(orders.values())} stored"),
        ("every comment added stored once",
         comments and set(comments) == set(result["comments"])
         and all(n == 1 for n in comments.values()),
         f"{len(result['comments'])} added, {sum(comments.values())} stored"),
    ]  # fmt: skip
    print()
    for label, held, figures in promises:
        print(f"{'pass' if held else 'FAIL'}  {label}: {figures}")
    return sum(not held for _, held, _ in promises)


if __name__ == "__main__":
    main()

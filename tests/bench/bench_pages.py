"""Benchmark: every page reps, agents, store staff and customers wait on, and the e-mail and order
jobs, against gunicorn on a seeded PostgreSQL database, each measured against a bare view.

Runs on a database seeded by `manage.py seed_bench --customers N` or `manage.py seed_demo`
(BENCH_DATABASE_URL, else crm_bench on DATABASE_URL's server; --database-url overrides; with
--seed-bench N or --seed-demo N the database is dropped, created and seeded first). Identifiers are
picked from the data at random. gunicorn runs with the production settings (2 workers, DEBUG
off, persistent database connections, static files through whitenoise, the cache in Redis); a
load generator in a process of its own keeps 4 keep-alive connections busy on loopback for
--seconds per page (gunicorn's sync workers close each one after its answer, so a request may
include a reconnect, as behind a proxy that does not pool):
  - the bare floor view (/bench/floor), then the customer 360 page and customer search for each
    identifier kind (rep), the agent queue sorted by SLA due and the inquiry page (rep), the
    customer's tracking page, and the pickup counter (its ready tab, the longest) and returns desk
    of the store with the most open pickups (a member of its staff);
  - e-mail intake: raw MIME to /inbound/email/ from 4 concurrent senders;
  - acknowledgement latency: a steady 50 messages/s with 1 Celery worker process delivering to
    an SMTP server on loopback, from the intake's answer to the acknowledgement's delivery;
  - worker scaling: the rate at which 2 worker processes acknowledge a burst the intake
    accepted while they consumed nothing, against 1;
  - order ingestion: bench_api's single and bulk phases (its own database, <name>_api).
SQL queries per request are counted separately, through Django's test client. One table, with
pass/fail against the targets of issue 7, is printed at the end.

    .venv/bin/python tests/bench/bench_pages.py [--seconds 30] [--quick]
        [--seed-bench N | --seed-demo N]
        [--database-url URL] [--redis-db 8] [--pages-only | --jobs-only] [--save FILE]
        [--baseline FILE]

--save writes the measured p95s to a JSON file; --baseline compares with such a file from a
smaller data set (the growth target: 360 page and search within 1.5x). The intake phases add
inquiries (from *.bench.example.org senders) to the database they measure. Every phase has a
deadline, and gunicorn, the workers and the SMTP server are stopped at the end, whatever happens.
"""

import argparse
import concurrent.futures
import contextlib
import http.client
import io
import json
import multiprocessing
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from math import inf
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench import bench_api, bench_search_360  # noqa: E402

CONNECTIONS = 4
QUERY_SAMPLES = 5  # requests per page through the test client, for the query count
REQUEST_TIMEOUT = 30.0
ACK_RATE = 50.0  # messages/s for the latency phase
INTAKE_TARGET = 250.0
ACK_P95_TARGET_MS = 2000.0
SCALING_TARGET = 1.7
GROWTH_TARGET = 1.5
MAIL_DOMAIN = "bench.example.org"
SECRET = secrets.token_urlsafe(24)


@dataclass
class Page:
    label: str
    paths: list[str]
    login: str | None  # e-mail of the user signed in, or None for an anonymous visitor
    p95_ms: float | None = None
    max_queries: int | None = None
    queries: int | None = None
    growth: bool = False


@dataclass
class Load:
    """What the load generator measured for one page."""

    latencies: list[float]
    statuses: dict[int, int]
    seconds: float

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 400)


@dataclass
class Line:
    label: str
    n: str
    rate: str
    p50: str = ""
    p95: str = ""
    p99: str = ""
    queries: str = ""
    floor: str = ""
    target: str = ""
    result: str = ""

    def cells(self) -> list[str]:
        return [self.label, self.n, self.rate, self.p50, self.p95, self.p99, self.queries,
                self.floor, self.target, self.result]  # fmt: skip


STARTED = time.monotonic()


def progress(message: str) -> None:
    """What the run is doing, on stderr (the table alone goes to stdout)."""
    print(f"[{time.monotonic() - STARTED:5.0f} s] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(percent / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


# The load generator: runs in a process of its own (spawned), so it never shares a GIL with the
# measuring process or the SMTP server.


def generate_load(
    port: int, paths: list[str], cookie: str, seconds: float, warm_up: float, seed: int
) -> Load:
    """GET random paths over CONNECTIONS keep-alive connections for warm_up + seconds; only the
    requests started after the warm-up count. Each request comes from its own client address (a
    proxy in front says so), as visitors of a real site do: per-address rate limits stay out of
    the measurement."""
    started = time.perf_counter()
    measure_from = started + warm_up
    end = measure_from + seconds
    headers = {"Cookie": cookie} if cookie else {}
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def connection_loop(index: int) -> None:
        rng = random.Random(seed * 100 + index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        mine: list[float] = []
        codes: Counter[int] = Counter()
        while (begin := time.perf_counter()) < end:
            try:
                address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                conn.request(
                    "GET", rng.choice(paths), headers=headers | {"X-Forwarded-For": address}
                )
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    conn.close()  # the next request opens a new connection
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            if begin >= measure_from:
                mine.append(time.perf_counter() - begin)
                codes[status] += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=connection_loop, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Load(latencies, dict(statuses), max(time.perf_counter(), end) - measure_from)


def raw_message(tag: str, index: int) -> tuple[str, bytes]:
    """A new customer's first e-mail: its own sender and Message-ID."""
    sender = f"s{index}@{tag}.{MAIL_DOMAIN}"
    body = (
        f"From: Bench Sender {index} <{sender}>\r\n"
        "To: Customer Service <service@example.com>\r\n"
        f"Subject: Where is my order? ({index})\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@{tag}.{MAIL_DOMAIN}>\r\n"
        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Hello, I ordered a linen blazer last week and it has not arrived yet.\r\n"
        "Could you tell me where it is? Thanks.\r\n"
    )
    return sender, body.encode()


def send_mail(
    port: int, secret: str, tag: str, seconds: float, limit: int, rate: float | None
) -> list[tuple[str, float, int]]:
    """POST raw messages to /inbound/email/ from CONNECTIONS senders, flat out or paced at
    `rate` a second, until `seconds` pass or `limit` are sent. Returns (sender, wall-clock time
    of the answer, status) per message."""
    started = time.perf_counter()
    end = started + seconds
    counter = iter(range(limit))
    lock = threading.Lock()
    sent: list[tuple[str, float, int]] = []
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "message/rfc822"}

    def sender_loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            due = started + index / rate if rate else time.perf_counter()
            if due >= end:
                break
            time.sleep(max(0.0, due - time.perf_counter()))
            address, body = raw_message(tag, index)
            try:
                conn.request("POST", "/inbound/email/", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            with lock:
                sent.append((address, time.time(), status))
        conn.close()

    threads = [threading.Thread(target=sender_loop) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent


def run_bench_api(api_url: str, seconds: float, redis_db: int, bulk_size: int) -> str:
    """bench_api's order ingestion phases, in this (spawned) process; returns its report."""
    os.environ["BENCH_API_DATABASE_URL"] = api_url
    sys.argv = ["bench_api.py", f"--seconds={seconds}", f"--redis-db={redis_db}",
                f"--bulk-size={bulk_size}", f"--threads={CONNECTIONS}"]  # fmt: skip
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bench_api.main()
    return out.getvalue()


# The measuring process.


class Sink:
    """An SMTP server on loopback that notes when each recipient's first message arrived, and
    how many each received."""

    def __init__(self) -> None:
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.port = bench_api.free_port()
        self.delivered: dict[str, float] = {}
        self.received: Counter[str] = Counter()  # messages per recipient
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        for address in envelope.rcpt_tos:
            self.delivered.setdefault(address.lower(), now)
            self.received[address.lower()] += 1
        return "250 2.0.0 OK"

    def wait_for(self, addresses: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(address in self.delivered for address in addresses):
                return
            time.sleep(0.1)

    def stop(self) -> None:
        self.controller.stop()


def production_env(url: str, redis_db: int, smtp_port: int) -> dict[str, str]:
    """The environment of collectstatic and the Celery workers: the production settings."""
    env = os.environ.copy()
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SETTINGS_MODULE="crm.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=url,
        DATABASE_CONN_MAX_AGE="600",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{redis_db}",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        CRM_INBOUND_EMAIL_SECRET=SECRET,
        CACHE_URL=f"redis://127.0.0.1:6379/{redis_db}",
        CRM_TRUSTED_PROXY_COUNT="1",
        DJANGO_LOG_LEVEL="WARNING",
    )
    return env


class Workers:
    """Real `celery worker` processes (solo pool: one process each) on the benchmark's broker."""

    def __init__(self, env: dict[str, str], broker: str) -> None:
        self.env = env
        self.broker = broker
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int, timeout: float = 60) -> None:
        from celery import Celery

        for _ in range(count):
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo",
                     "--concurrency=1", "--without-gossip", "--without-mingle",
                     "--loglevel=WARNING", f"--hostname=bench-{uuid.uuid4().hex[:8]}@%h"],
                    cwd=ROOT, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL,
                )
            )  # fmt: skip
        probe = Celery("bench-probe", broker=self.broker)
        deadline = time.monotonic() + timeout
        while len(probe.control.ping(timeout=0.5) or []) < len(self.processes):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise SystemExit("The Celery workers did not start.")
        probe.close()

    def consume(self, on: bool) -> None:
        """Start or stop every worker's consuming of the default queue (Celery remote control)."""
        from celery import Celery

        control = Celery("bench-control", broker=self.broker).control
        change = control.add_consumer if on else control.cancel_consumer
        replies = change("celery", reply=True, timeout=5) or []
        if len(replies) < len(self.processes):
            raise SystemExit("The Celery workers did not answer a remote control command.")

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes = []


def purge_queue(redis_db: int) -> None:
    import redis

    redis.Redis.from_url(f"redis://127.0.0.1:6379/{redis_db}").delete("celery")


def sign_in(port: int, email: str, password: str) -> str:
    """A real sign-in through the login form; returns the Cookie header of the session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    jar: SimpleCookie = SimpleCookie()

    def send(method: str, body: str | None = None) -> http.client.HTTPResponse:
        headers = {"Cookie": "; ".join(f"{k}={m.value}" for k, m in jar.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, "/accounts/login/", body=body, headers=headers)
        response = conn.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return response

    page = send("GET").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise SystemExit("The login page has no CSRF token.")
    form = {"login": email, "password": password, "csrfmiddlewaretoken": token.group(1)}
    response = send("POST", urlencode(form))
    response.read()
    conn.close()
    if response.status != 302 or "sessionid" not in jar:
        raise SystemExit(f"Signing in as {email} failed ({response.status}).")
    return f"sessionid={jar['sessionid'].value}"


def wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/bench/floor")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 60 s")


def logins() -> tuple[str, str, str, str]:
    """(password, rep's e-mail, store staff e-mail, store code): the rep, and a staff member of
    the store with the most open pickups among stores whose staff can sign in."""
    from django.db.models import Count, Q

    from crm.demo import DEMO_PASSWORD
    from crm.models import Role, User
    from orders.models import PickupStatus
    from stores.models import StaffMembership, Store

    def can_sign_in(user: User) -> bool:
        return user.is_active and user.check_password(DEMO_PASSWORD)

    reps = User.objects.filter(role=Role.REP).order_by("email")
    rep = next((u for u in reps.filter(email="rep@demo.example.com") if can_sign_in(u)), None)
    rep = rep or next((u for u in reps[:20] if can_sign_in(u)), None)
    if rep is None:
        raise SystemExit(f"No rep signs in with the seeded password {DEMO_PASSWORD!r}.")
    open_pickups = Q(
        pickups__status__in=[PickupStatus.PLACED, PickupStatus.PREPARING, PickupStatus.READY]
    )
    stores = Store.objects.annotate(open=Count("pickups", filter=open_pickups)).order_by("-open")
    for store in stores[:10]:
        members = (
            StaffMembership.objects.filter(store=store)
            .select_related("user")
            .order_by("-role", "user__email")[:5]
        )
        staff = next((m.user for m in members if can_sign_in(m.user)), None)
        if staff is not None:
            return DEMO_PASSWORD, rep.email, staff.email, store.code
    raise SystemExit("No store's staff sign in with the seeded password.")


def discover(samples: int) -> tuple[list[Page], str, dict[str, str]]:
    """The pages to measure, over identifiers picked at random from the data (SQL ORDER BY
    random()); also the password and a description of the data set."""
    import phonenumbers

    from customers.models import ContactKind, ContactPoint, Customer
    from orders.models import Order, Pickup, PickupStatus
    from tickets.models import OPEN_STATUSES, REFERENCE_OFFSET, Inquiry

    password, rep, staff, store = logins()
    live = Customer.objects.filter(merged_into__isnull=True)
    customers = list(live.order_by("?").values_list("pk", flat=True)[:samples])
    names = live.exclude(first_name="").exclude(last_name="").order_by("?")
    points = ContactPoint.objects.filter(customer__merged_into__isnull=True).order_by("?")
    emails = points.filter(kind=ContactKind.EMAIL).values_list("value", flat=True)[:samples]
    phones = points.filter(kind=ContactKind.PHONE).values_list("value", flat=True)[:samples]
    orders = Order.objects.order_by("?").values_list("number", flat=True)[:samples]
    inquiries = Inquiry.objects.filter(merged_into__isnull=True).order_by("?")
    inquiry_rows = list(inquiries.values_list("pk", "tracking_token")[:samples])

    def national(e164: str) -> str:
        number = phonenumbers.parse(e164)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)

    def search(terms: list[str]) -> list[str]:
        return [f"/customers/?{urlencode({'q': term})}" for term in terms]

    pages = [
        Page("floor: bare view", ["/bench/floor"], None),
        Page("customer 360 (rep)", [f"/customers/{pk}/" for pk in customers], rep, 60, 12,
             growth=True),
        Page("search: name prefix", search(
            [f"{first} {last[:3]}" for first, last in names.values_list(
                "first_name", "last_name")[:samples]]), rep, 50, growth=True),
        Page("search: e-mail", search([e.upper() for e in emails]), rep, 50, growth=True),
        Page("search: phone, other format", search([national(p) for p in phones]), rep, 50,
             growth=True),
        Page("search: order number", search([n.lower() for n in orders]), rep, 50, growth=True),
        Page("search: inquiry reference",
             search([f"R-{pk + REFERENCE_OFFSET}" for pk, _ in inquiry_rows]), rep, 50,
             growth=True),
        Page("agent queue, SLA due first", ["/inquiries/?sort=due"], rep, 50, 10),
        Page("inquiry page (agent)", [f"/inquiries/{pk}/" for pk, _ in inquiry_rows], rep, 60),
        Page("tracking page (customer)", [f"/track/{token}/" for _, token in inquiry_rows],
             None, 25),
        Page(f"pickup counter ({store}), ready tab", [f"/stores/{store}/pickups/?state=ready"],
             staff, 60),
        Page(f"returns desk ({store})", [f"/stores/{store}/returns/"], staff, 60),
    ]  # fmt: skip
    empty = [page.label for page in pages if not page.paths]
    if empty:
        raise SystemExit(f"The database has nothing to measure for: {', '.join(empty)}.")
    open_pickups = Pickup.objects.filter(
        store__code=store,
        status__in=[PickupStatus.PLACED, PickupStatus.PREPARING, PickupStatus.READY],
    ).count()
    facts = {
        "customers": f"{Customer.objects.count():,}",
        "orders": f"{Order.objects.count():,}",
        "inquiries": f"{Inquiry.objects.count():,}",
        "open inquiries": f"{Inquiry.objects.filter(status__in=OPEN_STATUSES).count():,}",
        f"open pickups at {store}": f"{open_pickups:,}",
    }
    return pages, password, facts


def count_queries(pages: list[Page], samples: int = QUERY_SAMPLES) -> None:
    """The most SQL queries any of `samples` requests of each page made, through the test client
    (the server itself runs without query logging)."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crm.models import User

    clients: dict[str | None, Client] = {}
    for page in pages:
        if page.login not in clients:
            clients[page.login] = Client()
            if page.login:
                clients[page.login].force_login(User.objects.get(email=page.login))
        client = clients[page.login]
        counts = []
        for path in page.paths[:samples]:
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            if response.status_code not in {200, 302}:
                raise SystemExit(f"GET {path} answered {response.status_code}.")
            counts.append(len(queries.captured_queries))
        page.queries = max(counts)


def page_line(page: Page, load: Load, floor_p50: float | None) -> Line:
    ms = [1000 * s for s in load.latencies]
    p50, p95 = percentile(ms, 50), percentile(ms, 95)
    ok = bool(ms) and not load.errors
    targets = []
    if page.p95_ms is not None:
        targets.append(f"p95 < {page.p95_ms:g} ms")
        ok = ok and p95 < page.p95_ms
    if page.max_queries is not None:
        targets.append(f"≤ {page.max_queries} q")
        ok = ok and page.queries is not None and page.queries <= page.max_queries
    failed = ", ".join(
        f"{n} x {status or 'no answer'}"
        for status, n in sorted(load.statuses.items())
        if not 200 <= status < 400
    )
    errors = f" (errors: {failed})" if failed else ""
    return Line(
        page.label,
        f"{len(ms)}{errors}",
        f"{len(ms) / load.seconds:.0f}/s" if load.seconds else "-",
        f"{p50:.1f}",
        f"{p95:.1f}",
        f"{percentile(ms, 99):.1f}",
        "" if page.queries is None else str(page.queries),
        f"{p50 / floor_p50:.1f}x" if floor_p50 else "",
        ", ".join(targets),
        verdict(ok) if targets else ("ok" if ok else "FAIL"),
    )


def stored_messages(tag: str) -> int:
    from tickets.models import Message

    return Message.objects.filter(from_address__endswith=f"@{tag}.{MAIL_DOMAIN}").count()


def set_aside_unrouted() -> None:
    """Mark the inquiries nobody routed (the intake phase's, an interrupted run's) as routed, their
    acknowledgements held for ever: a routing task takes the oldest waiting with its own, and the
    acknowledgement phases measure new mail, not the catching up on a backlog. Then refresh the
    planner's statistics of what the phases wrote, as autovacuum would (it may be off on a
    benchmark machine)."""
    from django.db import connection
    from django.utils import timezone

    from tickets.models import Inquiry

    Inquiry.objects.filter(routed_at__isnull=True).update(routed_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def vacuum() -> None:
    """Clean up after what earlier runs' job phases wrote, as the services a deployment runs
    would have by the time of another run: beat folds the open-inquiry tally every minute (the
    job phases leave thousands of unfolded rows for the agent queue to sum), and autovacuum (it
    may be off on a benchmark machine) keeps the counts' index-only scans off the heap of every
    page written since."""
    from django.db import connection

    from tickets.services.tally import open_inquiry_tally_compact

    open_inquiry_tally_compact()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


@dataclass
class Jobs:
    """The intake, acknowledgement and worker phases, sharing one SMTP sink and broker."""

    pool: concurrent.futures.ProcessPoolExecutor
    port: int
    env: dict[str, str]
    redis_db: int
    sink: Sink
    seconds: float
    burst: int
    lines: list[Line] = field(default_factory=list)

    def send(self, tag: str, seconds: float, limit: int, rate: float | None) -> list[Any]:
        return self.pool.submit(send_mail, self.port, SECRET, tag, seconds, limit, rate).result()

    def intake(self) -> None:
        tag = f"in{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        sent = self.send(tag, self.seconds, 10**9, None)
        elapsed = time.perf_counter() - started
        stored = stored_messages(tag)
        accepted = sum(status == 201 for _, _, status in sent)
        rate = stored / elapsed
        ok = accepted == stored == len(sent) and rate >= INTAKE_TARGET
        self.lines.append(Line(
            "e-mail intake, 4 senders", f"{len(sent)} ({stored} stored)", f"{rate:.0f}/s",
            target=f"≥ {INTAKE_TARGET:g} msg/s", result=verdict(ok),
        ))  # fmt: skip
        # Nobody routes these here: the acknowledgement phases start from an empty queue.
        purge_queue(self.redis_db)
        set_aside_unrouted()

    def acknowledgements(self) -> None:
        """Latency at a steady rate with one worker process, then the rate at which one worker
        and two drain the same burst."""
        workers = Workers(self.env, f"redis://127.0.0.1:6379/{self.redis_db}")
        set_aside_unrouted()
        rates = {}
        try:
            workers.start(1)
            self._warm_up()
            self._latency()
            workers.stop()
            purge_queue(self.redis_db)  # what one worker could not deliver in time
            set_aside_unrouted()
            for count in (1, 2):
                workers.start(count)
                self._warm_up()
                rates[count] = self._drain(workers, count)
                workers.stop()
        finally:
            workers.stop()
            purge_queue(self.redis_db)
        ratio = rates[2] / rates[1] if len(rates) == 2 and rates[1] else 0.0
        self.lines.append(Line(
            "worker scaling, 2 vs 1", "", f"{ratio:.2f}x",
            target=f"≥ {SCALING_TARGET:g}x", result=verdict(ratio >= SCALING_TARGET),
        ))  # fmt: skip

    def _latency(self) -> None:
        tag = f"ack{uuid.uuid4().hex[:8]}"
        limit = int(ACK_RATE * self.seconds)
        sent = self.send(tag, self.seconds + 5, limit, ACK_RATE)
        accepted = {address: at for address, at, status in sent if status == 201}
        wait = 30 + self.seconds
        self.sink.wait_for(list(accepted), timeout=wait)
        # An acknowledgement still missing at the deadline counts as infinitely late.
        latencies = [
            1000 * (self.sink.delivered[address] - at) if address in self.sink.delivered else inf
            for address, at in accepted.items()
        ]
        delivered = sum(latency < inf for latency in latencies)
        p95 = percentile(latencies, 95)
        ok = delivered == len(sent) == limit and p95 < ACK_P95_TARGET_MS
        p50, p95_ms, p99 = (
            f"{v:.0f}" if v < inf else f">{wait:.0f}s"
            for v in (percentile(latencies, 50), p95, percentile(latencies, 99))
        )
        self.lines.append(Line(
            f"acknowledgement at {ACK_RATE:g} msg/s, 1 worker",
            f"{delivered}/{len(sent)} delivered", f"{len(sent) / self.seconds:.0f}/s",
            p50, p95_ms, p99, target=f"p95 < {ACK_P95_TARGET_MS:g} ms", result=verdict(ok),
        ))  # fmt: skip

    def _drain(self, workers: "Workers", count: int) -> float:
        """Acknowledgements delivered a second by `count` running worker processes, for a burst
        accepted while they consumed nothing: from the moment they are told to consume to the
        last delivery. The intake's own cost stays out, so the figure is the workers' alone."""
        tag = f"w{count}{uuid.uuid4().hex[:8]}"
        workers.consume(False)
        sent = self.send(tag, 120, self.burst, None)
        accepted = [address for address, _, status in sent if status == 201]
        started = time.time()
        workers.consume(True)
        self.sink.wait_for(accepted, timeout=30 + self.burst / 5)
        delivered = [self.sink.delivered[a] for a in accepted if a in self.sink.delivered]
        span = max(delivered, default=0) - started
        rate = len(delivered) / span if delivered and span > 0 else 0.0
        self.lines.append(Line(
            f"acknowledging a queued burst, {count} worker{'s' if count > 1 else ''}",
            f"{len(delivered)}/{len(sent)} delivered", f"{rate:.1f}/s",
        ))  # fmt: skip
        return rate

    def _warm_up(self) -> None:
        """One message through intake, routing and delivery, so no phase measures start-up."""
        sent = self.send(f"warm{uuid.uuid4().hex[:8]}", 30, 1, None)
        self.sink.wait_for([address for address, _, _ in sent], timeout=60)


def order_lines(report: str) -> list[Line]:
    """bench_api's phases as rows of this table (its columns: request, requests, orders, errors,
    s, orders/s, p50 ms, p95 ms, target, result)."""
    lines = []
    for text in report.splitlines():
        cells = re.split(r"\s{2,}", text.strip())
        if len(cells) == 10 and cells[0].startswith(("single", "bulk")):
            label, _, orders, errors, _, rate, p50, p95, target, result = cells
            errors = f" ({errors} err)" if errors != "0" else ""
            lines.append(Line(f"orders API: {label}", f"{orders}{errors}", f"{rate}/s", p50, p95,
                              target=f"{target} orders/s", result=result))  # fmt: skip
    if not lines:
        lines.append(Line("orders API", "", "", target="see bench_api", result="FAIL"))
        print(report, file=sys.stderr)
    return lines


def print_table(title: str, lines: list[Line]) -> None:
    header = ["page or job", "n", "rate", "p50 ms", "p95 ms", "p99 ms", "queries", "p50/floor",
              "target", "result"]  # fmt: skip
    table = [header] + [line.cells() for line in lines]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print(f"\n{title}")
    for row in table:
        print("  ".join(
            cell.ljust(width) if i in (0, 8) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip())  # fmt: skip


def seed(url: str, command: str, customers: int) -> None:
    """A fresh database seeded with seed_demo or seed_bench (development settings, tasks
    in-process)."""
    bench_search_360.database_create(url, fresh=True)
    env = os.environ.copy()
    env.pop("CELERY_BROKER_URL", None)
    env.update(DATABASE_URL=url, DJANGO_DEBUG="true", DJANGO_LOG_LEVEL="WARNING",
               DJANGO_SECRET_KEY="benchmark-only-not-secret")  # fmt: skip
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*manage, command, f"--customers={customers}", "-v0"],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


@contextlib.contextmanager
def gunicorn(url: str, redis_db: int, env: dict[str, str]) -> Iterator[int]:
    """bench_api's gunicorn (2 workers, production settings) with the intake secret, persistent
    connections, the cache in Redis and one proxy in front; stopped on the way out."""
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    port = bench_api.free_port()
    saved = os.environ.copy()
    os.environ.update(
        {name: env[name] for name in ("CRM_INBOUND_EMAIL_SECRET", "DATABASE_CONN_MAX_AGE",
                                      "CACHE_URL", "CRM_TRUSTED_PROXY_COUNT")}
    )  # fmt: skip
    try:
        server = bench_api.start_gunicorn(url, port, redis_db)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        wait_ready(port, server)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="measured seconds per page")
    parser.add_argument(
        "--quick", action="store_true", help="a few seconds per page and small message counts (CI)"
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="default: BENCH_DATABASE_URL, else crm_bench on DATABASE_URL's server",
    )
    seeding = parser.add_mutually_exclusive_group()
    for command in ("seed_bench", "seed_demo"):
        seeding.add_argument(
            f"--{command.replace('_', '-')}",
            type=int,
            default=0,
            metavar="N",
            help=f"drop, create and seed the database first: {command} --customers N",
        )
    parser.add_argument("--redis-db", type=int, default=8, help="Redis database for the broker")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--pages-only", action="store_true", help="skip the e-mail/order jobs")
    only.add_argument("--jobs-only", action="store_true", help="skip the pages")
    parser.add_argument("--save", type=Path, help="write the p95s measured to this JSON file")
    parser.add_argument("--baseline", type=Path, help="a --save file from a smaller data set")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()  # fmt: skip
    seconds = 1.0 if args.quick else args.seconds
    warm_up = 0.3 if args.quick else min(5.0, seconds / 6)
    samples = 50 if args.quick else 500
    # An interrupted or terminated run still stops gunicorn, the workers and the SMTP server.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    url = args.database_url or bench_search_360.bench_database_url()
    name = urlsplit(url).path.lstrip("/")
    for command in ("seed_bench", "seed_demo"):
        if customers := getattr(args, command):
            progress(f"seeding {name}: {command} --customers {customers}")
            seed(url, command, customers)
    bench_search_360.django_setup(url)
    pages, password, facts = discover(samples)
    if args.jobs_only:
        pages = []
    else:
        progress("VACUUM ANALYZE")
        vacuum()
    progress("counting queries through the test client")
    count_queries(pages)
    from django.db import connections

    connections.close_all()

    sink = Sink()
    env = production_env(url, args.redis_db, sink.port)
    lines: list[Line] = []
    spawn = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=spawn)
    try:
        progress("collectstatic, starting gunicorn")
        with gunicorn(url, args.redis_db, env) as port:
            cookies = {None: ""} | {
                login: sign_in(port, login, password) for login in {p.login for p in pages} if login
            }
            floor_p50 = None
            for page in pages:
                progress(page.label)
                load = pool.submit(
                    generate_load, port, page.paths, cookies[page.login], seconds, warm_up,
                    args.seed,
                ).result()  # fmt: skip
                line = page_line(page, load, floor_p50)
                floor_p50 = floor_p50 or percentile([1000 * s for s in load.latencies], 50)
                lines.append(line)
            if not args.pages_only:
                jobs = Jobs(pool, port, env, args.redis_db, sink,
                            seconds=1 if args.quick else seconds,
                            burst=20 if args.quick else 600)  # fmt: skip
                progress("e-mail intake")
                jobs.intake()
                progress("acknowledgement latency and worker scaling")
                jobs.acknowledgements()
                lines.extend(jobs.lines)
        if not args.pages_only:
            api_url = os.environ.get("BENCH_API_DATABASE_URL") or urlunsplit(
                urlsplit(url)._replace(path=f"/{name}_api")
            )
            progress("order ingestion (bench_api)")
            try:
                report = pool.submit(
                    run_bench_api, api_url, 1 if args.quick else min(seconds, 20), args.redis_db,
                    50 if args.quick else 1000,
                ).result()  # fmt: skip
            except (Exception, SystemExit) as error:  # the other phases' lines still print
                lines.append(Line("order ingestion (bench_api)", f"failed: {error}"[:60], "",
                                  result=verdict(False)))  # fmt: skip
            else:
                lines.extend(order_lines(report))
    finally:
        pool.shutdown(cancel_futures=True)
        sink.stop()
        purge_queue(args.redis_db)

    p95s = {line.label: float(line.p95) for line in lines if line.p95 and line.queries}
    if args.baseline:
        base = json.loads(args.baseline.read_text())
        for page in pages:
            if page.growth and page.label in base and page.label in p95s:
                ratio = p95s[page.label] / base[page.label]
                lines.append(Line(f"growth: {page.label}", "", f"{ratio:.2f}x",
                                  target=f"p95 ≤ {GROWTH_TARGET:g}x baseline",
                                  result=verdict(ratio <= GROWTH_TARGET)))  # fmt: skip
    if args.save:
        args.save.write_text(json.dumps(p95s, indent=2))
    described = ", ".join(f"{value} {key}" for key, value in facts.items())
    print_table(
        f"{name}: {described}. gunicorn 2 workers, DEBUG off, {CONNECTIONS} connections, "
        f"{seconds:g} s per page after {warm_up:g} s warm-up; queries = most of "
        f"{QUERY_SAMPLES} requests through the test client.",
        lines,
    )


if __name__ == "__main__":
    main()

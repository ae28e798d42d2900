"""Fault: PostgreSQL restarted under load.

A PostgreSQL cluster of the script's own (initdb on a free port; the machine's server is never
touched) serves gunicorn (2 workers, persistent connections with health checks). Four clients
post orders through the API, each with its own Idempotency-Key, while the cluster is restarted
(`pg_ctl restart -m fast`) once a third of them are answered; a client answered 503 waits a
moment before its next order. The promise:

- every request is answered, within REQUEST_TIMEOUT: 2xx, or 503 with Retry-After while the
  database is away; so is a visitor reloading a page (the help index) meanwhile;
- nothing is half-written: every stored order has its lines, its timeline entry and its audit
  entry, and an order that was answered 5xx is either wholly stored or not at all;
- the app recovers without a restart of its own: the requests after the restart succeed, and a
  client that retries its failed requests with the same Idempotency-Key ends with exactly one
  order each.

Usage: .venv/bin/python tests/faults/postgres_restart.py [--orders 400] [--restart-after N]
       (--restart-after: answers before the restart, default a third of --orders; Redis on
       127.0.0.1:6379, database 5, or CRM_FAULT_BROKER_URL, takes the tasks the orders publish;
       it is emptied at the end)
Prints its figures; exits non-zero when a promise breaks. Bounded: gives up after TIME_LIMIT.
"""

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.bench_api import free_port  # noqa: E402
from tests.bench.bench_pages import wait_ready  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
REQUEST_TIMEOUT = 15.0
TIME_LIMIT = 300.0
CLIENTS = 4
# A client answered 503 waits before its next order, as Retry-After asks (shortened here): the
# clients don't race through every order while the database is away, and some post after it.
BACKOFF_SECONDS = 0.5
PAGE = "/support/articles/"
BROKER = os.environ.get("CRM_FAULT_BROKER_URL", "redis://127.0.0.1:6379/5")


def pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        (str(path) for path in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None
    )
    if found is None:
        raise SystemExit(f"PostgreSQL's {name} was not found: apt-get install postgresql")
    return found


class Cluster:
    """A throwaway PostgreSQL cluster, trust auth on loopback, run as the postgres user when the
    script runs as root (initdb refuses root)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="crm-fault-pg-"))
        self.port = free_port()
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust")

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            pg_bin("pg_ctl"),
            action,
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "-w",
            *extra,
        )

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/crm"


@dataclass
class Answer:
    key: str
    status: int
    seconds: float
    number: str = ""
    after_restart: bool = False


@dataclass
class Load:
    port: int
    token: str
    orders: int
    answers: list[Answer] = field(default_factory=list)
    pages: Counter[int] = field(default_factory=Counter)
    restarted: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, key: str) -> Answer:
        body = json.dumps(
            {
                "external_source": "fault",
                "external_id": key,
                "customer": {"email": f"{key.lower()}@example.com"},
                "channel": "web",
                "lines": [{"sku": "FAULT-1", "quantity": 2}],
            }
        )
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        after = self.restarted.is_set()
        started = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
            conn.request("POST", "/api/v1/orders/", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            conn.close()
        except OSError:
            return Answer(key, 0, time.monotonic() - started, after_restart=after)
        number = ""
        if response.status in (200, 201):
            number = json.loads(payload)["number"]
        return Answer(key, response.status, time.monotonic() - started, number, after)

    def client(self, first: int) -> None:
        for n in range(first, self.orders, CLIENTS):
            answer = self.post(f"F-{n:05d}")
            with self.lock:
                self.answers.append(answer)
            if answer.status == 503:
                time.sleep(BACKOFF_SECONDS)

    def browse(self, until: threading.Event) -> None:
        """A visitor reloading the help page (which reads the database) until `until` is set."""
        while not until.is_set():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
                conn.request("GET", PAGE)
                response = conn.getresponse()
                response.read()
                conn.close()
                status = response.status
            except OSError:
                status = 0
            with self.lock:
                self.pages[status] += 1
            time.sleep(0.05)


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


SETUP = """
from crm.models import Channel, Role, Scope, User
from crm.services import token_create
from orders.models import Category, Product
admin = User.objects.create_user("fault-admin@example.com", "x", role=Role.ADMIN)
category = Category.objects.create(name="Fault", slug="fault")
Product.objects.create(sku="FAULT-1", name="Fault tee", price="10.00", category=category)
_, raw = token_create(name="Fault", scopes=[Scope.ORDERS_WRITE, Scope.ORDERS_READ],
                      channels=[Channel.WEB], all_stores=True, actor=admin)
print(raw)
"""

CHECK = """
import json
from crm.models import AuditEntry
from customers.models import Activity
from orders.models import Order
orders = list(Order.objects.filter(external_source="fault").values_list("number", "external_id"))
numbers = [number for number, _ in orders]
lines = set(Order.objects.filter(number__in=numbers, lines__isnull=False)
            .values_list("number", flat=True))
timeline = set(Activity.objects.filter(subject_type="order", subject_id__in=numbers)
               .values_list("subject_id", flat=True))
audited = set(AuditEntry.objects.filter(action="order.create")
              .values_list("data__number", flat=True))
print(json.dumps({"orders": orders, "without_lines": sorted(set(numbers) - lines),
                  "without_timeline": sorted(set(numbers) - timeline),
                  "without_audit": sorted(set(numbers) - audited)}))
"""


def run(orders: int, restart_after: int) -> list[str]:
    cluster = Cluster()
    server: subprocess.Popen[bytes] | None = None
    problems: list[str] = []
    try:
        cluster.init()
        cluster.start()
        subprocess.run(
            [
                pg_bin("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(cluster.port),
                "-U",
                "postgres",
                "crm",
            ],
            check=True,
            timeout=60,
        )
        env = {
            **os.environ,
            "DJANGO_DEBUG": "true",
            "DATABASE_URL": cluster.url,
            "CRM_VAR_DIR": str(cluster.dir / "var"),
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        # Tasks are published to a Redis database of the script's (nothing consumes them), as
        # in production: the request never runs them itself.
        env["CELERY_BROKER_URL"] = BROKER
        for name in ("CACHE_URL", "EMAIL_URL"):
            env.pop(name, None)
        print("Migrating the fault cluster's database ...", flush=True)
        manage(env, "migrate", "--verbosity", "0")
        token = manage(env, "shell", "-c", SETUP).strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [str(PYTHON), "-m", "gunicorn", "crm.wsgi", "--workers", "2",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        wait_ready(port, server)

        load = Load(port=port, token=token, orders=orders)
        clients = [threading.Thread(target=load.client, args=(n,)) for n in range(CLIENTS)]
        done = threading.Event()
        visitor = threading.Thread(target=load.browse, args=(done,))
        started = time.monotonic()
        for thread in [*clients, visitor]:
            thread.start()
        while len(load.answers) < restart_after and time.monotonic() - started < TIME_LIMIT / 2:
            time.sleep(0.05)
        print("Restarting PostgreSQL under load ...", flush=True)
        restart_started = time.monotonic()
        cluster.restart()
        restart_took = time.monotonic() - restart_started
        load.restarted.set()
        for thread in clients:
            thread.join(timeout=TIME_LIMIT)
        done.set()
        visitor.join(timeout=REQUEST_TIMEOUT * 2)
        took = time.monotonic() - started

        # The clients retry what failed, with the same Idempotency-Key.
        failed = [answer for answer in load.answers if answer.status not in (200, 201)]
        retried = [load.post(answer.key) for answer in failed]
        stored = json.loads(manage(env, "shell", "-c", CHECK).strip().splitlines()[-1])

        statuses = Counter(answer.status for answer in load.answers)
        slowest = max(answer.seconds for answer in load.answers)
        after = [answer for answer in load.answers if answer.after_restart]
        print(f"\n{'orders posted':<44}{len(load.answers):>8}")
        for status, count in sorted(statuses.items()):
            print(f"{'  answered ' + (str(status) if status else 'no answer'):<44}{count:>8}")
        print(f"{'PostgreSQL restart took (s)':<44}{restart_took:>8.1f}")
        print(f"{'slowest answer (s)':<44}{slowest:>8.1f}")
        print(f"{'posted after the restart':<44}{len(after):>8}")
        print(f"{'retried after a 5xx, then 2xx':<44}{len(retried):>8}")
        print(f"{'orders stored':<44}{len(stored['orders']):>8}")
        print(f"{'run took (s)':<44}{took:>8.1f}")
        for status, count in sorted(load.pages.items()):
            label = f"  help page answered {status or 'nothing'}"
            print(f"{label:<44}{count:>8}")

        if len(load.answers) != orders:
            problems.append(f"{orders - len(load.answers)} request(s) were never answered")
        if statuses.get(0):
            problems.append(f"{statuses[0]} request(s) got no HTTP answer")
        bad = {status for status in statuses if status and status not in (200, 201, 503)}
        if bad:
            problems.append(f"unexpected statuses: {sorted(bad)}")
        if set(load.pages) - {200, 503}:
            problems.append(f"the help page answered {sorted(set(load.pages) - {200, 503})}")
        if slowest > REQUEST_TIMEOUT:
            problems.append(f"an answer took {slowest:.1f} s")
        if not after:
            problems.append("no request was posted after the restart: raise --orders")
        if any(answer.status not in (200, 201) for answer in after[CLIENTS * 2 :]):
            problems.append("requests still failed well after the restart: the app did not recover")
        if any(answer.status not in (200, 201) for answer in retried):
            problems.append("a retry with the same Idempotency-Key failed after the restart")
        keys = Counter(external_id for _, external_id in stored["orders"])
        if len(keys) != orders or any(count != 1 for count in keys.values()):
            problems.append(f"{len(keys)} distinct orders stored for {orders} posted")
        for part in ("without_lines", "without_timeline", "without_audit"):
            if stored[part]:
                problems.append(f"orders {part.replace('_', ' ')}: {stored[part][:5]}")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        cluster.stop()
        redis.Redis.from_url(BROKER).flushdb()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument(
        "--restart-after", type=int, default=0, help="answers before the restart (a third)"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"gave up after {TIME_LIMIT:.0f} s"))
    signal.alarm(int(TIME_LIMIT))
    problems = run(args.orders, args.restart_after or args.orders // 3)
    if problems:
        print("\nFAIL\n" + "\n".join(f"- {problem}" for problem in problems))
        sys.exit(1)
    print("\nPASS: every request answered, nothing half-written, recovered without a restart")


if __name__ == "__main__":
    main()

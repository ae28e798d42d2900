import email
import email.policy
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import kombu.pools
import pytest
from aiosmtpd.controller import Controller
from celery import _state as celery_state
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from crm.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(
            f"The test suite runs on PostgreSQL: set DATABASE_URL (bin/test does), not {engine}.",
            returncode=2,
        )
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.exit("The test suite needs Redis: set CELERY_BROKER_URL (bin/test does).", 2)


@pytest.fixture(autouse=True)
def _tasks_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run in-process unless a test asks for the real worker (marker `worker`)."""
    eager = request.node.get_closest_marker("worker") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous
    # Eager tasks run by several threads at once can leave Celery's process-wide "a task is
    # running here" flag set, which would make a later test's result.get() refuse to join.
    celery_state._set_task_join_will_block(False)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fresh_login_rate_limits() -> None:
    """Failed sign-ins are rate-limited per address in the cache; every test starts afresh."""
    cache.clear()


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker process; override it in a test module (e.g. EMAIL_URL)."""
    return {}


@pytest.fixture
def celery_worker_process(
    transactional_db: None, worker_env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery -A crm worker` process on Redis, using the test database."""
    celery_app.control.purge()
    worker = start_worker(**worker_env)
    yield worker
    worker.terminate()
    worker.wait(timeout=20)


@dataclass
class Delivery:
    """One message the SMTP sink accepted: the envelope recipients and the parsed message."""

    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpSink:
    """A real SMTP server on loopback that keeps what it accepts. `answer_next` makes it answer
    the next DATA commands with an error reply instead (e.g. "451 4.3.0 Try again later")."""

    port: int
    deliveries: list[Delivery] = field(default_factory=list)
    # time.monotonic() of every DATA command, accepted or not: the gaps between tries.
    attempts: list[float] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    # One EHLO per connection a client opened.
    greetings: int = 0

    def answer_next(self, reply: str, times: int = 1) -> None:
        self.replies.extend([reply] * times)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts.append(time.monotonic())
        if self.replies:
            return self.replies.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.deliveries.append(Delivery(list(envelope.rcpt_tos), message))
        return "250 2.0.0 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An aiosmtpd server on 127.0.0.1 and a free port, collecting the messages it accepts."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    sink = SmtpSink(port=_free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def mailer_to_sink(settings: Any, smtp_sink: SmtpSink) -> SmtpSink:
    """In-process sends go over real SMTP to the sink."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_sink.port, "timeout": 5},
        }
    }
    return smtp_sink


@dataclass
class RedisServer:
    """A redis-server of the test's own on a free loopback port, nothing persisted, that the
    test may stop and start again (the shared Redis of the other tests is never touched)."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.url_of(0)

    def url_of(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("redis-server did not start.")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _publish_to(url: str | None) -> None:
    """Point this process's Celery producer at another broker (None: back to the configured
    one), dropping pooled connections. The read and write URLs are set because the
    CELERY_BROKER_URL environment variable overrides the plain broker_url setting."""
    app: Any = celery_app  # Celery's connection pools are not part of its typed surface
    app.conf.broker_write_url = url
    app.conf.broker_read_url = url
    # kombu keeps pools per broker in a registry: empty it, or a closed pool would be reused.
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A private Redis broker for a test that stops it: the app publishes to it meanwhile; start
    workers on it with `celery_workers(broker=own_redis.url)`."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(port=_free_port())
    server.start()
    _publish_to(server.url)
    yield server
    _publish_to(None)
    server.stop()


def start_worker(
    *, queues: str = "celery", ready: bool = True, **extra_env: str
) -> subprocess.Popen[bytes]:
    """Start a real `celery -A crm worker` process on the test database, consuming `queues`
    (comma-separated), and wait until it answers a ping on the broker this process publishes to
    (ready=False: return at once; a busy solo worker answers pings only between tasks)."""
    database = connection.settings_dict
    env = {
        **os.environ,
        **extra_env,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "DJANGO_DEBUG": "true",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
            f"--queues={queues}",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while ready and not celery_app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail("The Celery worker did not start.")
    return worker


@pytest.fixture
def celery_workers(
    transactional_db: None, worker_env: dict[str, str]
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start real workers when the test wants them (e.g. after a broker comes back, or to
    replace one it killed): `celery_workers(broker=url)`. All are stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(broker: str = "", ready: bool = True) -> subprocess.Popen[bytes]:
        extra = {**worker_env, **({"CELERY_BROKER_URL": broker} if broker else {})}
        worker = start_worker(ready=ready, **extra)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=20)

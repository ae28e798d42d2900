import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
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


@pytest.fixture(autouse=True)
def _fresh_login_rate_limits() -> None:
    """Failed sign-ins are rate-limited per address in the cache; every test starts afresh."""
    cache.clear()


@pytest.fixture
def celery_worker_process(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery -A crm worker` process on Redis, using the test database."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "DJANGO_DEBUG": "true",
    }
    celery_app.control.purge()
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
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while not celery_app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail("The Celery worker did not start.")
    yield worker
    worker.terminate()
    worker.wait(timeout=20)

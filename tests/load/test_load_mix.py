"""The load script runs end to end at a size that fits the suite: every kind of request is made,
none is answered 5xx, the queue drains, and every promise it checks holds."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 420
REQUESTS = [
    "GET /contact/",
    "POST /contact/",
    "GET /track/<token>/",
    "POST /api/v1/orders/",
    "GET /customers/<id>/",
    "POST /customers/<id>/comments/",
]
PROMISES = [
    "no 5xx and no broken connection",
    "the queue drained",
    "every accepted inquiry stored and routed",
    "acknowledgements = eligible inquiries, none twice",
    "every order answered 201 stored once",
    "every comment added stored once",
]

pytestmark = [pytest.mark.fault, pytest.mark.worker]


def test_a_mixed_load_is_answered_and_its_work_done_once() -> None:
    base = urlsplit(os.environ["DATABASE_URL"])
    name = f"{settings.DATABASES['default']['NAME'].removeprefix('test_')}_bench_load"
    redis_db = urlsplit(settings.CELERY_BROKER_URL).path.lstrip("/") or "0"
    run = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/load/load_mix.py"), "--seconds=20", "--users=8",
         "--workers=1", "--customers=60", f"--redis-db={redis_db}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "LOAD_DATABASE_URL": urlunsplit(base._replace(path=f"/{name}"))},
    )  # fmt: skip
    try:
        output, _ = run.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        run.send_signal(signal.SIGINT)  # the script stops what it started on the way out
        output, _ = run.communicate(timeout=60)
        pytest.fail(f"The load run took over {TIMEOUT} s:\n{output[-3000:]}")
    finally:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with psycopg.connect(urlunsplit(base._replace(path="/postgres")), autocommit=True) as db:
            db.execute(drop)

    assert run.returncode == 0, output[-4000:]
    for request in REQUESTS:
        row = re.search(rf"^{re.escape(request)}\s+(\d+)\s.*$", output, re.MULTILINE)
        assert row is not None and int(row.group(1)) > 0, f"no {request}:\n{output[-4000:]}"
        assert re.search(r"\b5\d\d\b|connection error", row.group(0).split("  ")[-1]) is None
    for promise in PROMISES:
        assert re.search(rf"^pass  {re.escape(promise)}: ", output, re.MULTILINE), output[-4000:]

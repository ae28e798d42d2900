"""The load script runs end to end at a size that fits the suite: every kind of request is made,
none is answered 5xx, the queue drains, and every promise it checks holds."""

import re

import pytest

from tests.scripts import broker_database, run_script, scratch_databases

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
    with scratch_databases("bench_load") as url:
        returncode, output = run_script(
            "load/load_mix.py", "--seconds=20", "--users=8", "--workers=1", "--customers=60",
            f"--redis-db={broker_database()}", timeout=TIMEOUT, env={"LOAD_DATABASE_URL": url},
        )  # fmt: skip

    assert returncode == 0, output[-4000:]
    for request in REQUESTS:
        row = re.search(rf"^{re.escape(request)}\s+(\d+)\s.*$", output, re.MULTILINE)
        assert row is not None and int(row.group(1)) > 0, f"no {request}:\n{output[-4000:]}"
        assert re.search(r"\b5\d\d\b|connection error", row.group(0).split("  ")[-1]) is None
    for promise in PROMISES:
        assert re.search(rf"^pass  {re.escape(promise)}: ", output, re.MULTILINE), output[-4000:]

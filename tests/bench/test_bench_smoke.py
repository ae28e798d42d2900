"""The page benchmark runs end to end: seed_bench's data set at N = 10,000, every page type and
job measured for a moment, one table printed. Whether the targets are met is the benchmark's
business, not this test's (CI's machine is not the benchmark machine)."""

import re
from typing import Any

import pytest
from django.test import Client

from tests.scripts import broker_database, run_script, scratch_databases

TIMEOUT = 300  # the run takes a minute or two; a hung phase must not hang the suite

PAGE_ROWS = [
    "floor: bare view",
    "customer 360 (rep)",
    "search: name prefix",
    "search: e-mail",
    "search: phone, other format",
    "search: order number",
    "search: inquiry reference",
    "agent queue, SLA due first",
    "inquiry page (agent)",
    "tracking page (customer)",
    "pickup counter",
    "returns desk",
]
JOB_ROWS = [
    "e-mail intake, 4 senders",
    "acknowledgement at 50 msg/s, 1 worker",
    "acknowledging a queued burst, 1 worker",
    "acknowledging a queued burst, 2 workers",
    "worker scaling, 2 vs 1",
    "orders API: single POST /orders/",
    "orders API: bulk POST /orders/bulk/",
]


@pytest.mark.worker
def test_page_benchmark_measures_every_page_and_job() -> None:
    with scratch_databases("pages_bench", "_api") as url:
        returncode, output = run_script(
            "bench/bench_pages.py", "--quick", "--seed-bench=10000", f"--database-url={url}",
            f"--redis-db={broker_database()}", timeout=TIMEOUT,
        )  # fmt: skip
    assert returncode == 0, output[-3000:]

    table = output[output.index("page or job") :]
    rows = {line.split("  ")[0].strip(): line for line in table.splitlines()[1:] if line.strip()}
    for label in PAGE_ROWS:
        row = next((line for key, line in rows.items() if key.startswith(label)), None)
        assert row is not None, f"no row for {label}:\n{table}"
        # Every request answered (no error counts), with a rate and three percentiles.
        assert "errors:" not in row, row
        assert re.search(r"\d+/s\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+", row), row
    for label in JOB_ROWS:
        row = next((line for key, line in rows.items() if key.startswith(label)), None)
        assert row is not None, f"no row for {label}:\n{table}"
        assert re.search(r"\d", row.removeprefix(label)), row
    # Every accepted message was stored, and every acknowledgement reached the SMTP server.
    intake = re.search(r"(\d+) \((\d+) stored\)", rows["e-mail intake, 4 senders"])
    assert intake and intake.group(1) == intake.group(2) != "0"
    for row in rows.values():
        if "delivered" in row:
            delivered = re.search(r"(\d+)/(\d+) delivered", row)
            assert delivered and delivered.group(1) == delivered.group(2) != "0", row


@pytest.mark.django_db
def test_floor_view_answers_without_database_or_session(
    client: Client, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = client.get("/bench/floor")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "sessionid" not in response.cookies

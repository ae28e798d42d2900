"""Running the project's own scripts (benchmarks, load runs) from the suite, on databases of their
own that are dropped afterwards."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def broker_database() -> str:
    """The Redis database number of this test process's broker, for a script's --redis-db."""
    return urlsplit(settings.CELERY_BROKER_URL).path.lstrip("/") or "0"


@contextmanager
def scratch_databases(suffix: str, *more: str) -> Iterator[str]:
    """The URL of a database named after this process's test database and `suffix`, on the same
    server; it and `<name><more>` are dropped on the way out, whatever the script left."""
    base = urlsplit(os.environ["DATABASE_URL"])
    name = f"{settings.DATABASES['default']['NAME'].removeprefix('test_')}_{suffix}"
    try:
        yield urlunsplit(base._replace(path=f"/{name}"))
    finally:
        server = urlunsplit(base._replace(path="/postgres"))
        with psycopg.connect(server, autocommit=True) as conn:
            for dropped in (name, *(name + extra for extra in more)):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(dropped)
                    )
                )


def run_script(
    script: str, *args: str, timeout: float, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run tests/<script> with the suite's Python; return its exit code and its output (stdout
    and stderr). Past `timeout` it gets SIGINT, so that it stops the servers it started, and the
    test fails with the end of its output."""
    run = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / script), *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    try:
        output, _ = run.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.send_signal(signal.SIGINT)
        output, _ = run.communicate(timeout=60)
        pytest.fail(f"{script} ran over {timeout:g} s:\n{output[-3000:]}")
    return run.returncode, output

"""The fault scripts of this folder, run by the suite at a size that fits its time."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fault

HERE = Path(__file__).resolve().parent


def test_postgres_restarted_under_load_fails_requests_cleanly_and_recovers() -> None:
    result = subprocess.run(
        [sys.executable, str(HERE / "postgres_restart.py"), "--orders", "200"],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "PASS" in result.stdout

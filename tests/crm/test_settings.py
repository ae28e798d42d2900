"""The settings as an operator meets them: embedded defaults, and a production stack that refuses
to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DATABASE_URL": "postgres://crm:secret@db.internal:5432/crm",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "DJANGO_SECRET_KEY": "a-production-secret-that-is-long-enough-and-random-0123456789-xyz",
    "DJANGO_ALLOWED_HOSTS": "crm.example.com",
}


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ["PATH"], "CRM_VAR_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_nothing_set_runs_on_embedded_defaults(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
        "s.MAILERS['default']['BACKEND'])"
    )
    result = manage("shell", "-v", "0", "-c", code, env={}, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "True",
        "django.core.mail.backends.console.EmailBackend",
    ]
    assert (tmp_path / "dev-secret-key").exists()


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_a_missing_production_setting_stops_the_start_and_is_named(
    missing: str, tmp_path: Path
) -> None:
    env = {name: value for name, value in PRODUCTION.items() if name != missing}

    result = manage("check", env=env, tmp_path=tmp_path)

    assert result.returncode != 0
    assert f"Missing required production setting(s): {missing}." in result.stderr


@pytest.mark.django_db
def test_production_settings_pass_the_deployment_checklist(tmp_path: Path) -> None:
    # The checks read the database server's version (a generated column's check needs it), so
    # production points at a server that answers: this run's test database.
    database = connection.settings_dict
    reachable = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "DATABASE_URL": reachable},
        tmp_path=tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    shown = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; o = s.MAILERS['default']['OPTIONS']; "
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
        "o['host'], o['port'], o['use_tls'])",
        env=PRODUCTION,
        tmp_path=tmp_path,
    )
    assert shown.stdout.split() == [
        "False",
        "django.db.backends.postgresql",
        "False",
        "smtp.example.com",
        "587",
        "True",
    ]

"""pytest plugin (loaded with -p before Django's settings): each pytest-xdist worker process of
the suite gets Redis databases of its own, so that one worker's Celery workers never take the
other's tasks and one test's cache.clear() never empties another's sessions and rate limits.
Worker gwN uses the Redis database N below the one CELERY_BROKER_URL and CACHE_URL name."""

import os
from urllib.parse import urlsplit, urlunsplit


def _shifted(url: str, by: int) -> str:
    parts = urlsplit(url)
    database = int(parts.path.lstrip("/") or 0) - by
    if database < 0:
        raise SystemExit(f"{url}: no Redis database left for pytest-xdist worker {by}")
    return urlunsplit(parts._replace(path=f"/{database}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw"):
    for _name in ("CELERY_BROKER_URL", "CACHE_URL"):
        if os.environ.get(_name, "").startswith("redis://"):
            os.environ[_name] = _shifted(os.environ[_name], int(_worker[2:]))

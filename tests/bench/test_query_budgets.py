"""Each page of the page benchmark costs the same number of SQL queries whatever the data size,
within its budget: measured on seed_bench's data set at two sizes ten times apart (the larger
one pages the lists), over the same kinds of random identifiers the benchmark requests."""

from io import StringIO
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction

from orders.models import Pickup, PickupStatus
from tests.bench.bench_pages import count_queries, discover

pytestmark = pytest.mark.django_db

SIZES = (2000, 20000)
SAMPLES = 12
# The benchmark's pages, by the start of their label (the store pages name their store).
BUDGETS = {
    "customer 360 (rep)": 9,
    # the name read "last first", then "first last": two ranges of two indexes
    "search: name prefix": 6,
    "search: e-mail": 5,
    "search: phone, other format": 5,
    "search: order number": 6,
    "search: inquiry reference": 7,
    "agent queue, SLA due first": 7,
    # 16, and one more for each of the six relations only some inquiries have (inquiry_for_page)
    "inquiry page (agent)": 22,
    "tracking page (customer)": 5,
    "pickup counter": 7,
    "returns desk": 6,
}


@pytest.fixture(autouse=True)
def _development_settings(settings: Any) -> None:
    settings.DEBUG = True  # the data set's logins share a published password
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class _Measured(Exception):
    def __init__(self, queries: dict[str, int]) -> None:
        self.queries = queries


def _queries_per_page(customers: int) -> dict[str, int]:
    """The most queries any sampled request of each page made, on a data set of that size that
    is rolled back afterwards (seed_bench fills only an empty database). The shared cache starts
    empty, as for the first requests on a new data set."""
    cache.clear()
    try:
        with transaction.atomic():
            call_command("seed_bench", customers=customers, seed=11, stdout=StringIO())
            pages, _, _ = discover(SAMPLES)
            counter = next(page for page in pages if page.label.startswith("pickup counter"))
            store = counter.paths[0].split("/")[2]
            ready = Pickup.objects.filter(store__code=store, status=PickupStatus.READY).count()
            assert ready > 0, "the measured counter tab lists pickups"
            count_queries(pages, SAMPLES)
            raise _Measured(
                {
                    kind: page.queries or 0
                    for page in pages
                    for kind in BUDGETS
                    if page.label.startswith(kind)
                }
            )
    except _Measured as measured:
        return measured.queries


def test_every_page_costs_the_same_queries_at_two_sizes_within_its_budget() -> None:
    small, large = (_queries_per_page(size) for size in SIZES)

    assert set(small) == set(BUDGETS)
    grew = {kind: (small[kind], large[kind]) for kind in small if large[kind] != small[kind]}
    assert not grew, f"queries at {SIZES[0]:,} and {SIZES[1]:,} customers: {grew}"
    over = {kind: n for kind, n in small.items() if n > BUDGETS[kind]}
    assert not over, f"over budget: {over}"

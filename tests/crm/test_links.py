"""Row links: reversed once per page, filled in per row, the same URLs reverse() gives."""

import pytest
from django.urls import reverse

from crm.links import ROW, RowLink


@pytest.mark.parametrize("number", ["W-100234", "POS 12", "ÉTÉ-1", "a?b#c%d"])
def test_a_row_link_is_the_url_reverse_gives_for_that_row(number):
    assert RowLink("orders:detail", ROW)(number) == reverse("orders:detail", args=[number])


def test_a_row_link_fills_the_row_in_among_fixed_arguments():
    link = RowLink("stores:pickup_action", "sfo", ROW, "collect")

    assert link(42) == reverse("stores:pickup_action", args=["sfo", 42, "collect"])
    assert link(7) == reverse("stores:pickup_action", args=["sfo", 7, "collect"])

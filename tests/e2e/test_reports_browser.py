"""A supervisor reads both dashboards over a month of a small retailer: every chart is drawn, the
range form answers bad input with errors, and a chart's CSV downloads. A store manager sees her
store's dashboard only. Screenshots: var/screenshots/reports-service.png, reports-stores.png."""

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from crm.demo.reports import backlog_history_write
from crm.models import Role
from stores.models import StoreRole
from tests.crm.factories_reports import shop_history
from tests.e2e.conftest import DESKTOP, TABLET_PORTRAIT, log_in
from tests.factories import QueueFactory, StoreFactory, UserFactory, store_staff

pytestmark = pytest.mark.e2e

# Pixels of a canvas that Chart.js painted (not transparent), counted in the browser.
PAINTED = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
}"""


def charts_drawn(page: Page) -> int:
    """Wait for every chart of the page to be painted; return how many there are."""
    canvases = page.locator("canvas[data-chart]")
    expect(canvases.first).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => window.Chart && window.Chart.getChart(c))"
    )
    page.wait_for_timeout(500)  # the drawing animation
    count = canvases.count()
    for index in range(count):
        canvas = canvases.nth(index)
        assert canvas.evaluate(PAINTED) > 500, canvas.get_attribute("data-chart")
    return count


@pytest.fixture
def retailer(transactional_db: None) -> dict[str, object]:
    stores = [
        StoreFactory.create(code="union", name="Union Square"),
        StoreFactory.create(code="soho", name="SoHo"),
        StoreFactory.create(code="austin", name="Austin Domain"),
    ]
    queues = [
        QueueFactory.create(name="Customer service"),
        QueueFactory.create(name="Returns & refunds"),
        QueueFactory.create(name="Store pickups"),
    ]
    shop_history(stores=stores, queues=queues, days=35)
    backlog_history_write(now=timezone.now(), days=35)
    return {"stores": stores}


def test_a_supervisor_reads_both_dashboards(
    live_server,
    retailer,
    new_context: Callable[..., BrowserContext],
    screenshots: Path,
) -> None:
    supervisor = UserFactory.create(role=Role.SUPERVISOR, email="lee@retail.example")
    page = new_context(DESKTOP).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server.url, supervisor.email)

    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Service reports")).to_be_visible()
    assert charts_drawn(page) == 8
    expect(page.locator("#card-first-response .report-figure")).to_have_text(re.compile(r"\d+%"))
    page.screenshot(path=screenshots / "reports-service.png", full_page=True)

    page.get_by_role("link", name="Stores", exact=True).click()
    expect(page.get_by_role("heading", name="Stores reports")).to_be_visible()
    assert charts_drawn(page) == 6
    page.screenshot(path=screenshots / "reports-stores.png", full_page=True)

    # The numbers behind a chart, as a download.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV of returns by reason").click()
    text = Path(download.value.path()).read_text()
    header, *body = list(csv.reader(io.StringIO(text)))
    assert header == ["Reason", "Items returned"]
    assert body and all(int(items) > 0 for _reason, items in body)

    # One store, then a range the form refuses, typed from the keyboard.
    page.get_by_label("Store", exact=True).select_option(label="SoHo")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("SoHo only")).to_be_visible()
    page.get_by_label("From", exact=True).fill("2026-03-10")
    page.get_by_label("To", exact=True).fill("2026-03-01")
    page.get_by_label("To", exact=True).press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("The first day comes after the last day.")
    expect(page.locator("canvas[data-chart]")).to_have_count(0)
    assert errors == []


def test_a_store_manager_reads_her_store_on_a_tablet(
    live_server, retailer, new_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    union = retailer["stores"][0]
    manager = store_staff(union, StoreRole.MANAGER, email="ana@retail.example")
    page = new_context(TABLET_PORTRAIT).new_page()
    log_in(page, live_server.url, manager.email)

    page.goto(f"{live_server.url}/reports/stores/")

    assert charts_drawn(page) == 6
    expect(page.get_by_text("your stores only")).to_be_visible()
    labels = page.locator("#chart-returns-by-store").text_content() or ""
    assert "Union Square" in labels and "SoHo" not in labels
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET_PORTRAIT["width"]
    page.screenshot(path=screenshots / "reports-stores-manager-tablet.png", full_page=True)

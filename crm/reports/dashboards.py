"""Which reports make up each dashboard, and which report draws each chart (for its CSV)."""

from collections.abc import Callable
from dataclasses import dataclass

from crm.reports.base import Chart, ReportScope
from crm.reports.selectors import service, stores

ReportFunction = Callable[[ReportScope], list[Chart]]


@dataclass(frozen=True)
class Report:
    function: ReportFunction
    # The keys of the charts it returns: a CSV download runs only the report that has the chart.
    charts: tuple[str, ...]


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    description: str
    icon: str
    reports: tuple[Report, ...]

    def report_for(self, chart: str) -> Report | None:
        return next((report for report in self.reports if chart in report.charts), None)


DASHBOARDS = {
    dashboard.slug: dashboard
    for dashboard in (
        Dashboard(
            slug="service",
            title="Service",
            description="Inquiries, response times, backlog, satisfaction and call-backs.",
            icon="bi-headset",
            reports=(
                Report(service.inquiry_volume, ("inquiries-by-channel", "inquiries-by-queue")),
                Report(service.first_response, ("first-response",)),
                Report(service.acknowledgement, ("acknowledgement",)),
                Report(service.backlog, ("backlog",)),
                Report(service.resolution, ("resolution",)),
                Report(service.satisfaction, ("satisfaction",)),
                Report(service.callbacks, ("callbacks",)),
            ),
        ),
        Dashboard(
            slug="stores",
            title="Stores",
            description="Pickups, returns and customers who shop in more than one channel.",
            icon="bi-shop",
            reports=(
                Report(stores.pickups, ("pickups", "time-to-collect")),
                Report(
                    stores.returns, ("returns-by-channel", "returns-by-store", "returns-by-reason")
                ),
                Report(stores.multichannel, ("multichannel",)),
            ),
        ),
    )
}

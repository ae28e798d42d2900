"""A chart's numbers as a CSV download, safe to open in a spreadsheet."""

import csv
from datetime import date
from typing import Any

from django.http import HttpResponse

from crm.reports.base import Chart
from customers.importing import spreadsheet_safe


def csv_cell(value: Any) -> Any:
    """Numbers as they are, empty for no value; text (queue and store names are typed by
    people) quoted when a spreadsheet would run it as a formula."""
    if value is None:
        return ""
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return value


def chart_csv(chart: Chart, *, first_day: date, last_day: date, store: str = "") -> HttpResponse:
    """The chart's table (a row per label, a column per series) as an attachment."""
    place = f"_{store}" if store else ""
    filename = f"{chart.key}_{first_day.isoformat()}_{last_day.isoformat()}{place}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    for row in chart.rows():
        writer.writerow([csv_cell(value) for value in row])
    return response

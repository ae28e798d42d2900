"""The dashboards and their CSV downloads: supervisors and admins see every store, store managers
their own stores; everyone else is refused."""

from typing import cast

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone

from crm.models import User
from crm.permissions import can_view_reports, require
from crm.reports.dashboards import DASHBOARDS, Dashboard
from crm.reports.export import chart_csv
from crm.reports.forms import PRESETS, ReportFilterForm, default_range


def _dashboard(slug: str) -> Dashboard:
    dashboard = DASHBOARDS.get(slug)
    if dashboard is None:
        raise Http404("No such dashboard.")
    return dashboard


def _form(request: HttpRequest) -> ReportFilterForm:
    return ReportFilterForm(request.GET, user=cast(User, request.user), today=timezone.localdate())


@require(can_view_reports)
def reports_home(request: HttpRequest) -> HttpResponse:
    return redirect("reports:dashboard", "service")


@require(can_view_reports)
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """A grid of charts for the range and store chosen; with input errors, the form alone."""
    board = _dashboard(slug)
    form = _form(request)
    valid = form.is_valid()
    charts = []
    if valid:
        scope = form.scope(zone=timezone.get_current_timezone(), now=timezone.now())
        charts = [chart for report in board.reports for chart in report.function(scope)]
    chosen = (form.cleaned_data["start"], form.cleaned_data["end"]) if valid else None
    presets = []
    for days, label in PRESETS:
        first, last = default_range(timezone.localdate(), days)
        params = request.GET.copy()
        params["start"], params["end"] = first.isoformat(), last.isoformat()
        presets.append(
            {"label": label, "query": params.urlencode(), "active": chosen == (first, last)}
        )
    return render(
        request,
        "reports/dashboard.html",
        {
            "dashboard": board,
            "dashboards": DASHBOARDS.values(),
            "form": form,
            "charts": charts,
            "store": form.cleaned_data.get("store") if valid else None,
            # The CSV links repeat the dashboard's range and store.
            "query": cast(QueryDict, form.data).urlencode() if valid else "",
            "presets": presets,
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


@require(can_view_reports)
def download(request: HttpRequest, slug: str, chart: str) -> HttpResponse:
    """One chart's numbers as CSV, for the same range and store as the dashboard."""
    report = _dashboard(slug).report_for(chart)
    if report is None:
        raise Http404("No such chart.")
    form = _form(request)
    if not form.is_valid():
        problems = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponseBadRequest(
            f"The range or store is not valid: {problems}", content_type="text/plain"
        )
    scope = form.scope(zone=timezone.get_current_timezone(), now=timezone.now())
    found = next(c for c in report.function(scope) if c.key == chart)
    store = form.cleaned_data.get("store")
    return chart_csv(
        found, first_day=scope.first_day, last_day=scope.last_day, store=store.code if store else ""
    )

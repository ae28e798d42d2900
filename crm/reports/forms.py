"""The date range and store a dashboard is drawn for."""

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django import forms
from django.http import QueryDict

from crm.models import User
from crm.permissions import reports_cover_all_stores, stores_reported_on
from crm.reports.base import ReportScope
from stores.models import Store

DEFAULT_DAYS = 30
# About two years: longer ranges are better read from an export of the data.
MAX_DAYS = 731
PRESETS = ((7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "12 months"))


def default_range(today: date, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """The last `days` days, today included."""
    return today - timedelta(days=days - 1), today


class ReportFilterForm(forms.Form):
    start = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
        error_messages={"required": "Give the first day.", "invalid": "Enter a date."},
    )
    end = forms.DateField(
        label="To",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
        error_messages={"required": "Give the last day.", "invalid": "Enter a date."},
    )
    store = forms.ModelChoiceField(
        label="Store",
        queryset=Store.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": "Choose one of the stores in the list."},
    )

    def __init__(self, query: QueryDict, *, user: User, today: date) -> None:
        """Bound to the query string; a range not given at all is the last 30 days."""
        data = query.copy()
        first, last = default_range(today)
        if "start" not in data and "end" not in data:
            data["start"], data["end"] = first.isoformat(), last.isoformat()
        super().__init__(data)
        self.today = today
        self.covers_all_stores = reports_cover_all_stores(user)
        store_field: Any = self.fields["store"]
        store_field.queryset = stores_reported_on(user).order_by("name")
        store_field.empty_label = "All stores" if self.covers_all_stores else "All my stores"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end > self.today:
                self.add_error(
                    "end",
                    f"The range can end today ({self.today:%b} {self.today.day}) at the latest.",
                )
            elif start > end:
                self.add_error("start", "The first day comes after the last day.")
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("start", f"Choose at most {MAX_DAYS} days (about two years).")
        return cleaned

    def full_clean(self) -> None:
        super().full_clean()
        # A field in error is marked for the eye and for screen readers, which are pointed at
        # the list of errors above the dashboards.
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = "report-errors"

    def scope(self, *, zone: tzinfo, now: datetime) -> ReportScope:
        """The valid form's range as UTC moments from midnight to midnight in `zone`, and the
        stores it covers: the one chosen, else all of them (supervisors: no filter at all)."""
        first, last = self.cleaned_data["start"], self.cleaned_data["end"]
        store: Store | None = self.cleaned_data.get("store")
        store_ids: tuple[int, ...] | None
        if store is not None:
            store_ids = (store.pk,)
        elif self.covers_all_stores:
            store_ids = None
        else:
            store_ids = tuple(self.fields["store"].queryset.values_list("pk", flat=True))  # type: ignore[attr-defined]
        return ReportScope(
            first_day=first,
            last_day=last,
            start=datetime.combine(first, time.min, tzinfo=zone),
            end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
            now=now,
            store_ids=store_ids,
        )

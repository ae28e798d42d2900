"""The admin's upload page for small legacy CSV files: upload, preview (the first rows parsed with
their errors and a dry run's counts), then confirm the import.

Between preview and confirm the upload is kept in a temporary file under VAR_DIR/imports, named
by a random token that only the uploader's session knows; it is deleted when the import runs and
swept after an hour. With several web servers VAR_DIR must be shared, or the confirm asks for the
file again."""

import csv
import io
import secrets
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from crm.permissions import AnyUser, require
from customers.importing import (
    CUSTOMER_COLUMNS,
    ImportFileError,
    ImportSummary,
    RowOutcome,
    import_customers,
)
from orders.importing import ORDER_COLUMNS, import_orders

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
PREVIEW_ROWS = 20
SHOWN_ERRORS = 200
KEPT_SECONDS = 3600
SESSION_KEY = "crm_import"

IMPORTS = {
    "customers": (import_customers, CUSTOMER_COLUMNS),
    "orders": (import_orders, ORDER_COLUMNS),
}


def is_admin(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds",
        choices=[("customers", "Customers"), ("orders", "Orders (one line a row)")],
        widget=forms.Select(attrs={"class": "form-select import-field"}),
    )
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, at most 5 MB.",
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control import-field", "accept": ".csv,text/csv"}
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file has {upload.size / 1024 / 1024:.1f} MB; the page takes at most 5 MB. "
                "Import bigger files with manage.py import_customers / import_orders."
            )
        return upload


def _upload_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sweep(directory: Path) -> None:
    cutoff = time.time() - KEPT_SECONDS
    for old in directory.glob("*.csv"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def _run(kind: str, path: Path, *, dry_run: bool) -> tuple[ImportSummary, list, list]:
    """The summary, the first rows' outcomes and the first errors (line, field, message)."""
    run, _ = IMPORTS[kind]
    preview: list[RowOutcome] = []

    def keep(outcome: RowOutcome) -> None:
        if len(preview) < PREVIEW_ROWS:
            preview.append(outcome)

    errors = io.StringIO()
    with path.open(encoding="utf-8-sig", newline="") as source:
        summary = run(source, dry_run=dry_run, errors=errors, on_outcome=keep)
    errors.seek(0)
    reader = csv.reader(errors)
    next(reader, None)
    shown = [row[:3] for _, row in zip(range(SHOWN_ERRORS), reader, strict=False)]
    return summary, preview, shown


@require_http_methods(["GET", "POST"])
@require(is_admin)
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.POST.get("action") == "confirm":
        return _confirm(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "columns": IMPORTS}
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        directory = _upload_dir()
        _sweep(directory)
        token = secrets.token_urlsafe(24)
        path = directory / f"{token}.csv"
        with path.open("wb") as target:
            for chunk in form.cleaned_data["file"].chunks():
                target.write(chunk)
        try:
            summary, preview, errors = _run(kind, path, dry_run=True)
        except (ImportFileError, UnicodeDecodeError) as error:
            path.unlink(missing_ok=True)
            message = (
                "The file is not UTF-8 text."
                if isinstance(error, UnicodeDecodeError)
                else str(error)
            )
            form.add_error("file", message)
            return render(request, "crm/import.html", context, status=400)
        request.session[SESSION_KEY] = {
            "token": token,
            "kind": kind,
            "name": form.cleaned_data["file"].name,
        }
        context.update(
            summary=summary,
            errors=errors,
            token=token,
            kind=kind,
            name=form.cleaned_data["file"].name,
            **_preview_table(preview),
        )
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return render(request, "crm/import.html", context, status=status)


def _preview_table(preview: list[RowOutcome]) -> dict[str, Any]:
    """The file's columns (as far as the previewed rows show them) and each row's values."""
    header: list[str] = []
    for outcome in preview:
        header.extend(name for name in outcome.row.record if name not in header)
    rows = [(outcome, [outcome.row.record.get(name, "") for name in header]) for outcome in preview]
    return {"header": header, "preview": rows}


def _confirm(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(SESSION_KEY) or {}
    token = request.POST.get("token", "")
    path = _upload_dir() / f"{pending.get('token', '')}.csv"
    context: dict[str, Any] = {"form": UploadForm(), "columns": IMPORTS}
    if (
        not token
        or not secrets.compare_digest(token, pending.get("token", ""))
        or not (path.is_file())
    ):
        context["expired"] = True
        return render(request, "crm/import.html", context, status=400)
    try:
        summary, _, errors = _run(pending["kind"], path, dry_run=False)
    finally:
        path.unlink(missing_ok=True)
        request.session.pop(SESSION_KEY, None)
    context.update(done=summary, errors=errors, kind=pending["kind"], name=pending.get("name"))
    return render(request, "crm/import.html", context)

"""Importing legacy customers from CSV: good rows stored, bad rows reported, dry runs change
nothing, re-imports match, and the file is streamed."""

import csv
import io
import tracemalloc
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from crm.models import Role
from customers.importing import import_customers
from customers.models import Activity, ContactKind, ContactPoint, Customer
from orders.models import Order
from tests.factories import ProductFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def error_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_bytes((DATA / "customers_import.csv").read_bytes())
    return path


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_customers", *args, stdout=out)
    return out.getvalue()


class TestImportCustomers:
    # Committed for real, row by row, as the command runs outside a test transaction.
    @pytest.mark.django_db(transaction=True)
    def test_good_rows_are_stored_and_bad_rows_reported_with_line_field_and_reason(
        self, source: Path
    ) -> None:
        output = run(str(source))

        assert "Rows read: 9, stored: 4, skipped with errors: 5." in output
        assert "Customers: 3 new, 1 matched to existing records." in output
        ana = Customer.objects.get(contact_points__value="ana.lopez@example.com")
        assert (ana.first_name, ana.last_name, ana.city, ana.country) == (
            "Ana",
            "López",
            "San Francisco",
            "US",
        )
        assert ana.customer_since.date().isoformat() == "2015-03-02"
        assert set(ana.contact_points.values_list("kind", "value")) == {
            (ContactKind.EMAIL, "ana.lopez@example.com"),
            (ContactKind.PHONE, "+14155550134"),
            (ContactKind.LOYALTY, "LC778801"),
            (ContactKind.EXTERNAL, "oldshop:C-1001"),
        }
        frank = Customer.objects.get(contact_points__value="frank@example.com")
        assert frank.first_name == 'Frank "Fritz"'
        assert frank.address_line1 == "1 Long\nRoad"
        assert Customer.objects.count() == 3

        errors = error_rows(source.with_name("customers.csv.errors.csv"))
        by_line = {(row["line"], row["field"]) for row in errors}
        assert by_line == {
            ("4", "email"),
            ("5", ""),
            ("6", "customer_since"),
            ("7", "external_id"),
            ("11", "country"),
        }
        carl = next(row for row in errors if row["line"] == "4")
        assert "not-an-email" in carl["message"]
        # The raw values follow, under the file's own column names.
        assert (carl["email"], carl["first_name"], carl["customer_since"]) == (
            "not-an-email",
            "Carl",
            "2019-01-01",
        )

    def test_dry_run_changes_no_table_and_reports_what_would_happen(self, source: Path) -> None:
        before = table_counts()

        output = run(str(source), "--dry-run")

        assert table_counts() == before
        assert "Dry run: nothing was changed." in output
        assert "Rows read: 9, would be stored: 4, skipped with errors: 5." in output
        assert "Customers: 3 new, 1 matched to existing records." in output
        assert len(error_rows(source.with_name("customers.csv.errors.csv"))) == 5

    def test_dry_run_with_small_batches_changes_nothing(self, source: Path) -> None:
        before = table_counts()
        run(str(source), "--dry-run", "--batch-size", "2")
        assert table_counts() == before

    def test_reimport_matches_instead_of_duplicating(self, source: Path, tmp_path: Path) -> None:
        run(str(source))
        counts = (Customer.objects.count(), ContactPoint.objects.count())

        output = run(str(source), "--errors", str(tmp_path / "again.csv"))

        assert (Customer.objects.count(), ContactPoint.objects.count()) == counts
        assert "Customers: 0 new, 4 matched to existing records." in output
        assert len(error_rows(tmp_path / "again.csv")) == 5

    def test_a_matched_customer_gets_new_contact_points_on_her_timeline(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "two.csv"
        path.write_text(
            "email,phone,first_name\nmia@example.com,,Mia\nmia@example.com,+1 212 555 0100,\n",
            encoding="utf-8",
        )
        run(str(path))
        mia = Customer.objects.get()
        assert mia.contact_points.count() == 2
        assert Activity.objects.filter(customer=mia, kind="contact_added").exists()

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ("", "empty"),
            ("first_name,last_name\nAna,L\n", "at least one of the columns"),
            ("email,shoe_size\na@example.com,7\n", "Unknown columns: shoe_size"),
            ("email,email\na@example.com,b@example.com\n", "twice"),
        ],
    )
    def test_a_file_that_cant_be_imported_is_refused_as_a_whole(
        self, tmp_path: Path, content: str, message: str
    ) -> None:
        path = tmp_path / "bad.csv"
        path.write_text(content, encoding="utf-8")
        with pytest.raises(CommandError, match=message):
            run(str(path))
        assert Customer.objects.count() == 0

    def test_rows_with_the_wrong_number_of_values_and_blank_lines(self, tmp_path: Path) -> None:
        path = tmp_path / "ragged.csv"
        path.write_text(
            "\ufeffemail,first_name\na@example.com,Ann,extra\n\nb@example.com,Bo\n",
            encoding="utf-8",
        )
        output = run(str(path))
        assert "Rows read: 2, stored: 1, skipped with errors: 1." in output
        (error,) = error_rows(tmp_path / "ragged.csv.errors.csv")
        assert error["line"] == "2"
        assert "3 values" in error["message"]

    def test_the_error_report_shows_formulas_as_text(self, tmp_path: Path) -> None:
        path = tmp_path / "formula.csv"
        path.write_text(
            'email,first_name\nnot-an-email,"=HYPERLINK(""http://evil.example"",""x"")"\n',
            encoding="utf-8",
        )
        run(str(path))
        (error,) = error_rows(tmp_path / "formula.csv.errors.csv")
        assert error["first_name"] == '\'=HYPERLINK("http://evil.example","x")'

    def test_over_long_values_are_errors_not_crashes(self, tmp_path: Path) -> None:
        path = tmp_path / "long.csv"
        path.write_text(
            f"email,first_name,postcode\na@example.com,{'A' * 101},1\n"
            f"b@example.com,B,{'9' * 21}\nc@example.com,{'x' * 5000},\n",
            encoding="utf-8",
        )
        output = run(str(path))
        assert "stored: 0, skipped with errors: 3." in output
        fields = [row["field"] for row in error_rows(tmp_path / "long.csv.errors.csv")]
        assert fields == ["first_name", "postcode", "first_name"]


def generated_customers(rows: int):
    """A CSV of `rows` customers, produced line by line (never held as a whole). One row in
    250 is a new customer stored through identity resolution; the others are refused by the
    same validation (a bad date), which keeps the test fast while every row is read, checked,
    counted and, when bad, written to the error file."""
    yield "email,first_name,last_name,city,country,customer_since\n"
    for n in range(rows):
        since = "2019-05-01" if n % 250 == 0 else f"day {n}"
        yield f"person{n}@example.com,First{n},Last{n},Springfield,US,{since}\n"


def test_a_big_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    rows = 20_000
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as file:
        file.writelines(generated_customers(rows))
    with path.open(encoding="utf-8", newline="") as file:
        all_rows_size = _size_of_all_rows(file)

    tracemalloc.start()
    try:
        with (
            path.open(encoding="utf-8", newline="") as file,
            (tmp_path / "errors.csv").open("w", encoding="utf-8", newline="") as errors,
        ):
            summary = import_customers(file, errors=errors)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert summary.rows_read == rows
    assert summary.new_customers == rows // 250
    assert summary.rows_skipped == rows - rows // 250
    assert Customer.objects.count() == rows // 250
    # Holding every parsed row would take all_rows_size; a streaming import stays far below.
    assert peak < all_rows_size / 4, (peak, all_rows_size)


def _size_of_all_rows(file) -> int:
    tracemalloc.start()
    try:
        rows = list(csv.reader(file))
        size, _ = tracemalloc.get_traced_memory()
        del rows
    finally:
        tracemalloc.stop()
    return size


class TestUploadPage:
    @pytest.fixture(autouse=True)
    def _uploads_in_tmp(self, settings, tmp_path: Path) -> None:
        settings.VAR_DIR = tmp_path

    @pytest.fixture
    def admin(self) -> Client:
        client = Client()
        client.force_login(UserFactory(role=Role.ADMIN, is_staff=True))
        return client

    def upload(self, client: Client, name: str = "customers_import.csv", kind: str = "customers"):
        with (DATA / name).open("rb") as file:
            return client.post(
                reverse("imports:upload"), {"action": "preview", "kind": kind, "file": file}
            )

    def test_preview_shows_the_rows_with_their_errors_and_the_dry_run_counts(
        self, admin: Client
    ) -> None:
        before = table_counts()

        response = self.upload(admin)

        assert response.status_code == 200
        assert table_counts() == before  # the preview is a dry run
        page = response.content.decode()
        assert "Rows read: 9, would be stored: 4, skipped with errors: 5." in page
        assert "Customers: 3 new, 1 matched to existing records." in page
        assert len(response.context["preview"]) == 9
        outcome, values = response.context["preview"][2]
        assert outcome.row.line == 4
        assert [p.field for p in outcome.problems] == ["email"]
        assert values[0] == "not-an-email"
        assert "is not a valid e-mail address" in page
        assert "Import 4 good rows" in page

    def test_confirm_imports_the_kept_upload_once(self, admin: Client, tmp_path: Path) -> None:
        token = self.upload(admin).context["token"]
        assert len(list((tmp_path / "imports").glob("*.csv"))) == 1

        response = admin.post(reverse("imports:upload"), {"action": "confirm", "token": token})

        assert response.status_code == 200
        assert "Rows read: 9, stored: 4, skipped with errors: 5." in response.content.decode()
        assert Customer.objects.count() == 3
        assert list((tmp_path / "imports").glob("*.csv")) == []
        # Confirming again finds nothing waiting: nothing is imported twice.
        again = admin.post(reverse("imports:upload"), {"action": "confirm", "token": token})
        assert again.status_code == 400
        assert "no longer waiting" in again.content.decode()

    def test_orders_preview_and_confirm(self, admin: Client) -> None:
        StoreFactory(code="imp01")
        ProductFactory(sku="TEE-001")
        ProductFactory(sku="MUG-002")
        preview = self.upload(admin, "orders_import.csv", kind="orders")
        assert "Orders: 3 new, 0 already imported; new customers: 3." in preview.content.decode()
        assert Order.objects.count() == 0

        admin.post(
            reverse("imports:upload"), {"action": "confirm", "token": preview.context["token"]}
        )
        assert Order.objects.count() == 3

    def test_another_session_cannot_confirm_an_upload(self, admin: Client) -> None:
        token = self.upload(admin).context["token"]
        other = Client()
        other.force_login(UserFactory(role=Role.ADMIN, is_staff=True))
        response = other.post(reverse("imports:upload"), {"action": "confirm", "token": token})
        assert response.status_code == 400
        assert Customer.objects.count() == 0

    def test_a_file_that_cant_be_imported_is_refused_with_a_reason(self, admin: Client) -> None:
        response = admin.post(
            reverse("imports:upload"),
            {
                "action": "preview",
                "kind": "customers",
                "file": SimpleUploadedFile("x.csv", b"shoe_size\n7\n"),
            },
        )
        assert response.status_code == 400
        assert "Unknown columns: shoe_size" in response.content.decode()
        latin1 = admin.post(
            reverse("imports:upload"),
            {
                "action": "preview",
                "kind": "customers",
                "file": SimpleUploadedFile("x.csv", "email\nzoë@example.com\n".encode("latin-1")),
            },
        )
        assert latin1.status_code == 400
        assert "not UTF-8" in latin1.content.decode()

    def test_files_over_5_mb_are_refused(self, admin: Client) -> None:
        big = SimpleUploadedFile("big.csv", b"email\n" + b"a@example.com\n" * 400_000)
        response = admin.post(
            reverse("imports:upload"), {"action": "preview", "kind": "customers", "file": big}
        )
        assert response.status_code == 400
        assert "at most 5 MB" in response.content.decode()

    @pytest.mark.parametrize("role", [Role.REP, Role.SUPERVISOR, Role.MANAGER, Role.CUSTOMER])
    def test_only_admins_may_use_it(self, role: str) -> None:
        client = Client()
        client.force_login(UserFactory(role=role))
        assert client.get(reverse("imports:upload")).status_code == 403
        assert self.upload(client).status_code == 403
        assert Customer.objects.count() == 0

    def test_anonymous_visitors_are_sent_to_sign_in(self) -> None:
        response = Client().get(reverse("imports:upload"))
        assert response.status_code == 302
        assert "login" in response["Location"]

    def test_posts_need_the_csrf_token(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(UserFactory(role=Role.ADMIN, is_staff=True))
        assert client.get(reverse("imports:upload")).status_code == 200
        assert self.upload(client).status_code == 403

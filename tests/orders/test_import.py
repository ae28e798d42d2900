"""Importing legacy orders from CSV: consecutive rows form an order, bad orders are reported
row by row, a dry run changes nothing, and a re-import stores nothing twice."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from customers.models import Customer
from orders.models import Order, OrderLine, OrderStatus, Product
from stores.models import StockLevel, Store
from tests.factories import ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def error_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_orders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def catalogue():
    StoreFactory(code="imp01", name="Union Square")
    ProductFactory(sku="TEE-001", name="Linen tee", price=Decimal("30.00"))
    ProductFactory(sku="MUG-002", name="Mug", price=Decimal("12.00"))


@pytest.fixture
def source(tmp_path: Path, catalogue) -> Path:
    path = tmp_path / "orders.csv"
    path.write_bytes((DATA / "orders_import.csv").read_bytes())
    return path


class TestImportOrders:
    # Committed for real, row by row, as the command runs outside a test transaction.
    @pytest.mark.django_db(transaction=True)
    def test_good_orders_are_stored_and_each_bad_row_is_reported_with_why(
        self, source: Path
    ) -> None:
        output = run(str(source))

        assert "Rows read: 11, stored: 4, skipped with errors: 7." in output
        assert "Orders: 3 new, 0 already imported; new customers: 3." in output
        store_sale = Order.objects.get(external_source="oldpos", external_id="A-1")
        assert store_sale.store.code == "imp01"
        assert store_sale.status == OrderStatus.COMPLETED
        assert store_sale.placed_at.isoformat() == "2019-05-01T14:30:00+00:00"
        assert sorted(store_sale.lines.values_list("sku", "quantity", "unit_price")) == [
            ("MUG-002", 1, Decimal("12.00")),  # no price given: the catalogue's
            ("TEE-001", 2, Decimal("19.90")),
        ]
        assert store_sale.total == Decimal("51.80")
        assert store_sale.customer.contact_points.get().value == "ana@example.com"
        assert Order.objects.get(external_id="I-1").status == OrderStatus.PAID
        assert Order.objects.count() == 3

        errors = error_rows(source.with_name("orders.csv.errors.csv"))
        assert {(row["line"], row["field"]) for row in errors} == {
            ("5", "store_code"),  # unknown store
            ("6", "sku"),  # unknown SKU ...
            ("7", ""),  # ... spoils the other line of its order
            ("8", "placed_at"),
            ("9", "quantity"),  # negative
            ("10", "email"),
            ("11", "status"),
        }
        messages = {row["line"]: row["message"] for row in errors}
        assert "nowhere" in messages["5"]
        assert "NOPE-999" in messages["6"]
        assert "line 6" in messages["7"]
        assert messages["9"] == "The quantity must be from 1 to 100,000."
        assert next(row for row in errors if row["line"] == "9")["quantity"] == "-3"

    def test_dry_run_changes_no_table_and_reports_what_would_happen(self, source: Path) -> None:
        before = table_counts()

        output = run(str(source), "--dry-run")

        assert table_counts() == before
        assert "Dry run: nothing was changed." in output
        assert "Rows read: 11, would be stored: 4, skipped with errors: 7." in output
        assert "Orders: 3 new, 0 already imported; new customers: 3." in output
        assert len(error_rows(source.with_name("orders.csv.errors.csv"))) == 7

    def test_reimport_stores_nothing_twice(self, source: Path) -> None:
        run(str(source))
        counts = (Order.objects.count(), OrderLine.objects.count(), Customer.objects.count())

        output = run(str(source))

        assert (Order.objects.count(), OrderLine.objects.count(), Customer.objects.count()) == (
            counts
        )
        assert "Orders: 0 new, 3 already imported; new customers: 0." in output

    def test_orders_keyed_by_number_are_not_duplicated_either(
        self, tmp_path: Path, catalogue
    ) -> None:
        path = tmp_path / "numbers.csv"
        path.write_text(
            "number,channel,placed_at,email,sku,quantity\n"
            "W900001,web,2020-01-01T10:00:00Z,zoe@example.com,TEE-001,1\n"
            "W900001,web,2020-01-01T10:00:00Z,zoe@example.com,MUG-002,2\n",
            encoding="utf-8",
        )
        run(str(path))
        output = run(str(path))
        order = Order.objects.get()
        assert order.number == "W900001"
        assert order.lines.count() == 2
        assert "Orders: 0 new, 1 already imported" in output

    def test_rows_of_one_order_that_are_not_consecutive_are_refused(
        self, tmp_path: Path, catalogue
    ) -> None:
        path = tmp_path / "scattered.csv"
        path.write_text(
            "source_system,external_id,channel,placed_at,email,sku,quantity\n"
            "shop,1,web,2020-01-01,a@example.com,TEE-001,1\n"
            "shop,2,web,2020-01-01,b@example.com,TEE-001,1\n"
            "shop,1,web,2020-01-01,a@example.com,MUG-002,1\n",
            encoding="utf-8",
        )
        output = run(str(path))
        assert "stored: 2, skipped with errors: 1." in output
        (error,) = error_rows(tmp_path / "scattered.csv.errors.csv")
        assert error["line"] == "4"
        assert "consecutive" in error["message"]
        assert Order.objects.get(external_id="1").lines.count() == 1

    def test_order_fields_that_differ_between_rows_of_one_order(
        self, tmp_path: Path, catalogue
    ) -> None:
        path = tmp_path / "differ.csv"
        path.write_text(
            "source_system,external_id,channel,placed_at,email,sku,quantity\n"
            "shop,1,web,2020-01-01,a@example.com,TEE-001,1\n"
            "shop,1,phone,2020-01-01,,MUG-002,1\n",
            encoding="utf-8",
        )
        run(str(path))
        errors = error_rows(tmp_path / "differ.csv.errors.csv")
        assert [(row["line"], row["field"]) for row in errors] == [("2", ""), ("3", "channel")]
        assert Order.objects.count() == 0

    def test_store_sales_need_their_store_and_wrong_values_are_errors(
        self, tmp_path: Path, catalogue
    ) -> None:
        path = tmp_path / "bad.csv"
        path.write_text(
            "external_id,source_system,channel,placed_at,email,sku,quantity,unit_price\n"
            "1,pos,store,2020-01-01,a@example.com,TEE-001,1,\n"
            "2,pos,fax,2020-01-01,a@example.com,TEE-001,1,\n"
            "3,pos,web,2999-01-01,a@example.com,TEE-001,1,\n"
            "4,pos,web,2020-01-01,a@example.com,TEE-001,two,\n"
            "5,pos,web,2020-01-01,a@example.com,TEE-001,1,-1\n"
            "6,pos,web,2020-01-01,a@example.com,TEE-001,1,1.234\n"
            "7,pos,web,2020-01-01,a@example.com,,1,\n"
            "8,,web,2020-01-01,a@example.com,TEE-001,1,\n"
            ",,web,2020-01-01,a@example.com,TEE-001,1,\n"
            "10,pos,web,2020-01-01,,TEE-001,1,\n",
            encoding="utf-8",
        )
        output = run(str(path))
        assert "stored: 0, skipped with errors: 10." in output
        fields = [row["field"] for row in error_rows(tmp_path / "bad.csv.errors.csv")]
        assert fields == [
            "store_code",
            "channel",
            "placed_at",
            "quantity",
            "unit_price",
            "unit_price",
            "sku",
            "source_system",
            "external_id",
            "",
        ]
        assert Order.objects.count() == 0

    def test_missing_columns_refuse_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "cols.csv"
        path.write_text("email,sku\na@example.com,TEE-001\n", encoding="utf-8")
        with pytest.raises(CommandError, match="Missing columns: channel, placed_at, quantity"):
            run(str(path))


@pytest.mark.django_db
def test_imported_store_sales_leave_todays_stock_alone(tmp_path: Path, catalogue) -> None:
    store, mug = Store.objects.get(code="imp01"), Product.objects.get(sku="MUG-002")
    StockLevel.objects.create(store=store, product=mug, on_hand=10)
    path = tmp_path / "sales.csv"
    path.write_text(
        "source_system,external_id,channel,placed_at,store_code,phone,sku,quantity,status\n"
        "pos,S-1,store,2021-03-04T12:00:00+00:00,imp01,+14155550100,MUG-002,4,completed\n",
        encoding="utf-8",
    )

    run(str(path))

    assert Order.objects.get().store == store
    assert StockLevel.objects.get(store=store, product=mug).on_hand == 10

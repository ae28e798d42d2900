"""Importing legacy orders from CSV: one row per order line; the consecutive rows with the same
order key (source_system + external_id, or number) form one order, recorded by order_record."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TextIO

from django.core.exceptions import ValidationError

from crm.models import Channel
from customers.importing import (
    BATCH_SIZE,
    ImportFileError,
    ImportSummary,
    Outcome,
    Problem,
    Row,
    RowOutcome,
    check_lengths,
    parse_datetime,
    problems_of,
    run_import,
    store_unit,
)
from customers.services import Identity
from orders.models import Order, OrderStatus, Product
from orders.services import STORE_CHANNELS, LineInput, order_record
from stores.models import Store

ORDER_COLUMNS: dict[str, str] = {
    "source_system": "The system the order comes from (e.g. oldpos); with external_id it is the "
    "order's key, unique per system.",
    "external_id": "The order's id in that system. Give external_id or number.",
    "number": "Order number to keep (e.g. W123456); the key when there is no external_id. "
    "Blank: a number is given.",
    "channel": "web, store, phone or kiosk.",
    "placed_at": "ISO 8601 date-time (2019-05-01T10:30:00+02:00); without an offset it is read "
    "in the CRM's time zone.",
    "store_code": "Code of the store of a store or kiosk sale (required for those channels).",
    "email": "The buyer's e-mail address.",
    "phone": "The buyer's phone number.",
    "loyalty_number": "The buyer's loyalty card number.",
    "first_name": "The buyer's first name (optional).",
    "last_name": "The buyer's last name (optional).",
    "sku": "The product's SKU; it must exist in the catalogue.",
    "quantity": "Whole number, at least 1.",
    "unit_price": "Price charged per item (e.g. 19.90); blank: the catalogue price.",
    "status": "placed, paid, shipped, delivered, completed or cancelled; blank: completed for a "
    "store sale, placed otherwise.",
}
REQUIRED_COLUMNS = ("channel", "placed_at", "sku", "quantity")
ORDER_FIELDS = (
    "source_system",
    "external_id",
    "number",
    "channel",
    "placed_at",
    "store_code",
    "email",
    "phone",
    "loyalty_number",
    "first_name",
    "last_name",
    "status",
)
MAX_ORDER_LINES = 1000
MAX_QUANTITY = 100_000
_ORDER_LENGTHS = {
    "source_system": 32,
    "external_id": 64,
    "number": 32,
    "first_name": 100,
    "last_name": 100,
}
_SERVICE_FIELDS = {"store": "store_code", "lines": "sku", "external_ids": "external_id"}
_CACHE_LIMIT = 10_000


def order_key(row: Row) -> tuple[str, ...] | None:
    record = row.record
    if record.get("external_id"):
        return ("external", record.get("source_system", ""), record["external_id"])
    if record.get("number"):
        return ("number", record["number"])
    return None


class OrderImporter:
    kind = "orders"
    columns = tuple(ORDER_COLUMNS)

    def __init__(self) -> None:
        # Orders with an id from here on were stored by this run: meeting one again means the
        # rows of an order were not consecutive.
        last = Order.objects.order_by("-pk").values_list("pk", flat=True).first()
        self.first_order_id = (last or 0) + 1
        self._stores: dict[str, Store | None] = {}
        self._skus: dict[str, bool] = {}

    def check_header(self, header: Sequence[str]) -> None:
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if "external_id" not in header and "number" not in header:
            missing.append("external_id or number")
        if missing:
            raise ImportFileError(f"Missing columns: {', '.join(missing)}.")

    def units(self, rows: Iterator[Row]) -> Iterator[list[Row]]:
        """The consecutive rows of each order; never more than MAX_ORDER_LINES held at once."""
        group: list[Row] = []
        key: tuple[str, ...] | None = None
        oversized: tuple[str, ...] | None = None
        for row in rows:
            row_key = order_key(row)
            if row_key is not None and row_key == oversized:
                row.problems.append(Problem("", _too_many_lines()))
                yield [row]
                continue
            if group and (row_key is None or row_key != key):
                yield group
                group = []
            if row_key is None:
                row.problems.append(
                    Problem("external_id", "Each row needs the order's external_id or number.")
                )
                yield [row]
                continue
            key = row_key
            group.append(row)
            if len(group) > MAX_ORDER_LINES:
                for member in group:
                    member.problems.append(Problem("", _too_many_lines()))
                yield group
                group, oversized = [], key
        if group:
            yield group

    def store(self, unit: list[Row]) -> list[RowOutcome]:
        first = unit[0]
        problems: dict[int, list[Problem]] = {id(row): list(row.problems) for row in unit}
        parsed = None
        if not any(problems.values()):
            parsed = self._parse(unit, problems)
        if parsed is not None and not any(problems.values()):
            existing = self._existing(first)
            if existing is not None:
                if existing.pk >= self.first_order_id:
                    problems[id(first)].append(
                        Problem(
                            "",
                            f"Order {existing.number} appeared earlier in this file: the rows of "
                            "one order must be consecutive.",
                        )
                    )
                else:
                    return [RowOutcome(row, Outcome.EXISTING) for row in unit]
            else:
                result = store_unit(lambda: self._record(parsed))
                if isinstance(result, str):
                    return [RowOutcome(row, result) for row in unit]
                problems[id(first)].extend(
                    Problem(_SERVICE_FIELDS.get(p.field, p.field), p.message) for p in result
                )
        bad_lines = [str(row.line) for row in unit if problems[id(row)]]
        for row in unit:
            if not problems[id(row)]:
                problems[id(row)].append(
                    Problem(
                        "",
                        "Not imported: line "
                        + ", ".join(bad_lines)
                        + " of the same order has errors.",
                    )
                )
        return [RowOutcome(row, Outcome.ERROR, problems[id(row)]) for row in unit]

    def _parse(self, unit: list[Row], problems: dict[int, list[Problem]]) -> dict | None:
        first = unit[0]
        record = first.record
        mine = problems[id(first)]
        mine.extend(check_lengths(first, _ORDER_LENGTHS))
        for row in unit[1:]:
            for name in ORDER_FIELDS:
                if row.record.get(name, "") not in ("", record.get(name, "")):
                    problems[id(row)].append(
                        Problem(name, f"Differs from line {first.line}, the order's first line.")
                    )
        if record.get("external_id") and not record.get("source_system"):
            mine.append(Problem("source_system", "An external id needs its source_system."))
        channel = record.get("channel", "").lower()
        sales_channels = {Channel.WEB, Channel.STORE, Channel.PHONE, Channel.KIOSK}
        if channel not in sales_channels:
            mine.append(
                Problem(
                    "channel",
                    f"“{record.get('channel', '')}” is not a sales channel "
                    "(web, store, phone, kiosk).",
                )
            )
        placed_at: datetime | None = None
        if not record.get("placed_at"):
            mine.append(Problem("placed_at", "When the order was placed is needed."))
        else:
            try:
                placed_at = parse_datetime(record["placed_at"])
            except ValidationError as error:
                mine.append(Problem("placed_at", error.messages[0]))
        store = None
        if record.get("store_code"):
            store = self._store(record["store_code"])
            if store is None:
                mine.append(
                    Problem("store_code", f"No store has the code “{record['store_code']}”.")
                )
        elif channel in STORE_CHANNELS:
            mine.append(Problem("store_code", "A store or kiosk sale must name its store."))
        status = record.get("status", "").lower()
        if status and status not in OrderStatus.values:
            mine.append(
                Problem(
                    "status",
                    f"“{record['status']}” is not an order status "
                    f"({', '.join(OrderStatus.values)}).",
                )
            )
        identity = Identity(
            email=record.get("email", ""),
            phone=record.get("phone", ""),
            loyalty_number=record.get("loyalty_number", ""),
            first_name=record.get("first_name", ""),
            last_name=record.get("last_name", ""),
        )
        try:
            identity.contact_points()
        except ValidationError as error:
            mine.extend(problems_of(error))
        lines = []
        for row in unit:
            line = self._line(row, problems[id(row)])
            if line is not None:
                lines.append(line)
        if any(problems.values()):
            return None
        return {
            "identity": identity,
            "channel": channel,
            "lines": lines,
            "store": store,
            "placed_at": placed_at,
            "number": record.get("number", ""),
            "status": status,
            "external_source": record.get("source_system", "") if record.get("external_id") else "",
            "external_id": record.get("external_id", ""),
        }

    def _line(self, row: Row, problems: list[Problem]) -> LineInput | None:
        sku = row.record.get("sku", "")
        if not sku:
            problems.append(Problem("sku", "The SKU is needed."))
        elif not self._sku_exists(sku):
            problems.append(Problem("sku", f"Unknown SKU “{sku}”."))
        quantity = None
        try:
            quantity = int(row.record.get("quantity", ""))
        except ValueError:
            problems.append(
                Problem("quantity", f"“{row.record.get('quantity', '')}” is not a whole number.")
            )
        else:
            if not 1 <= quantity <= MAX_QUANTITY:
                problems.append(
                    Problem("quantity", f"The quantity must be from 1 to {MAX_QUANTITY:,}.")
                )
        price = None
        raw_price = row.record.get("unit_price", "")
        if raw_price:
            try:
                price = Decimal(raw_price)
            except InvalidOperation:
                price = None
            if price is None or not price.is_finite():
                problems.append(Problem("unit_price", f"“{raw_price}” is not a price."))
                price = None
            elif price < 0:
                problems.append(Problem("unit_price", "The price cannot be negative."))
            elif price >= Decimal("100000000") or price.as_tuple().exponent < -2:  # type: ignore[operator]
                problems.append(
                    Problem("unit_price", f"“{raw_price}” is not a price with at most 2 decimals.")
                )
        if problems or quantity is None:
            return None
        return LineInput(sku=sku, quantity=quantity, unit_price=price)

    def _existing(self, row: Row) -> Order | None:
        record = row.record
        if record.get("external_id"):
            return Order.objects.filter(
                external_source=record.get("source_system", ""), external_id=record["external_id"]
            ).first()
        return Order.objects.filter(number=record["number"]).first()

    def _record(self, parsed: dict) -> str:
        # History: today's stock counts already reflect these sales.
        order_record(**parsed, take_stock=False)
        return Outcome.CREATED

    def _store(self, code: str) -> Store | None:
        if code not in self._stores:
            if len(self._stores) > _CACHE_LIMIT:
                self._stores.clear()
            self._stores[code] = Store.objects.filter(code=code).first()
        return self._stores[code]

    def _sku_exists(self, sku: str) -> bool:
        if sku not in self._skus:
            if len(self._skus) > _CACHE_LIMIT:
                self._skus.clear()
            self._skus[sku] = Product.objects.filter(sku=sku).exists()
        return self._skus[sku]


def _too_many_lines() -> str:
    return f"An order can have at most {MAX_ORDER_LINES:,} lines."


def import_orders(
    file: Iterable[str],
    *,
    dry_run: bool = False,
    errors: TextIO | None = None,
    batch_size: int = BATCH_SIZE,
    on_outcome: Callable[[RowOutcome], None] | None = None,
) -> ImportSummary:
    """Import legacy orders (columns: ORDER_COLUMNS) through order_record. An order already
    imported (same source_system and external_id, or same number) is counted, not stored again."""
    return run_import(
        OrderImporter(),
        file,
        dry_run=dry_run,
        errors=errors,
        batch_size=batch_size,
        on_outcome=on_outcome,
    )

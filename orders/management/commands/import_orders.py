"""manage.py import_orders FILE.csv: legacy orders through order_record."""

from customers.management.commands.import_customers import ImportCommand
from orders.importing import ORDER_COLUMNS, import_orders


class Command(ImportCommand):
    help = "Import legacy orders from a CSV file, one order line a row."
    intro = (
        "Rows with the same order key (source_system + external_id, or number when there is "
        "no external_id) form one order, and the rows of one order must be consecutive. "
        "Order fields (all but sku, quantity, unit_price) are read from the order's first row; "
        "a later row that gives another value is an error. Required columns: channel, "
        "placed_at, sku, quantity, and external_id or number. An order already stored (same "
        "source_system and external_id, or same number) is counted as already imported and not "
        "stored again, so a file can be imported twice safely. If any row of an order has an "
        "error, the whole order is skipped."
    )
    columns = ORDER_COLUMNS
    run = staticmethod(import_orders)

"""Every write to orders: recording them (orders.py), pickups (pickups.py), returns (returns.py)."""

from orders.services.orders import (
    NUMBER_PREFIX,
    STORE_CHANNELS,
    LineInput,
    order_default_fulfilment,
    order_default_status,
    order_lines_priced,
    order_number,
    order_placed_summary,
    order_record,
)
from orders.services.pickups import (
    pickup_collect,
    pickup_create,
    pickup_set_status,
    pickups_expire,
    pickups_remind,
)

__all__ = [
    "NUMBER_PREFIX",
    "STORE_CHANNELS",
    "LineInput",
    "order_default_fulfilment",
    "order_default_status",
    "order_lines_priced",
    "order_number",
    "order_placed_summary",
    "order_record",
    "pickup_collect",
    "pickup_create",
    "pickup_set_status",
    "pickups_expire",
    "pickups_remind",
]

"""Every change to stock: one locked read-modify-write per change, with its movement row."""

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import User
from orders.models import Product
from stores.models import StockAction, StockLevel, StockMovement, Store

# What each action does to (on hand, reserved), per unit.
_EFFECT: dict[str, tuple[int, int]] = {
    StockAction.RECEIVE: (1, 0),
    StockAction.SELL: (-1, 0),
    StockAction.RESERVE: (0, 1),
    StockAction.RELEASE: (0, -1),
    StockAction.SELL_RESERVED: (-1, -1),
    StockAction.RETURN_TO_STOCK: (1, 0),
}


@transaction.atomic
def stock_adjust(
    *,
    store: Store,
    product: Product,
    action: str,
    quantity: int,
    actor: User | None = None,
    reason: str = "",
    reference: str = "",
) -> StockLevel:
    """Apply one stock change at one location and record it as a movement. Stock is never sold
    or reserved beyond what is available (on hand less reserved), and a reservation is only
    released or collected up to what is reserved. The pickup flow reserves when the order is
    placed, releases on expiry or cancellation and sells the reservation on collection; a till
    sale sells from available stock; returns put stock back with return_to_stock."""
    if action not in _EFFECT:
        raise ValidationError({"action": [f"“{action}” is not a stock action."]})
    # bool is an int to Python, but True units of stock is a bug in the caller.
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationError({"quantity": ["The quantity must be a whole number of at least 1."]})

    level = _locked_level(store=store, product=product)
    on_hand_step, reserved_step = _EFFECT[action]
    on_hand = level.on_hand + on_hand_step * quantity
    reserved = level.reserved + reserved_step * quantity
    if reserved < 0:
        raise ValidationError(
            {"quantity": [f"Only {level.reserved} of {product.sku} reserved at {store.name}."]}
        )
    if on_hand < reserved:
        raise ValidationError(
            {"quantity": [f"Only {level.available} of {product.sku} available at {store.name}."]}
        )

    level.on_hand, level.reserved = on_hand, reserved
    level.save(update_fields=["on_hand", "reserved", "updated_at"])
    StockMovement.objects.create(
        store=store,
        product=product,
        kind=action,
        on_hand_change=on_hand_step * quantity,
        reserved_change=reserved_step * quantity,
        on_hand_after=on_hand,
        reserved_after=reserved,
        actor=actor,
        reason=reason,
        reference=reference,
    )
    return level


def _locked_level(*, store: Store, product: Product) -> StockLevel:
    """The stock level row, locked until the transaction ends; made at zero if missing. The lock
    is what keeps two concurrent changes from both reading the same figures and one of them being
    lost, or both reserving the last unit."""
    locked = StockLevel.objects.select_for_update().filter(store=store, product=product)
    level = locked.first()
    if level is None:
        # ON CONFLICT DO NOTHING: when two first changes race, one inserts, the other waits for it
        # to commit and skips; both then lock the one row.
        StockLevel.objects.bulk_create(
            [StockLevel(store=store, product=product)], ignore_conflicts=True
        )
        level = locked.get()
    return level

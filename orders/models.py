"""Products and orders from every channel."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from crm.models import Channel


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField("SKU", max_length=32, unique=True)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Fulfilment(models.TextChoices):
    SHIP = "ship", "Ship to home"
    PICKUP = "pickup", "Pick up in store"
    # Taken home from the till at a store sale.
    CARRY_OUT = "carry_out", "Taken at the till"


class Order(models.Model):
    number = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="orders"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    # The store where a store, kiosk or phone-in-store sale happened.
    store = models.ForeignKey(
        "stores.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    fulfilment = models.CharField(
        max_length=16, choices=Fulfilment.choices, default=Fulfilment.SHIP
    )
    # Where a pick-up order is collected (may differ from `store`, where a kiosk order was placed).
    pickup_store = models.ForeignKey(
        "stores.Store",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pickup_orders",
    )
    placed_at = models.DateTimeField(default=timezone.now)
    currency = models.CharField(max_length=3, default="USD")
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    # Sales tax on the lines; a returned line refunds its share, in proportion to its total.
    tax = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    # The order's id in the system that sent it (web shop, POS), unique per system.
    external_source = models.CharField(max_length=32, blank=True)
    external_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~models.Q(external_id=""),
                name="order_external_id_unique_per_source",
            )
        ]
        indexes = [
            models.Index(
                "customer", models.F("placed_at").desc(), name="order_customer_placed_idx"
            ),
            # Reports: who bought in which channel within a date range, read from the index alone.
            models.Index(
                fields=["placed_at"],
                include=["customer", "channel", "store"],
                name="order_placed_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", args=[self.number])


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Snapshot of what was sold, so the order reads the same after the catalogue changes.
    sku = models.CharField("SKU", max_length=32)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


class PickupStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    PREPARING = "preparing", "Preparing"
    READY = "ready", "Ready for pickup"
    COLLECTED = "collected", "Collected"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class Pickup(models.Model):
    """A pick-up order's life at its store. Its status changes only through the pickup status
    service, which keeps the history in PickupEvent."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="pickup")
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="pickups")
    status = models.CharField(
        max_length=16, choices=PickupStatus.choices, default=PickupStatus.PLACED
    )
    # Shown to the customer in the "ready" e-mail and entered or scanned at the counter.
    code = models.CharField(max_length=12, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    # When the code could not be given, the associate checked an ID instead and said why.
    id_check_reason = models.CharField(max_length=255, blank=True)
    wrong_code_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The counter's tabs, listed and counted (with the done tab's window) from the index.
            models.Index(
                fields=["store", "status", "created_at"],
                include=["updated_at"],
                name="pickup_queue_idx",
            ),
            models.Index(fields=["status", "hold_until"], name="pickup_hold_idx"),
            # Reports: pickups made ready, and collected, within a date range.
            models.Index(
                fields=["ready_at"],
                condition=models.Q(ready_at__isnull=False),
                name="pickup_ready_idx",
            ),
            models.Index(
                fields=["collected_at"],
                condition=models.Q(collected_at__isnull=False),
                name="pickup_collected_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Pickup of order {self.order_id} ({self.status})"


class PickupEvent(models.Model):
    """One status change of a pickup: who moved it, from what to what, and why."""

    pickup = models.ForeignKey(Pickup, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=PickupStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=PickupStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status}"


class ReturnReason(models.TextChoices):
    DAMAGED = "damaged", "Damaged or faulty"
    WRONG_ITEM = "wrong_item", "Wrong item sent"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    ARRIVED_LATE = "arrived_late", "Arrived too late"
    DOES_NOT_FIT = "does_not_fit", "Doesn't fit"
    CHANGED_MIND = "changed_mind", "Changed mind"
    OTHER = "other", "Other"


# The retailer's fault: these refund the shipping charge too.
RETAILER_FAULT_REASONS = frozenset(
    {
        ReturnReason.DAMAGED,
        ReturnReason.WRONG_ITEM,
        ReturnReason.NOT_AS_DESCRIBED,
        ReturnReason.ARRIVED_LATE,
    }
)


class ItemCondition(models.TextChoices):
    RESELLABLE = "resellable", "Resellable"
    WRITE_OFF = "write_off", "Not resellable (write-off)"


class RefundMethod(models.TextChoices):
    ORIGINAL_PAYMENT = "original_payment", "Original payment"
    STORE_CREDIT = "store_credit", "Store credit"


class ReturnStatus(models.TextChoices):
    # Started online (a return label was issued); completed when the items are received.
    AWAITING_ITEMS = "awaiting_items", "Awaiting items"
    COMPLETED = "completed", "Completed"


class Return(models.Model):
    """Items of one order coming back, at any store or by post, and what was refunded for them."""

    number = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="returns"
    )
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    # Where the items were received: a store, or the warehouse for posted returns.
    store = models.ForeignKey(
        "stores.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="returns"
    )
    status = models.CharField(
        max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.COMPLETED
    )
    refund_method = models.CharField(
        max_length=20, choices=RefundMethod.choices, default=RefundMethod.ORIGINAL_PAYMENT
    )
    refund_items = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    refund_tax = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    refund_shipping = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    refund_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    # A return outside the store's window needs a manager, who says why.
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    override_reason = models.CharField(max_length=255, blank=True)
    # An exchange: the new order this return's refund paid for.
    exchange_order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="exchange_for"
    )
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["store", "-created_at"], name="return_store_idx"),
            models.Index(fields=["customer", "-created_at"], name="return_customer_idx"),
            # Reports: returns completed within a date range.
            models.Index(
                fields=["completed_at"],
                condition=models.Q(completed_at__isnull=False),
                name="return_completed_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=20, choices=ReturnReason.choices)
    condition = models.CharField(max_length=16, choices=ItemCondition.choices)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × line {self.order_line_id}"


class RefundKind(models.TextChoices):
    RETURN = "return", "Return"
    PICKUP_EXPIRED = "pickup_expired", "Uncollected pickup"
    CANCELLATION = "cancellation", "Cancelled order"


class Refund(models.Model):
    """Money given back on an order: for a return, or an uncollected or cancelled pickup."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField(max_length=20, choices=RefundKind.choices)
    return_request = models.OneToOneField(
        Return, null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    method = models.CharField(
        max_length=20, choices=RefundMethod.choices, default=RefundMethod.ORIGINAL_PAYMENT
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.amount} on order {self.order_id}"

"""Stores, the staff who work in them, and the stock each location holds."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models import time_zone_choices


class StoreKind(models.TextChoices):
    STORE = "store", "Store"
    # The web shop ships from here: its stock is what the product page calls "online".
    WAREHOUSE = "warehouse", "Warehouse (ships web orders)"


class Store(models.Model):
    """A location that holds stock: a store customers walk into, or the warehouse that ships web
    orders. Pickups and returns happen only at stores."""

    code = models.SlugField(max_length=16, unique=True, help_text="Short code used in URLs.")
    name = models.CharField(max_length=120)
    address_line1 = models.CharField("address", max_length=200)
    city = models.CharField(max_length=100)
    postcode = models.CharField(max_length=20)
    country = models.CharField(max_length=2, default="US")
    phone = models.CharField(max_length=32, blank=True)
    hours = models.TextField(blank=True, help_text="Opening hours as shown to customers.")
    time_zone = models.CharField(
        max_length=64, choices=time_zone_choices, default=settings.TIME_ZONE
    )
    kind = models.CharField(max_length=16, choices=StoreKind.choices, default=StoreKind.STORE)
    pickup_hold_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days a ready pickup is held before it expires."
    )
    return_window_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days after purchase within which this store takes returns."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return f"{self.address_line1}, {self.city} {self.postcode}"


class StoreRole(models.TextChoices):
    ASSOCIATE = "associate", "Store associate"
    MANAGER = "manager", "Store manager"


class StaffMembership(models.Model):
    """A staff member's role at one store. Store staff act only for the stores they belong to."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=StoreRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="one_membership_per_store")
        ]
        ordering = ["store__name"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.store}"


class StockLevel(models.Model):
    """How many of a product a location holds, and how many of those are promised to orders
    waiting for pickup. Changed only by stores.services.stock_adjust, under a row lock."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="stock_levels")
    product = models.ForeignKey(
        "orders.Product", on_delete=models.CASCADE, related_name="stock_levels"
    )
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="one_stock_level_per_store"),
            models.CheckConstraint(
                condition=models.Q(on_hand__gte=0), name="stock_on_hand_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__lte=models.F("on_hand")),
                name="stock_reserved_within_on_hand",
            ),
        ]
        # "Where is it in stock" reads every location of one product.
        indexes = [models.Index(fields=["product", "store"], name="stock_product_store_idx")]
        ordering = ["store__name"]

    def __str__(self) -> str:
        return f"{self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        """What can still be sold or reserved: on hand and not promised to a pickup."""
        return self.on_hand - self.reserved


class StockAction(models.TextChoices):
    RECEIVE = "receive", "Received"
    SELL = "sell", "Sold"
    RESERVE = "reserve", "Reserved"
    RELEASE = "release", "Reservation released"
    SELL_RESERVED = "sell_reserved", "Reserved stock collected"
    RETURN_TO_STOCK = "return_to_stock", "Returned to stock"


class StockMovement(models.Model):
    """One change to a stock level, with the level after it: the audit trail of the stock."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="stock_movements")
    product = models.ForeignKey(
        "orders.Product", on_delete=models.PROTECT, related_name="stock_movements"
    )
    kind = models.CharField(max_length=20, choices=StockAction.choices)
    on_hand_change = models.IntegerField()
    reserved_change = models.IntegerField()
    on_hand_after = models.IntegerField()
    reserved_after = models.IntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    # What caused it, e.g. the order number of the sale or pickup.
    reference = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                "store",
                "product",
                models.F("occurred_at").desc(),
                name="stock_movement_history_idx",
            ),
            models.Index(fields=["reference"], name="stock_movement_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.on_hand_change:+d} on hand"

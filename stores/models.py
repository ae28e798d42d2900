"""Stores and the staff who work in them."""

from django.conf import settings
from django.db import models

from crm.models import time_zone_choices


class Store(models.Model):
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

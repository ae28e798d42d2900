"""factory_boy factories for the test suite."""

from decimal import Decimal
from functools import cache

import factory
from django.contrib.auth.hashers import make_password
from factory.django import DjangoModelFactory

from crm.models import Channel, Role, User
from customers.identifiers import name_keys
from customers.models import ContactKind, ContactPoint, Customer
from customers.services import Identity
from orders.models import Category, Product
from stores.models import StaffMembership, Store, StoreRole
from tickets.models import Inquiry, Queue
from tickets.services.inquiries import IncomingMessage, inquiry_open

PASSWORD = "correct-horse-battery-staple"


@cache
def password_hash() -> str:
    """PASSWORD hashed once by the production hasher: a user per test would otherwise cost a
    full PBKDF2 run each, most of the suite's time."""
    return make_password(PASSWORD)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.REP
    password = factory.LazyFunction(password_hash)


class StoreFactory(DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"st{n:02d}")
    name = factory.Sequence(lambda n: f"Store {n}")
    address_line1 = factory.Faker("street_address")
    city = factory.Faker("city")
    postcode = factory.Faker("postcode")
    hours = "Mon–Sat 9:00–20:00, Sun 11:00–17:00"


def store_staff(store: Store, role: str = StoreRole.MANAGER, **kwargs: object) -> User:
    user: User = UserFactory.create(role=Role(role), **kwargs)
    StaffMembership.objects.create(user=user, store=store, role=role)
    return user


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    search_name = factory.LazyAttribute(lambda c: name_keys(c.first_name, c.last_name)[0])
    search_name_reversed = factory.LazyAttribute(lambda c: name_keys(c.first_name, c.last_name)[1])


class ContactPointFactory(DjangoModelFactory):
    class Meta:
        model = ContactPoint

    customer = factory.SubFactory(CustomerFactory)
    kind = ContactKind.EMAIL
    value = factory.Sequence(lambda n: f"customer{n}@example.com")


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("catch_phrase")
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("49.90")


class QueueFactory(DjangoModelFactory):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


def web_inquiry(
    email: str = "maya@example.com", text: str = "Where is my order?", **kwargs: object
) -> Inquiry:
    """An inquiry opened through the web form's intake, as a customer would."""
    return inquiry_open(
        channel=Channel.WEB_FORM,
        identity=Identity(email=email),
        subject=kwargs.pop("subject", "My order"),
        message=IncomingMessage(text=text),
        **kwargs,
    )

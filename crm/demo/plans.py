"""What the demo is made of, as plain plans: constants, stores, staff, catalogue."""

import random
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from crm.models import Channel, Role
from customers.services import Identity
from orders.models import OrderStatus
from orders.services import LineInput
from stores.models import StoreKind

DEMO_PASSWORD = "demo-password"  # noqa: S105 (published: the demo logins)
DEMO_URL = "http://127.0.0.1:8000"
HISTORY_DAYS = 730
# Nothing happens later than two days ago: the latest local evening in any US time zone is then in
# the past, whatever the hour the seed runs.
NEWEST_DAY = 2
FREE_SHIPPING_FROM = Decimal("75.00")
SHIPPING = Decimal("6.95")


@dataclass(frozen=True)
class StorePlan:
    code: str
    name: str
    address_line1: str
    city: str
    postcode: str
    phone: str
    time_zone: str
    hours: str = "Mon–Sat 10:00–20:00, Sun 11:00–18:00"
    kind: str = StoreKind.STORE


@dataclass(frozen=True)
class ProductPlan:
    sku: str
    name: str
    category: str
    price: Decimal


@dataclass(frozen=True)
class StockPlan:
    store_code: str
    sku: str
    on_hand: int


@dataclass(frozen=True)
class UserPlan:
    """A demo user. `key` is how plans name a comment's author or the rep who took an order."""

    key: str
    email: str
    first_name: str
    last_name: str
    role: Role
    store_code: str = ""
    time_zone: str = "America/New_York"
    # Staff without a login only sign comments in the history.
    login: bool = True
    try_this: str = ""


@dataclass(frozen=True)
class OrderPlan:
    placed_at: datetime
    channel: str
    identity: Identity
    lines: tuple[LineInput, ...]
    status: str
    store_code: str = ""
    shipping: Decimal = Decimal("0")
    actor_key: str = ""


@dataclass(frozen=True)
class CommentPlan:
    created_at: datetime
    author_key: str
    body: str


Event = OrderPlan | CommentPlan


@dataclass(frozen=True)
class PersonPlan:
    """The history one record is made of, oldest first. The first event is an order."""

    events: tuple[Event, ...]
    label: str = ""


def event_when(event: Event) -> datetime:
    return event.placed_at if isinstance(event, OrderPlan) else event.created_at


# fmt: off
STORES = (
    StorePlan("sfo", "San Francisco Union Square", "233 Geary Street", "San Francisco", "94108",
              "(415) 555-0100", "America/Los_Angeles"),
    StorePlan("nyc", "New York SoHo", "120 Spring Street", "New York", "10012",
              "(212) 555-0100", "America/New_York"),
    StorePlan("chi", "Chicago Michigan Avenue", "645 N Michigan Avenue", "Chicago", "60611",
              "(312) 555-0100", "America/Chicago"),
    StorePlan("sea", "Seattle Pine Street", "1420 Pine Street", "Seattle", "98101",
              "(206) 555-0100", "America/Los_Angeles"),
    StorePlan("aus", "Austin South Congress", "1601 S Congress Avenue", "Austin", "78704",
              "(512) 555-0100", "America/Chicago"),
    StorePlan("den", "Denver Cherry Creek", "3000 E 1st Avenue", "Denver", "80206",
              "(303) 555-0100", "America/Denver"),
)
# The web shop ships from here; its stock is the "online" stock.
WAREHOUSE = StorePlan("web", "Reno Fulfilment Center", "1200 Logistics Way", "Reno", "89502",
                      "(775) 555-0100", "America/Los_Angeles", hours="Ships Mon–Fri",
                      kind=StoreKind.WAREHOUSE)

USERS = (
    UserPlan("customer", "customer@demo.example.com", "Maya", "Johnson", Role.CUSTOMER,
             time_zone="America/Los_Angeles", try_this="/me/: orders; /support/: inquiries"),
    UserPlan("associate", "associate@demo.example.com", "Jamie", "Rivera", Role.ASSOCIATE, "sfo",
             "America/Los_Angeles", try_this="store 1, San Francisco"),
    UserPlan("manager", "manager@demo.example.com", "Dana", "Whitfield", Role.MANAGER, "sfo",
             "America/Los_Angeles", try_this="store 1, San Francisco: comment on a customer"),
    UserPlan("manager2", "manager2@demo.example.com", "Marcus", "Bell", Role.MANAGER, "nyc",
             try_this="store 2, New York"),
    UserPlan("rep", "rep@demo.example.com", "Jordan", "Lee", Role.REP,
             try_this="/inquiries/ and /inquiries/callbacks/; search 415.555.0134"),
    UserPlan("supervisor", "supervisor@demo.example.com", "Alex", "Morgan", Role.SUPERVISOR,
             try_this="/inquiries/rules/; /customers/merge-suggestions/"),
    UserPlan("admin", "admin@demo.example.com", "Sam", "Patel", Role.ADMIN, try_this="/admin/"),
    UserPlan("manager-chi", "manager.chi@demo.example.com", "Teresa", "Novak", Role.MANAGER,
             "chi", "America/Chicago", login=False),
    UserPlan("manager-sea", "manager.sea@demo.example.com", "Erik", "Lindqvist", Role.MANAGER,
             "sea", "America/Los_Angeles", login=False),
    UserPlan("manager-aus", "manager.aus@demo.example.com", "Rosa", "Delgado", Role.MANAGER,
             "aus", "America/Chicago", login=False),
    UserPlan("manager-den", "manager.den@demo.example.com", "Tom", "Brennan", Role.MANAGER,
             "den", "America/Denver", login=False),
    UserPlan("rep-2", "chloe.martin@demo.example.com", "Chloe", "Martin", Role.REP, login=False),
    UserPlan("rep-3", "andre.wallace@demo.example.com", "Andre", "Wallace", Role.REP, login=False),
)
# fmt: on
PORTAL_STORY = "Maya Johnson"
STORE_TIME_ZONES = {store.code: store.time_zone for store in STORES}
REPS = tuple(user.key for user in USERS if user.role == Role.REP)
STORE_STAFF = {
    store.code: tuple(user.key for user in USERS if user.store_code == store.code)
    for store in STORES
}


# The catalogue: ten categories of ten items in three variants, the same whatever the seed.
# fmt: off
_CATALOGUE: tuple[tuple[str, str, tuple[str, ...], tuple[tuple[str, int], ...]], ...] = (
    ("Women's Clothing", "WOM", ("Linen", "Cotton", "Merino", "Silk", "Tailored", "Relaxed"), (
        ("Blazer", 129), ("Wrap Dress", 89), ("Cardigan", 69), ("Blouse", 54),
        ("Wide-Leg Trousers", 79), ("Midi Skirt", 64), ("Trench Coat", 189), ("Sweater", 74),
        ("Jumpsuit", 98), ("T-Shirt", 24))),
    ("Men's Clothing", "MEN", ("Slim", "Classic", "Organic Cotton", "Heavyweight", "Washed",
                               "Merino"), (
        ("Oxford Shirt", 59), ("Chinos", 69), ("Crewneck Sweater", 79), ("Bomber Jacket", 149),
        ("Polo Shirt", 45), ("Jeans", 98), ("Quilted Vest", 89), ("Flannel Shirt", 55),
        ("Overcoat", 229), ("Henley", 35))),
    ("Shoes", "SHO", ("Black", "Tan", "White", "Navy", "Suede", "Waterproof"), (
        ("Leather Sneakers", 110), ("Chelsea Boots", 179), ("Running Shoes", 120),
        ("Loafers", 140), ("Sandals", 59), ("Ankle Boots", 159), ("Ballet Flats", 79),
        ("Hiking Boots", 169), ("Slip-On Sneakers", 65), ("Derby Shoes", 150))),
    ("Accessories", "ACC", ("Black", "Cognac", "Olive", "Camel", "Navy", "Charcoal"), (
        ("Leather Belt", 45), ("Tote Bag", 95), ("Wool Scarf", 39), ("Crossbody Bag", 119),
        ("Sunglasses", 85), ("Beanie", 25), ("Leather Wallet", 55), ("Watch", 199),
        ("Backpack", 89), ("Umbrella", 29))),
    ("Home & Kitchen", "HOM", ("Matte Black", "Sage", "Cream", "Slate", "Terracotta",
                               "Stainless"), (
        ("Dutch Oven", 189), ("Chef's Knife", 99), ("Pour-Over Coffee Maker", 39),
        ("Dinnerware Set", 129), ("Glass Storage Set", 45), ("Cast Iron Skillet", 49),
        ("Tablecloth", 69), ("Stand Mixer", 349), ("Espresso Cups (Set of 4)", 32),
        ("Cutting Board", 42))),
    ("Bedding & Bath", "BED", ("White", "Sand", "Sage", "Indigo", "Stone", "Blush"), (
        ("Percale Sheet Set", 149), ("Down Comforter", 249), ("Bath Towel Set", 79),
        ("Waffle Robe", 89), ("Linen Duvet Cover", 199), ("Memory Foam Pillow", 69),
        ("Bath Mat", 35), ("Throw Blanket", 79), ("Shower Curtain", 45), ("Quilt", 179))),
    ("Beauty", "BEA", ("Fragrance-Free", "Travel Size", "Hydrating", "Citrus", "Lavender",
                       "Sensitive"), (
        ("Face Moisturizer", 38), ("Vitamin C Serum", 48), ("Eau de Parfum", 95),
        ("Lip Balm Set", 18), ("Hair Dryer", 149), ("Body Lotion", 26), ("Cleanser", 28),
        ("Eye Cream", 52), ("Hand Cream", 16), ("Shampoo and Conditioner", 34))),
    ("Outdoor & Sports", "OUT", ("Lightweight", "Packable", "Trail", "Alpine", "Everyday",
                                 "Insulated"), (
        ("Rain Jacket", 159), ("Yoga Mat", 68), ("Water Bottle", 35), ("Down Jacket", 229),
        ("Daypack", 79), ("Fleece Pullover", 89), ("Running Shorts", 45), ("Camping Chair", 59),
        ("Base Layer", 85), ("Cycling Gloves", 30))),
    ("Kids", "KID", ("Dinosaur", "Rainbow", "Striped", "Navy", "Glow-in-the-Dark", "Organic"), (
        ("Puffer Jacket", 79), ("Rain Boots", 39), ("Pajama Set", 32), ("School Backpack", 45),
        ("Hoodie", 34), ("Sneakers", 49), ("Leggings", 19), ("Swimsuit", 29),
        ("Plush Toy", 22), ("Knit Hat", 18))),
    ("Electronics", "ELE", ("Black", "White", "Midnight", "Silver", "Pro", "Mini"), (
        ("Wireless Earbuds", 129), ("Bluetooth Speaker", 89), ("Smart Watch", 249),
        ("Phone Case", 29), ("Portable Charger", 49), ("Noise-Cancelling Headphones", 299),
        ("E-Reader", 139), ("Charging Stand", 39), ("Tablet Sleeve", 35),
        ("Fitness Tracker", 99))),
)
# fmt: on
_VARIANT_PRICE = (Decimal("1.00"), Decimal("0.92"), Decimal("1.15"))


def catalogue() -> tuple[ProductPlan, ...]:
    """300 products in 10 categories, priced like a mid-range department store."""
    products = []
    for category, prefix, variants, items in _CATALOGUE:
        for i, (item, base) in enumerate(items):
            for j, factor in enumerate(_VARIANT_PRICE):
                variant = variants[(i + 2 * j) % len(variants)]
                dollars = int(base * factor)
                price = Decimal(dollars) if dollars % 2 else Decimal(dollars) - Decimal("0.05")
                price = price.quantize(Decimal("0.01"))
                sku = f"{prefix}-{1001 + 3 * i + j}"
                products.append(ProductPlan(sku, f"{variant} {item}", category, price))
    return tuple(products)


def skus_by_name() -> dict[str, str]:
    """Full product names, and item names standing for their first variant ("Blazer")."""
    skus = {product.name: product.sku for product in catalogue()}
    for _, prefix, _, items in _CATALOGUE:
        for i, (item, _) in enumerate(items):
            skus.setdefault(item, f"{prefix}-{1001 + 3 * i}")
    return skus


def stock() -> Iterator[StockPlan]:
    """Opening stock of every product at every store and the warehouse, the same whatever the
    seed: a handful of each item on a store's shelf, a deeper pile at the warehouse, and some
    items sold out here and there so that "where is it in stock" has something to say."""
    rng = random.Random("demo-stock")  # noqa: S311 (made-up data, not secrets)
    for product in catalogue():
        for store in (*STORES, WAREHOUSE):
            if store.kind == StoreKind.WAREHOUSE:
                on_hand = 0 if rng.random() < 0.04 else rng.randint(15, 240)
            else:
                on_hand = 0 if rng.random() < 0.12 else rng.randint(1, 14)
            yield StockPlan(store.code, product.sku, on_hand)


_ZONES: dict[str, zoneinfo.ZoneInfo] = {}


def moment(today: date, days_ago: int, local: time, time_zone: str) -> datetime:
    """`days_ago` days before today at `local` o'clock in `time_zone`, in UTC."""
    zone = _ZONES.get(time_zone) or _ZONES.setdefault(time_zone, zoneinfo.ZoneInfo(time_zone))
    day = today - timedelta(days=max(days_ago, NEWEST_DAY))
    return datetime.combine(day, local, tzinfo=zone).astimezone(UTC)


def web_order_status(days_ago: int) -> str:
    if days_ago <= 3:
        return OrderStatus.PAID
    if days_ago <= 10:
        return OrderStatus.SHIPPED
    return OrderStatus.DELIVERED


def shipping_for(
    channel: str, lines: tuple[LineInput, ...], prices: Mapping[str, Decimal]
) -> Decimal:
    """Orders shipped home pay a flat fee below the free-shipping threshold."""
    if channel not in {Channel.WEB, Channel.PHONE}:
        return Decimal("0")
    subtotal = sum(
        (
            (prices[line.sku] if line.unit_price is None else line.unit_price) * line.quantity
            for line in lines
        ),
        Decimal("0"),
    )
    return Decimal("0") if subtotal >= FREE_SHIPPING_FROM else SHIPPING


SKUS = skus_by_name()
PRICES = {product.sku: product.price for product in catalogue()}

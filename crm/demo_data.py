"""The demo data, as plain plans that `manage.py seed_demo` writes: stores, catalogue, staff,
named story customers and a generated crowd.

Nothing here touches the database. Stores, catalogue, staff and stories are fixed; the crowd comes
from `random.Random(seed)`. Dates count back whole days from the day the seed runs, so the same seed
gives the same data, always within the last two years.
"""

import random
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from crm.models import Channel, Role
from customers.identifiers import search_key
from customers.services import Identity
from orders.models import OrderStatus
from orders.services import LineInput

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


@dataclass(frozen=True)
class ProductPlan:
    sku: str
    name: str
    category: str
    price: Decimal


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


def _when(event: Event) -> datetime:
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

USERS = (
    UserPlan("customer", "customer@demo.example.com", "Maya", "Johnson", Role.CUSTOMER,
             time_zone="America/Los_Angeles", try_this="/me/: her web and store orders"),
    UserPlan("associate", "associate@demo.example.com", "Jamie", "Rivera", Role.ASSOCIATE, "sfo",
             "America/Los_Angeles", try_this="store 1, San Francisco"),
    UserPlan("manager", "manager@demo.example.com", "Dana", "Whitfield", Role.MANAGER, "sfo",
             "America/Los_Angeles", try_this="store 1, San Francisco: comment on a customer"),
    UserPlan("manager2", "manager2@demo.example.com", "Marcus", "Bell", Role.MANAGER, "nyc",
             try_this="store 2, New York"),
    UserPlan("rep", "rep@demo.example.com", "Jordan", "Lee", Role.REP,
             try_this="search 415.555.0134, LC-4150-0134, zoe muller"),
    UserPlan("supervisor", "supervisor@demo.example.com", "Alex", "Morgan", Role.SUPERVISOR,
             try_this="/customers/merge-suggestions/"),
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


def _skus_by_name() -> dict[str, str]:
    """Full product names, and item names standing for their first variant ("Blazer")."""
    skus = {product.name: product.sku for product in catalogue()}
    for _, prefix, _, items in _CATALOGUE:
        for i, (item, _) in enumerate(items):
            skus.setdefault(item, f"{prefix}-{1001 + 3 * i}")
    return skus


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


# ---------------------------------------------------------------------------------------------
# The stories: named customers whose channels identity resolution joins (or, for the duplicates,
# keeps apart and suggests merging). seed_demo writes them through the services.


class _Story:
    """A story's orders and comments, by days ago and product names."""

    def __init__(self, label: str, today: date, time_zone: str) -> None:
        self.label, self.today, self.time_zone = label, today, time_zone
        self.events: list[Event] = []

    def order(
        self,
        days_ago: int,
        channel: str,
        items: str,
        *,
        store: str = "",
        at: str = "",
        actor: str = "",
        **identity: Any,
    ) -> "_Story":
        """`items` reads "Blazer, 2 x Wool Scarf": product names, or item names for their first
        variant. Store sales happen at lunchtime in the store's zone, web orders in the evening."""
        lines = []
        for item in items.split(", "):
            count, _, name = item.rpartition(" x ")
            lines.append(LineInput(sku=_SKUS[name], quantity=int(count or 1)))
        zone = STORE_TIME_ZONES.get(store, self.time_zone)
        local = time.fromisoformat(at or ("12:40" if store else "20:15"))
        self.events.append(
            OrderPlan(
                placed_at=moment(self.today, days_ago, local, zone),
                channel=channel,
                identity=Identity(**identity),
                lines=tuple(lines),
                status=OrderStatus.COMPLETED if store else web_order_status(days_ago),
                store_code=store,
                shipping=shipping_for(channel, tuple(lines), _PRICES),
                actor_key=actor,
            )
        )
        return self

    def comment(self, days_ago: int, author: str, body: str, *, at: str = "16:05") -> "_Story":
        local = time.fromisoformat(at)
        self.events.append(
            CommentPlan(moment(self.today, days_ago, local, self.time_zone), author, body)
        )
        return self

    def plan(self) -> PersonPlan:
        events = tuple(sorted(self.events, key=_when))
        if not isinstance(events[0], OrderPlan):
            raise ValueError(f"{self.label}: a history starts with an order.")
        return PersonPlan(events=events, label=self.label)


_SKUS = _skus_by_name()
_PRICES = {product.sku: product.price for product in catalogue()}


def stories(today: date) -> tuple[PersonPlan, ...]:
    """Named customers whose histories show identity resolution at work."""
    WEB, STORE, PHONE, KIOSK = Channel.WEB, Channel.STORE, Channel.PHONE, Channel.KIOSK

    def story(label: str, time_zone: str = "America/Los_Angeles") -> _Story:
        return _Story(label, today, time_zone)

    # fmt: off
    maya = {"first_name": "Maya", "last_name": "Johnson"}
    maya_home = maya | {"address_line1": "1847 Greenwich Street", "city": "San Francisco",
                        "postcode": "94123", "country": "US"}
    plans = [
        # A store sale with only a phone, then web orders with her e-mail and the phone in
        # another format, then a loyalty card at the till: one record throughout.
        story("Maya Johnson")
        .order(540, STORE, "Blazer, Blouse", store="sfo", phone="(415) 555-0134", **maya)
        .order(420, STORE, "Chelsea Boots", store="sfo", phone="415-555-0134")
        .order(300, WEB, "Wrap Dress, Wool Scarf", email="maya.johnson@example.com",
               phone="+1 415 555 0134", **maya_home)
        .comment(296, "rep", "Maya called: the wrap dress from her web order runs small. Told "
                 "her any store takes it back without a receipt; she will exchange it at Union "
                 "Square.")
        .order(293, STORE, "Wrap Dress", store="sfo", at="11:05", phone="(415) 555-0134",
               loyalty_number="LC-4150-0134")
        .order(120, WEB, "Dutch Oven", email="maya.johnson@example.com", **maya_home)
        .comment(61, "manager", "Maya asked us to hold the trench coat in size M until Saturday. "
                 "On hold at the service desk.", at="13:30")
        .order(58, STORE, "Trench Coat", store="sfo", loyalty_number="LC41500134")
        .order(9, WEB, "Wireless Earbuds", email="Maya.Johnson@example.com", **maya_home),
        # Web first; at a store till he gives his e-mail for the receipt, which adds his phone.
        story("Daniel Okafor", "America/New_York")
        .order(610, WEB, "2 x Oxford Shirt, Chinos", email="dokafor@example.net",
               external_ids={"webshop": "58213"}, first_name="Daniel", last_name="Okafor",
               address_line1="455 Union Street", city="Brooklyn", postcode="11231",
               country="US")
        .order(400, WEB, "Bomber Jacket", email="dokafor@example.net",
               external_ids={"webshop": "58213"})
        .comment(395, "rep-2", "Bomber jacket arrived with a broken zip. Sent a replacement by "
                 "express at no charge; no need to send the first one back.")
        .order(200, STORE, "Leather Sneakers", store="nyc", email="DOkafor@example.net",
               phone="(718) 555-0178", first_name="Daniel", last_name="Okafor")
        .order(35, PHONE, "Overcoat", phone="718.555.0178", actor="rep")
        .comment(20, "manager2", "Daniel came in about the overcoat he ordered by phone: wants "
                 "the next size up. Exchange arranged for pickup here.", at="17:40"),
        # A loyalty card typed three ways, in store, at a kiosk and on the web.
        story("Sofia Ramirez", "America/Chicago")
        .order(700, STORE, "Yoga Mat", store="aus", loyalty_number="LC-5120-3371",
               first_name="Sofia", last_name="Ramirez")
        .order(500, STORE, "Fleece Pullover, Water Bottle", store="aus",
               loyalty_number="lc 5120 3371")
        .order(330, WEB, "Rain Jacket", email="sofia.ramirez@example.org",
               loyalty_number="LC51203371", first_name="Sofia", last_name="Ramirez",
               address_line1="2208 Travis Heights Blvd", city="Austin", postcode="78704",
               country="US")
        .comment(329, "manager-aus", "Sofia asked whether her web purchases count for her card. "
                 "They do: one loyalty card for the web shop and every store.")
        .order(150, KIOSK, "Running Shorts", store="aus", loyalty_number="LC-5120-3371")
        .order(14, WEB, "Down Jacket", email="sofia.ramirez@example.org"),
        # Store only, his phone typed differently at every till.
        story("Hiroshi Tanaka")
        .order(450, STORE, "Rain Jacket", store="sea", phone="206.555.0142",
               first_name="Hiroshi", last_name="Tanaka")
        .order(380, STORE, "Base Layer", store="sea", phone="(206) 555-0142")
        .order(200, STORE, "Hiking Boots", store="sea", phone="+1-206-555-0142")
        .comment(199, "manager-sea", "Hiroshi prefers buying in store. Asked to be called when "
                 "the down jacket is back in his size.")
        .order(30, STORE, "Leather Belt", store="sfo", phone="2065550142"),
        # An accented name, found as "zoe muller"; the web shop's account id joins her phone.
        story("Zoë Müller", "America/Denver")
        .order(380, WEB, "Linen Duvet Cover", email="zoe.muller@example.com",
               external_ids={"webshop": "88123"}, first_name="Zoë", last_name="Müller",
               address_line1="1250 Pearl Street", city="Denver", postcode="80203",
               country="US")
        .order(260, STORE, "Bath Towel Set, Bath Mat", store="den", phone="(303) 555-0161",
               email="zoe.muller@example.com")
        .order(90, WEB, "Throw Blanket", external_ids={"webshop": "88123"}, phone="303 555 0161")
        .comment(88, "manager-den", "Zoë came in to see the throw blanket colours before "
                 "ordering more. Prefers natural fibres."),
        story("Liam O'Connor", "America/Chicago")
        .order(330, STORE, "Oxford Shirt", store="chi", phone="(312) 555-0187",
               loyalty_number="LC-3120-0187", first_name="Liam", last_name="O'Connor")
        .order(180, WEB, "Jeans, Leather Belt", email="liam.oconnor@example.com",
               phone="312-555-0187", first_name="Liam", last_name="O'Connor",
               address_line1="2741 N Halsted Street", city="Chicago", postcode="60614",
               country="US")
        .order(45, STORE, "Eau de Parfum", store="sfo", loyalty_number="LC31200187")
        .comment(45, "associate", "Liam is visiting from Chicago and bought a gift. His card "
                 "already showed his Chicago and web purchases.", at="17:20"),
        # A phone order taken by a rep, then a kiosk and the web shop.
        story("Aisha Khan", "America/Denver")
        .order(250, PHONE, "Stand Mixer", phone="(303) 555-0125", email="aisha.khan@example.net",
               first_name="Aisha", last_name="Khan", address_line1="915 S Gaylord Street",
               city="Denver", postcode="80209", country="US", actor="rep")
        .order(100, KIOSK, "Chef's Knife", store="den", phone="303-555-0125")
        .order(40, WEB, "Dinnerware Set", email="aisha.khan@example.net"),
        # Duplicates: a store record and a web record of one person that share no identifier.
        # They stay two records, and the same name and address make a merge suggestion.
        story("Grace Miller (store record)", "America/Chicago")
        .order(400, STORE, "Cardigan", store="chi", phone="(312) 555-0166", first_name="Grace",
               last_name="Miller", address_line1="1180 W Fulton Market", city="Chicago",
               postcode="60607", country="US"),
        story("Grace Miller (web record)", "America/Chicago")
        .order(150, WEB, "Midi Skirt, Blouse", email="grace.miller@example.com",
               first_name="Grace", last_name="Miller", address_line1="1180 W Fulton Market",
               city="Chicago", postcode="60607", country="US"),
        story("Carlos Mendoza (store record)", "America/Chicago")
        .order(480, STORE, "Hiking Boots", store="aus", loyalty_number="LC-5120-8890",
               first_name="Carlos", last_name="Mendoza", address_line1="4501 Duval Street",
               city="Austin", postcode="78751", country="US"),
        story("Carlos Mendoza (web record)", "America/Chicago")
        .order(75, WEB, "Daypack", email="cmendoza@example.org", first_name="Carlos",
               last_name="Mendoza", address_line1="4501 Duval St.", city="Austin",
               postcode="78751", country="US"),
        story("Emily Davis (store record)", "America/New_York")
        .order(220, STORE, "Hand Cream, Face Moisturizer", store="nyc", phone="(212) 555-0193",
               first_name="Emily", last_name="Davis", address_line1="310 E 82nd Street",
               city="New York", postcode="10028", country="US"),
        story("Emily Davis (web record)", "America/New_York")
        .order(60, WEB, "Eye Cream", email="emily.davis@example.net", first_name="Emily",
               last_name="Davis", address_line1="310 E 82nd Street", city="New York",
               postcode="10028", country="US"),
        # A phone known from a store sale and an e-mail known from the web shop arrive together
        # on one order: the e-mail's record takes the order, and the two records are suggested
        # for merging because they share the phone.
        story("Olivia Brown (store record)")
        .order(260, STORE, "Sunglasses", store="sea", phone="(206) 555-0108",
               first_name="Olivia", last_name="Brown"),
        story("Olivia Brown (web record)")
        .order(190, WEB, "Tote Bag", email="olivia.brown@example.com", first_name="Olivia",
               last_name="Brown", address_line1="3300 NE 65th Street", city="Seattle",
               postcode="98115", country="US")
        .order(25, WEB, "Crossbody Bag", email="olivia.brown@example.com", phone="206 555 0108"),
        _priya(story("Priya Natarajan", "America/New_York")),
        _ben(story("Ben Carter")),
    ]
    # fmt: on
    return tuple(p.plan() for p in plans)


def _priya(story: _Story) -> _Story:
    """Web only, many orders, returns a lot and contacts service often: high maintenance."""
    # fmt: off
    home = {"first_name": "Priya", "last_name": "Natarajan", "address_line1": "77 Beacon Street",
            "city": "Boston", "postcode": "02108", "country": "US"}
    baskets = ("Wrap Dress, Midi Skirt, Blouse", "Ankle Boots, Ballet Flats", "2 x Sweater",
               "Blouse", "Jumpsuit, T-Shirt", "Trench Coat", "Loafers, Sandals",
               "Wide-Leg Trousers, Cardigan", "Eau de Parfum", "Crossbody Bag", "Blazer",
               "Vitamin C Serum, Eye Cream")
    for n, basket in enumerate(baskets):
        story.order(690 - 56 * n, Channel.WEB, basket, email="priya.n@example.com",
                    external_ids={"webshop": "61007"}, phone="617-555-0119" if n % 3 == 0 else "",
                    **home)
    for days_ago, author, body in (
        (630, "rep", "Returned two of three items from her last order (sizes). Pointed her to "
                     "the fit guide."),
        (470, "rep-2", "Asked for a price adjustment: the boots went on sale two days after she "
                       "bought them. Refunded the difference as store credit."),
        (300, "rep", "Third size exchange this year. Offered a free alteration at any store "
                     "instead of shipping back and forth."),
        (41, "rep-3", "Complained that her e-mail waited two days for an answer. Apologised and "
                      "sorted the return out on the phone."),
    ):
        story.comment(days_ago, author, body, at="10:30")
    # fmt: on
    return story


def _ben(story: _Story) -> _Story:
    """The longest story: a regular of the San Francisco store who also buys online."""
    # fmt: off
    rng = random.Random("ben-carter")  # noqa: S311 (made-up data, not secrets)
    names = [p.name for p in catalogue() if p.sku[:3] in {"MEN", "SHO", "ELE", "OUT", "HOM"}]
    ben = {"first_name": "Ben", "last_name": "Carter"}
    for n in range(48):
        days_ago, basket = 725 - 15 * n, ", ".join(rng.sample(names, rng.choice((1, 1, 2, 3))))
        if n % 2:
            story.order(days_ago, Channel.WEB, basket, email="ben.carter@example.com",
                        phone="(415) 555-0150" if n == 1 else "",
                        address_line1="640 Valencia Street", city="San Francisco",
                        postcode="94110", country="US", **ben)
        else:
            story.order(days_ago, Channel.STORE, basket, store="sfo", phone="415 555 0150", **ben)
    story.comment(500, "manager", "Ben is one of our most loyal customers and comes in every "
                  "couple of weeks. Invited him to the spring preview evening.")
    story.comment(210, "rep", "Ben asked to combine his store and web receipts for an expense "
                  "report. Sent both from his one record.")
    story.comment(33, "associate", "Ben asked about the new running shoes; we will call him when "
                  "his size arrives.", at="15:10")
    # fmt: on
    return story


def _story_places_and_emails() -> tuple[set[tuple[str, str]], set[str]]:
    """(name, postcode or address) pairs and e-mails of the stories, which the crowd avoids."""
    places: set[tuple[str, str]] = set()
    emails: set[str] = set()
    for plan in stories(date(2000, 1, 1)):
        for event in plan.events:
            if isinstance(event, OrderPlan):
                identity = event.identity
                emails.add(identity.email.strip().lower())
                name = search_key(f"{identity.first_name} {identity.last_name}")
                for place in (identity.postcode, identity.address_line1):
                    if name and place:
                        places.add((name, place.lower()))
    return places, emails


# ---------------------------------------------------------------------------------------------
# The crowd, written in bulk. Phones are fictional 555 numbers (the stories use 555-01xx, the
# crowd 555-0200 and up), e-mails are on example.com/.net/.org, crowd loyalty cards are LC6... to
# LC9... and web shop account ids have six digits (the stories': four to five).


@dataclass(frozen=True)
class _Area:
    store_code: str
    time_zone: str
    area_codes: tuple[str, ...]
    places: tuple[tuple[str, str], ...]  # (city, postcode)


# fmt: off
_AREAS = (
    _Area("sfo", "America/Los_Angeles", ("415", "510", "650"), (
        ("San Francisco", "94110"), ("San Francisco", "94117"), ("San Francisco", "94122"),
        ("Oakland", "94610"), ("Berkeley", "94703"), ("Daly City", "94015"))),
    _Area("nyc", "America/New_York", ("212", "718", "917"), (
        ("New York", "10003"), ("New York", "10024"), ("Brooklyn", "11215"),
        ("Brooklyn", "11238"), ("Queens", "11375"), ("Hoboken", "07030"))),
    _Area("chi", "America/Chicago", ("312", "773", "847"), (
        ("Chicago", "60614"), ("Chicago", "60622"), ("Chicago", "60657"), ("Evanston", "60201"),
        ("Oak Park", "60302"))),
    _Area("sea", "America/Los_Angeles", ("206", "425"), (
        ("Seattle", "98103"), ("Seattle", "98115"), ("Seattle", "98122"), ("Bellevue", "98004"),
        ("Redmond", "98052"))),
    _Area("aus", "America/Chicago", ("512", "737"), (
        ("Austin", "78702"), ("Austin", "78731"), ("Austin", "78745"), ("Round Rock", "78664"))),
    _Area("den", "America/Denver", ("303", "720"), (
        ("Denver", "80205"), ("Denver", "80210"), ("Denver", "80218"), ("Boulder", "80302"),
        ("Lakewood", "80226"))),
)
# Web-only customers may live anywhere.
_REMOTE = (
    _Area("", "America/New_York", ("617", "857"), (("Boston", "02116"), ("Cambridge", "02139"))),
    _Area("", "America/Los_Angeles", ("503",), (("Portland", "97205"), ("Portland", "97214"))),
    _Area("", "America/New_York", ("404", "678"), (("Atlanta", "30309"), ("Decatur", "30030"))),
    _Area("", "America/Phoenix", ("602", "480"), (("Phoenix", "85004"), ("Tempe", "85281"))),
    _Area("", "America/Chicago", ("612",), (("Minneapolis", "55403"), ("Minneapolis", "55408"))),
    _Area("", "America/New_York", ("215", "267"), (
        ("Philadelphia", "19103"), ("Philadelphia", "19147"))),
    _Area("", "America/New_York", ("305", "786"), (("Miami", "33131"), ("Miami Beach", "33139"))),
    _Area("", "America/Los_Angeles", ("619", "858"), (
        ("San Diego", "92101"), ("San Diego", "92104"))),
    _Area("", "America/Chicago", ("615",), (("Nashville", "37203"), ("Nashville", "37206"))),
    _Area("", "America/Denver", ("801",), (
        ("Salt Lake City", "84111"), ("Salt Lake City", "84105"))),
)
# fmt: on
# fmt: off
_FIRST_NAMES = (
    "Olivia", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn", "Abigail",
    "Emily", "Ella", "Elizabeth", "Camila", "Luna", "Sofia", "Avery", "Mila", "Aria", "Scarlett",
    "Penelope", "Layla", "Chloe", "Victoria", "Madison", "Eleanor", "Grace", "Nora", "Riley",
    "Zoey", "Hannah", "Hazel", "Lily", "Ellie", "Violet", "Lillian", "Zoë", "Stella", "Aurora",
    "Natalie", "Leah", "Lucy", "Audrey", "Priya", "Ananya", "Mei", "Yuki", "Fatima", "Amara",
    "Nadia", "Ingrid", "Chiara", "Renée", "Lucía", "Ximena", "Marisol", "Imani", "Keisha", "Liam",
    "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry", "Theodore",
    "Jack", "Levi", "Alexander", "Jackson", "Mateo", "Daniel", "Michael", "Mason", "Sebastian",
    "Ethan", "Logan", "Owen", "Samuel", "Jacob", "Asher", "Aiden", "John", "Joseph", "Wyatt",
    "David", "Leo", "Luke", "Julian", "Hudson", "Grayson", "Matthew", "Ezra", "Gabriel", "Carter",
    "Isaac", "Jayden", "Luca", "Anthony", "Dylan", "Lincoln", "Thomas", "Maverick", "Elias",
    "Josiah", "Charles", "Caleb", "Christopher", "Ezekiel", "Miles", "Jaxon", "Isaiah", "Andrew",
    "Joshua", "Nathan", "Nolan", "Adrian", "Cameron", "Santiago", "Eli", "Aaron", "Ryan", "Angel",
    "Cooper", "Raj", "Arjun", "Wei", "Hiro", "Kwame", "Omar", "José", "André", "Björn", "Malik",
    "Tariq", "Diego", "Rafael", "Kenji", "Dmitri",
)
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
    "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz",
    "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy",
    "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed",
    "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez",
    "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
    "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Chen", "Wang",
    "Singh", "Shah", "Nakamura", "Tanaka", "Okafor", "Mensah", "Kowalski", "Novak", "Rossi",
    "Schmidt", "Müller", "Dubois", "Larsen", "O'Brien", "O'Connor", "McCarthy", "Sullivan",
    "Fischer", "Haddad", "Nasser", "Cohen", "Levy", "Park", "Choi", "Tran", "Pham", "Yamamoto",
    "Das", "Iyer", "Gupta", "Silva", "Costa", "Ferreira",
)
_STREETS = (
    "Oak Street", "Maple Avenue", "Cedar Lane", "Park Avenue", "Washington Street", "Lake Street",
    "Hillside Drive", "Pine Street", "Elm Street", "Sunset Boulevard", "Highland Avenue",
    "Church Street", "Mill Road", "River Road", "Franklin Street", "Jefferson Avenue",
    "Grove Street", "Willow Way", "Chestnut Street", "Spring Street", "Lincoln Avenue",
    "Madison Street", "Prospect Place", "Union Street", "Walnut Street", "Broadway", "Vine Street",
    "Summit Avenue", "Front Street", "Central Avenue", "College Avenue", "Bay Street",
    "Forest Avenue", "Harbor View",
)
# fmt: on
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
_NOT_LETTERS = re.compile(r"[^a-z]")

_REP_NOTES = (
    "{first} called about the {item} from a web order: it arrived damaged. Replacement sent, "
    "no need to return the first one.",
    "{first} asked where the {item} is. The carrier is a day late; promised a call back.",
    "Wants offers by e-mail only, no phone calls.",
    "{first} called to change the delivery address of the {item} before it shipped. Done.",
    "{first} asked whether a store takes back the {item} bought online. Yes, any store, no "
    "receipt needed.",
    "Complained about waiting three days for an answer by e-mail. Apologised and sorted it out "
    "on the phone.",
    "{first} asked for an invoice for the {item} for an expense report. Sent by e-mail.",
)
_STORE_NOTES = (
    "Regular here; likes to hear about new arrivals in {category}.",
    "{first} exchanged the {item} for another size on the spot.",
    "Asked us to hold the {item} until the weekend. On hold at the service desk.",
    "{first} praised the team today. Signed up for the preview evening.",
    "The {item} was out of stock here; ordered it online for {first}, for pickup in this store.",
    "Helped {first} pick a gift in {category}; there is a birthday next month.",
)
_NOTE_WITHOUT_ITEM = "Wants offers by e-mail only, no phone calls."


@dataclass(frozen=True)
class _Identifiers:
    """What a crowd customer can be known by; any may be missing."""

    email: str
    phone: tuple[str, str] | None  # (area code, line number): +1 <area> 555 <line>
    card: str
    account: str

    def has(self, kind: str) -> bool:
        return bool(
            {
                "email": self.email,
                "phone": self.phone,
                "loyalty": self.card,
                "external": self.account,
            }[kind]
        )


class _Crowd:
    """Generated customers: some web only, some store only, most both; unique identifiers, and no
    accidental twins (same name and postcode or address): the only duplicates are the stories'."""

    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
        self.today = today
        self.products = catalogue()
        self.categories = sorted({p.category for p in self.products})
        self.by_category = {
            c: [p for p in self.products if p.category == c] for c in self.categories
        }
        self.places, self.emails = _story_places_and_emails()
        self.phones: set[tuple[str, str]] = set()
        self.cards: set[str] = set()
        self.accounts: set[str] = set()

    def person(self) -> PersonPlan:
        rng = self.rng
        kind = rng.choices(("web", "store", "both"), weights=(30, 25, 45))[0]
        area = rng.choice(_REMOTE if kind == "web" and rng.random() < 0.5 else _AREAS)
        first, last, address, city, postcode = self._name_and_place(area)
        has_phone = rng.random() < {"web": 0.5, "store": 0.75, "both": 0.8}[kind]
        ids = _Identifiers(
            email=self._email(first, last) if kind != "store" else "",
            phone=self._phone(area) if has_phone else None,
            card=self._card() if kind != "web" and (not has_phone or rng.random() < 0.45) else "",
            account=self._account() if kind != "store" and rng.random() < 0.45 else "",
        )
        home = {
            "first_name": first,
            "last_name": last,
            "address_line1": address,
            "city": city,
            "postcode": postcode,
            "country": "US",
        }

        # A few customers buy often, most now and then: a Pareto number of orders.
        count = min(120, int(rng.paretovariate(1.5)))
        if kind == "both":
            count = max(count, 2)
        start = rng.randint(NEWEST_DAY + 1, HISTORY_DAYS)
        days = [
            start,
            *sorted((rng.randint(NEWEST_DAY, start) for _ in range(count - 1)), reverse=True),
        ]
        if kind == "both":
            channels = [rng.choice((Channel.WEB, Channel.STORE)) for _ in days]
            if len(set(channels)) == 1:
                channels[rng.randrange(len(channels))] = (
                    Channel.STORE if channels[0] == Channel.WEB else Channel.WEB
                )
        else:
            channels = [Channel.WEB if kind == "web" else Channel.STORE] * len(days)
        favourites = rng.sample(self.categories, 2)
        elsewhere = rng.choice([s.code for s in STORES if s.code != area.store_code])

        # When and where each order happened, oldest first: the identifiers each one shows
        # depend on what the record already knows by then.
        slots = []
        for days_ago, channel in zip(days, channels, strict=True):
            if channel == Channel.WEB:
                store_code, zone = "", area.time_zone
                local = time(rng.randint(7, 22), rng.randrange(60))
            else:
                store_code = area.store_code if rng.random() < 0.85 else elsewhere
                zone = STORE_TIME_ZONES[store_code]
                local = time(rng.randint(10, 19), rng.randrange(60))
            slots.append((moment(self.today, days_ago, local, zone), days_ago, channel, store_code))
        slots.sort(key=lambda slot: slot[0])

        events: list[Event] = []
        known: set[str] = set()
        bought: list[tuple[int, str]] = []
        for n, (placed_at, days_ago, channel, store_code) in enumerate(slots):
            lines, picked = self._basket(favourites)
            identity: dict[str, Any] = {}
            if channel == Channel.WEB:
                shown = {"email", "external"} | ({"phone"} if rng.random() < 0.6 else set())
                identity.update(home)
                status = web_order_status(days_ago)
                if days_ago > 3 and rng.random() < 0.03:
                    status = OrderStatus.CANCELLED
            else:
                shown = {"phone"} if not ids.card or rng.random() < 0.6 else set()
                shown |= {"loyalty"} if rng.random() < 0.8 else set()
                if n == 0 or rng.random() < 0.85:
                    identity.update(first_name=first, last_name=last)
                if rng.random() < 0.1:
                    identity.update(home)
                status = OrderStatus.COMPLETED
            shown = {kind for kind in shown if ids.has(kind)}
            if not shown or (n and not shown & known):
                # The till or the web shop asks for an identifier the record already has: without
                # one, identity resolution would open a second record for her.
                shown.add(
                    next(
                        k
                        for k in ("phone", "email", "loyalty", "external")
                        if ids.has(k) and (k in known or not n)
                    )
                )
            known |= shown
            identity.update(self._shown(ids, shown))
            events.append(
                OrderPlan(
                    placed_at=placed_at,
                    channel=channel,
                    identity=Identity(**identity),
                    lines=lines,
                    status=status,
                    store_code=store_code,
                    shipping=shipping_for(channel, lines, _PRICES),
                )
            )
            bought.extend((days_ago, product.name) for product in picked)

        if start > NEWEST_DAY + 1 and rng.random() < 0.12:
            in_store = Channel.STORE in channels and bool(area.store_code)
            for _ in range(rng.choice((1, 1, 2, 3))):
                events.append(self._comment(start, first, favourites, bought, area, in_store))
        return PersonPlan(events=tuple(sorted(events, key=_when)))

    def _name_and_place(self, area: _Area) -> tuple[str, str, str, str, str]:
        rng = self.rng
        while True:
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            city, postcode = rng.choice(area.places)
            address = f"{rng.randint(1, 4999)} {rng.choice(_STREETS)}"
            if rng.random() < 0.3:
                address += f", Apt {rng.randint(1, 30)}{rng.choice('ABCD')}"
            name = search_key(f"{first} {last}")
            keys = {(name, postcode.lower()), (name, address.lower())}
            if not keys & self.places:
                self.places |= keys
                return first, last, address, city, postcode

    def _email(self, first: str, last: str) -> str:
        rng = self.rng
        f, la = _NOT_LETTERS.sub("", search_key(first)), _NOT_LETTERS.sub("", search_key(last))
        local = rng.choice((f"{f}.{la}", f"{f[0]}{la}", f"{f}{la}", f"{f}_{la}", f"{la}.{f}"))
        domain = rng.choice(_EMAIL_DOMAINS)
        email = f"{local}@{domain}"
        while email in self.emails:
            email = f"{local}{rng.randint(2, 999)}@{domain}"
        self.emails.add(email)
        return email

    def _phone(self, area: _Area) -> tuple[str, str]:
        while True:
            number = (self.rng.choice(area.area_codes), f"{self.rng.randint(200, 9999):04d}")
            if number not in self.phones:
                self.phones.add(number)
                return number

    def _card(self) -> str:
        while True:
            card = f"LC{self.rng.randint(60_000_000, 99_999_999)}"
            if card not in self.cards:
                self.cards.add(card)
                return card

    def _account(self) -> str:
        while True:
            account = str(self.rng.randint(100_000, 999_999))
            if account not in self.accounts:
                self.accounts.add(account)
                return account

    def _shown(self, ids: _Identifiers, shown: set[str]) -> dict[str, Any]:
        """The identifiers as a till or a web form would send them, each typed its own way."""
        rng = self.rng
        fields: dict[str, Any] = {}
        if "email" in shown:
            fields["email"] = ids.email
        if "phone" in shown and ids.phone:
            code, line = ids.phone
            fields["phone"] = rng.choice(
                (
                    f"({code}) 555-{line}",
                    f"{code}-555-{line}",
                    f"{code}.555.{line}",
                    f"+1 {code} 555 {line}",
                    f"{code}555{line}",
                )
            )
        if "loyalty" in shown:
            card = ids.card
            fields["loyalty_number"] = rng.choice(
                (card, f"LC-{card[2:6]}-{card[6:]}", f"lc {card[2:6]} {card[6:]}")
            )
        if "external" in shown:
            fields["external_ids"] = {"webshop": ids.account}
        return fields

    def _basket(self, favourites: list[str]) -> tuple[tuple[LineInput, ...], list[ProductPlan]]:
        rng = self.rng
        size = rng.choices((1, 2, 3, 4), weights=(55, 27, 12, 6))[0]
        picked: list[ProductPlan] = []
        while len(picked) < size:
            category = rng.choice(favourites) if rng.random() < 0.7 else rng.choice(self.categories)
            product = rng.choice(self.by_category[category])
            if product not in picked:
                picked.append(product)
        lines = tuple(
            LineInput(
                sku=product.sku,
                quantity=rng.choices((1, 2, 3), weights=(86, 11, 3))[0],
                # One line in eight was on sale at 20% off.
                unit_price=(product.price * Decimal("0.8")).quantize(Decimal("0.01"))
                if rng.random() < 0.125
                else None,
            )
            for product in picked
        )
        return lines, picked

    def _comment(
        self,
        start: int,
        first: str,
        favourites: list[str],
        bought: list[tuple[int, str]],
        area: _Area,
        in_store: bool,
    ) -> CommentPlan:
        """A note by her store's staff or by a rep, after her first order."""
        rng = self.rng
        days_ago = rng.randint(NEWEST_DAY, start - 1)
        earlier = [name for day, name in bought if day > days_ago]
        if in_store and rng.random() < 0.5:
            author, template = rng.choice(STORE_STAFF[area.store_code]), rng.choice(_STORE_NOTES)
            local, zone = time(rng.randint(10, 19), rng.randrange(60)), area.time_zone
        else:
            author, template = rng.choice(REPS), rng.choice(_REP_NOTES)
            local, zone = time(rng.randint(8, 19), rng.randrange(60)), "America/New_York"
        if "{item}" in template and not earlier:
            template = _NOTE_WITHOUT_ITEM
        body = template.format(
            first=first,
            item=rng.choice(earlier).lower() if earlier else "",
            category=rng.choice(favourites).lower(),
        )
        return CommentPlan(moment(self.today, days_ago, local, zone), author, body)


def crowd(*, seed: int, count: int, today: date) -> Iterator[PersonPlan]:
    """`count` generated customers; the same seed and day give the same people."""
    people = _Crowd(seed, today)
    for _ in range(count):
        yield people.person()

"""The generated crowd."""

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

from crm.demo.plans import (
    HISTORY_DAYS,
    NEWEST_DAY,
    PRICES,
    REPS,
    STORE_STAFF,
    STORE_TIME_ZONES,
    STORES,
    CommentPlan,
    Event,
    OrderPlan,
    PersonPlan,
    ProductPlan,
    catalogue,
    event_when,
    moment,
    shipping_for,
    web_order_status,
)
from crm.demo.stories import story_places_and_emails
from crm.models import Channel
from customers.identifiers import search_key
from customers.services import Identity
from orders.models import OrderStatus
from orders.services import LineInput

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
        self.places, self.emails = story_places_and_emails()
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
                    shipping=shipping_for(channel, lines, PRICES),
                )
            )
            bought.extend((days_ago, product.name) for product in picked)

        if start > NEWEST_DAY + 1 and rng.random() < 0.12:
            in_store = Channel.STORE in channels and bool(area.store_code)
            for _ in range(rng.choice((1, 1, 2, 3))):
                events.append(self._comment(start, first, favourites, bought, area, in_store))
        return PersonPlan(events=tuple(sorted(events, key=event_when)))

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

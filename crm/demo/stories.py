"""The named story customers."""

import random
from datetime import date, time
from typing import Any

from crm.demo.plans import (
    PRICES,
    SKUS,
    STORE_TIME_ZONES,
    CommentPlan,
    Event,
    OrderPlan,
    PersonPlan,
    catalogue,
    event_when,
    moment,
    shipping_for,
    web_order_status,
)
from crm.models import Channel
from customers.identifiers import search_key
from customers.services import Identity
from orders.models import OrderStatus
from orders.services import LineInput

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
            lines.append(LineInput(sku=SKUS[name], quantity=int(count or 1)))
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
                shipping=shipping_for(channel, tuple(lines), PRICES),
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
        events = tuple(sorted(self.events, key=event_when))
        if not isinstance(events[0], OrderPlan):
            raise ValueError(f"{self.label}: a history starts with an order.")
        return PersonPlan(events=events, label=self.label)


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


def story_places_and_emails() -> tuple[set[tuple[str, str]], set[str]]:
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

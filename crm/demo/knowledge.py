"""The demo's knowledge base: the answers a retailer's customers ask for most, written through
the article services like everything else in the demo (one is left a draft)."""

from crm.models import User
from tickets.models import Article, ArticleCategory
from tickets.services.knowledge import article_create

# (title, category, body in Markdown, published)
ARTICLES: tuple[tuple[str, str, str, bool], ...] = (
    (
        "Returns and exchanges: how to send something back",
        ArticleCategory.RETURNS,
        """You can return anything you bought from us, online or in a store, **within 30 days**
of the purchase (or of delivery, for online orders). Items should be unused, with their tags.

## Return it in any of our stores

Bring the item to any store: you don't need a receipt. We find your purchase from your e-mail
address, phone number or loyalty card, and refund it to the card you paid with.

## Return it by post

1. Sign in and open the order under **My orders**.
2. Choose *Return items*, pick the items and the reason.
3. Print the prepaid label and drop the parcel at any post office.

## Exchanges

The quickest exchange is a return and a new order. In a store, the team can swap a size or
colour on the spot when it is in stock.

Sale items and gift cards follow the same rules, except that gift cards cannot be returned.
""",
        True,
    ),
    (
        "When will I get my refund?",
        ArticleCategory.RETURNS,
        """We issue your refund as soon as your return is checked in:

- **In a store:** straight away, at the counter.
- **By post:** within 2 business days of the parcel reaching our Reno fulfilment center.

Card refunds then take **3 to 5 business days** to show on your statement, depending on your
bank. Refunds go back to the card or payment method you used; a gift card purchase is refunded
to a new gift card.

Shipping is refunded when the item arrived damaged or was not what you ordered.
""",
        True,
    ),
    (
        "Where is my order? Tracking a delivery",
        ArticleCategory.DELIVERY,
        """Once your order ships we e-mail you a **tracking link**. Most orders arrive within
**2 to 4 business days**.

If the tracking has not moved for two business days, or the parcel is marked delivered but
isn't there:

1. Check with neighbours and your building's mail room.
2. Wait until the end of the next business day: carriers sometimes scan a parcel early.
3. Still nothing? [Contact us](/contact/) with your order number and we will trace it or send
   a replacement.
""",
        True,
    ),
    (
        "Changing the delivery address or cancelling an order",
        ArticleCategory.DELIVERY,
        """We start preparing orders quickly, but you can change or cancel an order **until it
ships**.

Write to us with your order number as soon as possible. Once the order has shipped we can no
longer change its address: you can refuse the delivery, or return it for free when it arrives.
""",
        True,
    ),
    (
        "Buy online, pick up in store: how pickup works",
        ArticleCategory.PICKUP,
        """Choose *Pick up in store* at checkout and the store you like. We e-mail you a **pickup
code** when your order is ready, usually within two hours during opening hours.

- Bring the pickup code, or just tell us your phone number or e-mail address.
- Someone else may collect for you with the code.
- We hold your order for **7 days**. After that it goes back on the shelf and we refund you in
  full.
""",
        True,
    ),
    (
        "My pickup order is late or I missed the pickup window",
        ArticleCategory.PICKUP,
        """If you haven't received your *ready for pickup* e-mail two hours after ordering,
the store may be waiting for an item from another location: the e-mail will come as soon as it
arrives.

Missed the 7-day hold? The order has been cancelled and refunded automatically. You can place
it again online, or ask the store to set the items aside for you.
""",
        True,
    ),
    (
        "Finding your size: clothing and shoe size guide",
        ArticleCategory.PRODUCTS,
        """Our clothing follows US sizing. Measure yourself in light clothing:

| Size | Chest (in) | Waist (in) |
| ---- | ---------- | ---------- |
| S    | 34–36      | 28–30      |
| M    | 38–40      | 31–33      |
| L    | 42–44      | 34–36      |
| XL   | 46–48      | 37–39      |

Between two sizes? Take the larger one for jackets and the smaller one for knitwear, which
stretches. Shoes run true to size; wide feet do best half a size up.

The wrong size is always free to exchange in any store.
""",
        True,
    ),
    (
        "Gift cards: balance, using them and lost cards",
        ArticleCategory.PAYMENTS,
        """Our gift cards work online and in every store and **never expire**.

- **Check the balance** on any receipt, at a store counter, or by asking us with the card's
  number.
- **Online,** enter the 16-digit number and PIN at checkout. You can combine a gift card with
  another payment method.
- **Lost a card?** If it was registered to your account or you have the purchase receipt, we can
  block it and move the remaining balance to a new card.

Gift cards cannot be exchanged for cash or returned.
""",
        True,
    ),
    (
        "Payment methods we accept",
        ArticleCategory.PAYMENTS,
        """We accept Visa, Mastercard, American Express, Discover, Apple Pay, Google Pay and our
gift cards, online and in stores. Stores also take cash.

Your card is charged when the order ships, or when you collect it for store pickup.
""",
        True,
    ),
    (
        "Broken, faulty or stopped working: warranty and repairs",
        ArticleCategory.WARRANTY,
        """Everything we sell is guaranteed against manufacturing faults for **one year**;
electronics and appliances for **two years**.

If something stopped working, broke, or arrived damaged:

1. Take a photo of the fault (and of the box, if it arrived damaged).
2. Bring it to any store, or [write to us](/contact/) with the photos and your order number.
3. We repair, replace or refund it, whichever you prefer when a repair isn't possible.

Wear and tear and accidental damage aren't covered by the warranty.
""",
        True,
    ),
    (
        "Loyalty card: earning and using points",
        ArticleCategory.ACCOUNT,
        """You earn **1 point per dollar** spent online and in stores; 500 points become a $5
reward on your next purchase.

Points are added when you show your loyalty card or give your phone number at the counter, or
automatically online when you are signed in. Missing points from a store purchase? Send us the
receipt within 60 days and we add them.
""",
        True,
    ),
    (
        "Store opening hours on public holidays",
        ArticleCategory.STORES,
        """Our stores open on most public holidays from **11 am to 5 pm**, and close on
Thanksgiving Day, Christmas Day and New Year's Day.

Each store's regular hours are on its page, and the team is happy to confirm by phone.
""",
        True,
    ),
    (
        "Price match and price adjustments",
        ArticleCategory.PAYMENTS,
        """If an item you bought goes on sale within 14 days, we refund the difference. Bring
the receipt to a store or write to us with the order number.

*Draft: waiting for the pricing team to confirm the competitor price-match rules.*
""",
        False,
    ),
)


def knowledge_write(*, author: User) -> int:
    """Write the demo's articles (idempotent: an existing title is left alone); returns how many
    articles there are."""
    existing = set(Article.objects.values_list("title", flat=True))
    for title, category, body, published in ARTICLES:
        if title not in existing:
            article_create(
                title=title, body=body, category=category, publish=published, actor=author
            )
    return Article.objects.count()

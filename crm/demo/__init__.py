"""The demo data, as plain plans that `manage.py seed_demo` writes: stores, catalogue, staff,
named story customers, a generated crowd, opening stock, and the stores' pickups and returns.

Nothing here touches the database, except `service_desk`, which writes the service desk and its
inquiries through the services. Stores, catalogue, staff and stories are fixed; the crowd comes
from `random.Random(seed)`. Dates count back whole days from the day the seed runs, so the same seed
gives the same data, always within the last two years.
"""

from crm.demo.counter import PickupPlan, ReturnPlan, pickups, returns
from crm.demo.crowd import crowd
from crm.demo.plans import (
    DEMO_PASSWORD,
    DEMO_URL,
    PORTAL_STORY,
    STORES,
    USERS,
    WAREHOUSE,
    CommentPlan,
    OrderPlan,
    PersonPlan,
    catalogue,
    stock,
)
from crm.demo.stories import stories

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_URL",
    "PORTAL_STORY",
    "STORES",
    "USERS",
    "WAREHOUSE",
    "CommentPlan",
    "OrderPlan",
    "PersonPlan",
    "PickupPlan",
    "ReturnPlan",
    "catalogue",
    "crowd",
    "pickups",
    "returns",
    "stock",
    "stories",
]

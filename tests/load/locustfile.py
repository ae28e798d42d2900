"""The locust users of tests/load/load_mix.py: shoppers, the web shop, reps and store managers at
once, on the ids and logins the script found in its database (the JSON file LOAD_PLAN names).

Every answer is counted by request name and status into LOAD_RESULT when locust quits, with the
e-mail addresses of the inquiries the web form accepted and the external ids of the orders the
API stored, for the script to compare with the database and the SMTP server.
"""

import json
import os
import random
import re
import uuid
from collections import Counter, defaultdict
from typing import Any

from locust import HttpUser, between, events, task

PLAN: dict[str, Any] = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115
statuses: defaultdict[str, Counter[str]] = defaultdict(Counter)
accepted_inquiries: list[str] = []
stored_orders: list[str] = []
comments: list[str] = []
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(client: Any, page: Any) -> str | None:
    """The form's CSRF token, with the CSRF cookie that came with it kept for the POST: the
    production settings mark it Secure, which a browser behind the TLS proxy would send back."""
    match = TOKEN.search(page.text)
    cookie = page.cookies.get("csrftoken") or client.cookies.get("csrftoken")
    if match is None or cookie is None:
        return None
    client.cookies.set("csrftoken", cookie)
    return match.group(1)


@events.request.add_listener
def _count(name: str, response: Any, exception: Exception | None, **kwargs: Any) -> None:
    code = "connection error" if exception is not None and response is None else None
    statuses[name][code or str(getattr(response, "status_code", 0))] += 1


@events.quitting.add_listener
def _write(environment: Any, **kwargs: Any) -> None:
    with open(os.environ["LOAD_RESULT"], "w") as out:
        json.dump(
            {
                "statuses": statuses,
                "inquiries": accepted_inquiries,
                "orders": stored_orders,
                "comments": comments,
                "seconds": environment.runner.stats.total.last_request_timestamp
                - environment.runner.stats.total.start_time,
                "latencies": {
                    name: {
                        "requests": entry.num_requests,
                        "p50": entry.get_response_time_percentile(0.5),
                        "p95": entry.get_response_time_percentile(0.95),
                    }
                    for (name, _), entry in environment.runner.stats.entries.items()
                },
            },
            out,
        )


def _visitor() -> dict[str, str]:
    """A shopper's own address, as the proxy in front reports it (rate limits are per visitor)."""
    octets = (random.randrange(256), random.randrange(256), random.randrange(1, 255))
    return {"X-Forwarded-For": "10.{}.{}.{}".format(*octets)}


class Shopper(HttpUser):
    """Writes in through the web form, and looks up an inquiry on its tracking page."""

    weight = 4
    wait_time = between(0.1, 0.5)

    @task(2)
    def web_inquiry(self) -> None:
        headers = _visitor()
        self.client.cookies.clear()
        page = self.client.get("/contact/", headers=headers, name="GET /contact/")
        token = csrf_token(self.client, page)
        if token is None:
            return
        address = f"shopper-{uuid.uuid4().hex[:12]}@{PLAN['mail_domain']}"
        with self.client.post(
            "/contact/",
            data={
                "csrfmiddlewaretoken": token,
                "name": "Load Shopper",
                "email": address,
                "subject": "Where is my parcel?",
                "message": "It should have come on Tuesday. Could you look into it, please?",
            },
            headers=headers,
            allow_redirects=False,
            name="POST /contact/",
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                accepted_inquiries.append(address)
            else:
                response.failure(f"the web form answered {response.status_code}")

    @task(3)
    def tracking(self) -> None:
        token = random.choice(PLAN["tracking_tokens"])
        self.client.get(f"/track/{token}/", headers=_visitor(), name="GET /track/<token>/")


class WebShop(HttpUser):
    """Posts orders through the API, each with an Idempotency-Key; one in four is sent twice, as
    a shop does when its first answer is lost."""

    weight = 2
    wait_time = between(0.1, 0.5)

    @task
    def order(self) -> None:
        external_id = uuid.uuid4().hex
        body = {
            "external_source": "load",
            "external_id": external_id,
            "customer": {"email": f"buyer-{external_id[:12]}@{PLAN['mail_domain']}",
                         "first_name": "Load", "last_name": "Buyer"},
            "channel": "web",
            "lines": [{"sku": random.choice(PLAN["skus"]), "quantity": 1}],
        }  # fmt: skip
        headers = {"Authorization": f"Bearer {PLAN['api_token']}", "Idempotency-Key": external_id}
        for _ in range(2 if random.random() < 0.25 else 1):
            response = self.client.post(
                "/api/v1/orders/", json=body, headers=headers, name="POST /api/v1/orders/"
            )
            if response.status_code == 201:
                stored_orders.append(external_id)


class StaffMember(HttpUser):
    """A signed-in member of staff (the session cookie the script got through the login form)."""

    abstract = True
    cookie = ""

    def on_start(self) -> None:
        name, _, value = PLAN[self.cookie].partition("=")
        self.client.cookies.set(name, value)


class Rep(StaffMember):
    """Opens customers' 360 pages."""

    weight = 1
    wait_time = between(0.2, 1.0)
    cookie = "rep_cookie"

    @task
    def customer_360(self) -> None:
        customer = random.choice(PLAN["customers"])
        self.client.get(f"/customers/{customer}/", name="GET /customers/<id>/")


class StoreManager(StaffMember):
    """Adds comments to customers' histories, from their 360 pages."""

    weight = 1
    wait_time = between(0.5, 1.5)
    cookie = "manager_cookie"

    @task
    def comment(self) -> None:
        customer = random.choice(PLAN["customers"])
        page = self.client.get(f"/customers/{customer}/", name="GET /customers/<id>/")
        token = csrf_token(self.client, page)
        if token is None:
            return
        body = f"Load comment {uuid.uuid4().hex}"
        response = self.client.post(
            f"/customers/{customer}/comments/",
            data={"csrfmiddlewaretoken": token, "body": body},
            headers={"HX-Request": "true"},
            name="POST /customers/<id>/comments/",
        )
        if response.status_code == 200 and body in response.text:
            comments.append(body)

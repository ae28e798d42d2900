"""User text is never markup: a script payload sent in through every way text comes in (e-mail,
the web form, the API, staff comments, replies and call-back notes, knowledge articles, routing
rules and queues, CSV imports) shows as text on every page that shows it, to staff and to the
customer, and in every e-mail the product sends."""

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Channel, OutboundEmail, Role, Scope, User
from crm.services import token_create
from customers.models import Customer
from customers.services import Identity, comment_add
from tests.factories import UserFactory
from tickets.models import ArticleCategory, Inquiry, Queue, RoutingRule
from tickets.services.callbacks import callback_request
from tickets.services.inquiries import IncomingMessage, inquiry_open
from tickets.services.knowledge import article_create
from tickets.services.workspace import inquiry_reply

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


class LiveMarkup(HTMLParser):
    """Finds the payload where a browser would run it: in a script element, in an event handler
    attribute, or as a javascript: link. (Escaped, it is only text, quotes and all.)"""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag == "script"
        for name, value in attrs:
            if "__pwned" in (value or "") and (
                name.startswith("on") or (value or "").lstrip().startswith("javascript:")
            ):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and "__pwned" in data:
            self.found.append(f"<script>{data}")


def raw(text: str) -> list[str]:
    parser = LiveMarkup()
    parser.feed(text)
    return parser.found


def test_a_script_sent_in_every_way_is_text_everywhere_it_shows() -> None:
    rep: User = UserFactory(role=Role.REP)
    admin: User = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    # In by e-mail: the sender's name, the subject, the text and the HTML.
    by_mail = inquiry_open(
        channel=Channel.EMAIL,
        identity=Identity(email="ana@example.com", first_name=PAYLOAD, city=PAYLOAD),
        message=IncomingMessage(
            text=f"Hello {PAYLOAD}",
            html=f"<p>Hello {PAYLOAD}</p>",
            subject=f"Order {PAYLOAD}",
            from_address="ana@example.com",
            from_name=PAYLOAD,
        ),
    )
    customer = by_mail.customer
    assert customer is not None
    portal_user: User = UserFactory(role=Role.CUSTOMER, email="ana@example.com")
    Customer.objects.filter(pk=customer.pk).update(user=portal_user)
    # In through the web form.
    Client().post(
        reverse("support:contact"),
        {"name": PAYLOAD, "email": "ana@example.com", "subject": PAYLOAD, "message": PAYLOAD},
    )
    by_form = Inquiry.objects.exclude(pk=by_mail.pk).get()
    # In through the API: a customer's details and an order's.
    _, token = token_create(
        name=PAYLOAD,
        scopes=[Scope.CUSTOMERS_WRITE, Scope.ORDERS_WRITE],
        channels=list(Channel.values),
        all_stores=True,
        actor=admin,
    )
    api = Client(headers={"Authorization": f"Bearer {token}"})
    created = api.post(
        reverse("api:customer-list"),
        {"channel": "web", "email": "bo@example.com", "first_name": PAYLOAD, "last_name": "Bo"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    # In from staff: a comment, a reply and a call-back note.
    comment_add(customer=customer, author=rep, body=PAYLOAD)
    inquiry_reply(inquiry=by_mail, text=f"Dear {PAYLOAD}", actor=rep)
    start = timezone.now() + timedelta(hours=2)
    callback_request(
        customer=customer,
        phone="+14155550123",
        window_start=start,
        window_end=start + timedelta(hours=1),
        note=PAYLOAD,
        channel=Channel.PHONE,
        actor=rep,
    )

    staff, owner = Client(), Client()
    staff.force_login(rep)
    owner.force_login(portal_user)
    bo = Customer.objects.get(contact_points__value="bo@example.com")
    pages: dict[str, Any] = {
        "360 page": staff.get(customer.get_absolute_url()),
        "360 page of the API's customer": staff.get(bo.get_absolute_url()),
        "search": staff.get(reverse("customers:search"), {"q": "ana@example.com"}, follow=True),
        "search for the payload": staff.get(reverse("customers:search"), {"q": PAYLOAD}),
        "inquiry page (e-mail)": staff.get(reverse("tickets:inquiry", args=[by_mail.pk])),
        "inquiry page (web form)": staff.get(reverse("tickets:inquiry", args=[by_form.pk])),
        "queue": staff.get(reverse("tickets:queue"), {"tab": "all"}),
        "call-backs": staff.get(reverse("tickets:callbacks")),
        "her account page": owner.get(reverse("account_home")),
        "her inquiry in the portal": owner.get(
            reverse("support:portal_inquiry", args=[by_mail.reference])
        ),
        "tracking page": Client().get(reverse("support:track", args=[by_mail.tracking_token])),
    }

    shown = {name: response.content.decode() for name, response in pages.items()}
    assert {name: response.status_code for name, response in pages.items()} == dict.fromkeys(
        pages, 200
    )
    assert {name: raw(text) for name, text in shown.items() if raw(text)} == {}
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in shown["inquiry page (e-mail)"]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in shown["her inquiry in the portal"]
    emails = list(OutboundEmail.objects.all())
    assert len(emails) >= 3  # two acknowledgements and the reply
    # The HTML part is markup: the payload is escaped there. (Subjects and plain-text parts are
    # text by nature: the payload stays as written, which a mail program shows as text.)
    assert {email.key: raw(email.html_body) for email in emails if raw(email.html_body)} == {}


def test_a_script_in_an_article_a_rule_name_or_an_imported_file_is_text() -> None:
    supervisor: User = UserFactory(role=Role.SUPERVISOR)
    admin: User = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    # A knowledge article's title and Markdown body, with a script link for good measure.
    article = article_create(
        title=f"Returns {PAYLOAD}",
        body=f"# Returns\n\n{PAYLOAD}\n\n[Open](javascript:window.__pwned=3)",
        category=ArticleCategory.RETURNS,
        publish=True,
        actor=supervisor,
    )
    # A routing rule's name, and its queue's.
    queue = Queue.objects.create(name=f"Team {PAYLOAD}", slug="team")
    RoutingRule.objects.create(name=f"Rule {PAYLOAD}", queue=queue)
    # A legacy CSV: a good row with the payload as a name, and a bad row whose value the preview
    # shows beside its error.
    upload = SimpleUploadedFile(
        "customers.csv",
        "email,first_name,last_name\n"
        f'ana@example.com,"{PAYLOAD}",Lopez\n'
        f'"{PAYLOAD}@",Ben,Okafor\n'.encode(),
        content_type="text/csv",
    )
    supervisor_client, admin_client = Client(), Client()
    supervisor_client.force_login(supervisor)
    admin_client.force_login(admin)
    preview = admin_client.post(
        reverse("imports:upload"), {"action": "preview", "kind": "customers", "file": upload}
    )
    confirmed = admin_client.post(
        reverse("imports:upload"), {"action": "confirm", "token": preview.context["token"]}
    )
    imported = Customer.objects.get(contact_points__value="ana@example.com")

    pages: dict[str, Any] = {
        "help index": Client().get(reverse("support:help")),
        "article page": Client().get(reverse("support:article", args=[article.slug])),
        "articles (staff)": supervisor_client.get(reverse("tickets:knowledge:list")),
        "article (staff)": supervisor_client.get(
            reverse("tickets:knowledge:detail", args=[article.pk])
        ),
        "routing rules": supervisor_client.get(reverse("tickets:rules")),
        "import preview": preview,
        "import result": confirmed,
        "imported customer's 360 page": supervisor_client.get(imported.get_absolute_url()),
    }

    shown = {name: response.content.decode() for name, response in pages.items()}
    assert {name: response.status_code for name, response in pages.items()} == dict.fromkeys(
        pages, 200
    )
    assert {name: raw(text) for name, text in shown.items() if raw(text)} == {}
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in shown["article page"]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in shown["import preview"]

"""An inquiry from start to finish: a customer sends the web form and gets the acknowledgement
by e-mail (through a real SMTP server); she follows the tracking link from it; a rep answers from
the workspace and resolves it; she reloads her tracking page, reads the answer and rates it."""

import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, expect

from crm.models import Role
from customers.models import ContactKind
from tests.conftest import SmtpSink
from tests.e2e.conftest import DESKTOP, TABLET_PORTRAIT, log_in
from tests.factories import (
    ContactPointFactory,
    CustomerFactory,
    QueueFactory,
    UserFactory,
    web_inquiry,
)
from tickets.models import Inquiry, InquiryStatus, Queue
from tickets.services.workspace import inquiry_reply

pytestmark = pytest.mark.e2e

SUBJECT = "Zip broke on my rain jacket"
ANSWER = "We are sorry! A replacement zip is on its way to you, free of charge."


def wait_for_mail(sink: SmtpSink, subject_part: str, timeout: float = 10.0) -> str:
    """The text of the first message the sink received whose subject contains `subject_part`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for delivery in sink.deliveries:
            if subject_part in str(delivery.message["Subject"]):
                body = delivery.message.get_body(preferencelist=("plain",))
                assert body is not None
                return str(body.get_content())
        time.sleep(0.1)
    subjects = [str(d.message["Subject"]) for d in sink.deliveries]
    raise AssertionError(f"No e-mail with {subject_part!r} reached the sink: {subjects}")


def test_customer_follows_her_inquiry_from_the_form_to_her_rating(
    live_server,
    transactional_db,
    settings,
    mailer_to_sink: SmtpSink,
    new_context: Callable[..., BrowserContext],
    screenshots: Path,
) -> None:
    # given a service team with a rep, and links in e-mails pointing at this server
    settings.CRM_SITE_URL = live_server.url
    if not Queue.objects.filter(is_default=True).exists():
        QueueFactory(name="Customer Service", slug="customer-service", is_default=True)
    rep = UserFactory(
        role=Role.REP, first_name="Sam", last_name="Rivera", email="sam@retail.example"
    )

    # when a customer sends the web form
    customer = new_context(DESKTOP).new_page()
    customer.goto(f"{live_server.url}/contact/")
    customer.screenshot(path=screenshots / "inquiry-web-form.png", full_page=True)
    customer.get_by_label("Your name").fill("Maya Lopez")
    customer.get_by_label("E-mail").fill("maya@example.com")
    customer.get_by_label("Subject").fill(SUBJECT)
    customer.get_by_label("Your message").fill("The zip broke after two days. <b>Not bold</b>")
    customer.get_by_role("button", name="Send").click()

    # then she sees her reference and when to expect an answer
    expect(customer.get_by_role("heading", level=1)).to_have_text(
        "Thank you, we received your message"
    )
    inquiry = Inquiry.objects.get(subject=SUBJECT)
    expect(customer.locator("#inquiry-reference")).to_have_text(inquiry.reference)
    expect(customer.locator("#expected-answer")).to_contain_text("We expect to reply")
    customer.screenshot(path=screenshots / "inquiry-web-form-sent.png", full_page=True)

    # and the acknowledgement reaches her mailbox with the tracking link
    acknowledgement = wait_for_mail(mailer_to_sink, f"[#{inquiry.reference}]")
    found = re.search(r"https?://\S+/track/[\w-]+/", acknowledgement)
    assert found is not None, acknowledgement
    tracking_url = found.group(0)
    assert inquiry.tracking_token in tracking_url

    # she follows the link: no account needed
    customer.goto(tracking_url)
    expect(customer.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(customer.locator("#inquiry-status")).to_have_text("Received")
    expect(customer.locator("#conversation")).to_contain_text("<b>Not bold</b>")
    customer.screenshot(path=screenshots / "inquiry-tracking-before.png", full_page=True)

    # a rep opens it from the queue, answers and resolves it
    desk = new_context(DESKTOP).new_page()
    log_in(desk, live_server.url, rep.email)
    desk.goto(f"{live_server.url}/inquiries/")
    desk.get_by_role("link", name=inquiry.reference).click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text(SUBJECT)
    desk.locator("textarea[name=text]").fill(ANSWER)
    desk.get_by_label("Then set status").select_option(InquiryStatus.RESOLVED)
    desk.get_by_role("button", name="Send reply").click()
    expect(desk.locator("body")).to_contain_text(ANSWER)
    desk.screenshot(path=screenshots / "inquiry-rep-replied.png", full_page=True)
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.RESOLVED

    # the answer and the rating request reach her too
    assert ANSWER in wait_for_mail(mailer_to_sink, "Re: ")
    assert f"{tracking_url}#rate" in wait_for_mail(mailer_to_sink, "How did we do?")

    # she reloads her tracking page, reads the answer and rates it 5
    customer.reload()
    expect(customer.locator("#inquiry-status")).to_have_text("Resolved")
    answer = customer.locator(".support-message-outbound")
    expect(answer).to_contain_text(ANSWER)
    expect(answer).to_contain_text("Sam from Customer Service")
    rating = customer.locator("#rate")
    rating.locator("label[for=rating-5]").click()
    rating.get_by_label("What could we do better?").fill("Nothing, thank you!")
    rating.get_by_role("button", name="Send my rating").click()
    expect(customer.locator("#your-rating")).to_contain_text("You rated 5/5")
    customer.screenshot(path=screenshots / "inquiry-tracking-after.png", full_page=True)
    inquiry.refresh_from_db()
    assert (inquiry.rating, inquiry.rating_comment) == (5, "Nothing, thank you!")

    # and the page reads well on a tablet held upright
    tablet = new_context(TABLET_PORTRAIT).new_page()
    tablet.goto(tracking_url)
    expect(tablet.locator("#your-rating")).to_contain_text("You rated 5/5")
    tablet.screenshot(path=screenshots / "inquiry-tracking-tablet-portrait.png", full_page=True)


def test_signed_in_customer_follows_her_inquiries_in_the_portal(
    live_server,
    transactional_db,
    new_context: Callable[..., BrowserContext],
    screenshots: Path,
) -> None:
    # given a customer with an answered inquiry and a resolved one
    if not Queue.objects.filter(is_default=True).exists():
        QueueFactory(name="Customer Service", slug="customer-service", is_default=True)
    rep = UserFactory(role=Role.REP, first_name="Sam")
    user = UserFactory(role=Role.CUSTOMER, email="maya@example.com", first_name="Maya")
    maya = CustomerFactory(user=user, first_name="Maya", last_name="Lopez")
    ContactPointFactory(customer=maya, kind=ContactKind.EMAIL, value="maya@example.com")
    done = web_inquiry(subject="Gift card balance")
    inquiry_reply(inquiry=done, text="Your balance is $40.", actor=rep, status="resolved")
    asked = web_inquiry(subject="Parcel not arrived")
    inquiry_reply(
        inquiry=asked, text="Which address did you order to?", actor=rep, status="waiting"
    )

    # when she signs in and opens her inquiries from the nav
    page = new_context(DESKTOP).new_page()
    log_in(page, live_server.url, user.email)
    expect(page.get_by_role("heading", name="Your inquiries")).to_be_visible()
    page.get_by_role("link", name="My inquiries").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My inquiries")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.screenshot(path=screenshots / "portal-inquiries.png", full_page=True)

    # she answers the question and asks to be called
    page.get_by_role("link", name=asked.reference).click()
    expect(page.locator("#inquiry-status")).to_have_text("Waiting for your reply")
    page.get_by_label("Your reply").fill("To my office, 1 Market St.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#inquiry-status")).to_have_text("In progress")
    expect(page.locator("#conversation")).to_contain_text("To my office, 1 Market St.")
    callbacks = page.locator("#callbacks")
    callbacks.get_by_text("Rather talk? Request a call back").click()
    callbacks.get_by_label("Phone").fill("415 555 0100")
    tomorrow = (timezone.localtime() + timedelta(days=1)).date()
    callbacks.get_by_label("Day").fill(tomorrow.isoformat())
    callbacks.get_by_label("From").fill("10:00")
    callbacks.get_by_label("Until").fill("12:00")
    callbacks.get_by_role("button", name="Request the call").click()
    expect(page.locator("#callbacks")).to_contain_text("We will call you at")
    page.screenshot(path=screenshots / "portal-inquiry.png", full_page=True)
    assert asked.callbacks.count() == 1

    # and rates the resolved one from her portal
    page.get_by_role("link", name="My inquiries").first.click()
    page.get_by_role("link", name=done.reference).click()
    page.locator("label[for=rating-4]").click()
    page.get_by_role("button", name="Send my rating").click()
    expect(page.locator("#your-rating")).to_contain_text("You rated 4/5")

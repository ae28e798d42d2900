"""The agent queue's counts from the open-inquiry tally: whatever changes an inquiry (services,
bulk updates, deletes, merges), they equal the open inquiries counted one by one, for the call
center and for store staff, before and after the tally is compacted."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from crm.models import Role
from tests.factories import QueueFactory, StoreFactory, UserFactory, store_staff, web_inquiry
from tickets.models import (
    DUE_LONG_AGO,
    OPEN_STATUSES,
    Inquiry,
    InquiryStatus,
    OpenInquiryTally,
)
from tickets.selectors import workspace
from tickets.services.inquiries import inquiry_set_status
from tickets.services.tally import open_inquiry_tally_compact
from tickets.services.workspace import inquiry_assign, inquiry_merge, inquiry_set_queue

pytestmark = pytest.mark.django_db


def one_by_one(user, now: datetime) -> dict:
    """The tab counts per queue, from every inquiry the user sees, in Python."""
    counts: dict = {}
    for inquiry in workspace.visible_inquiries(user):
        if inquiry.merged_into_id is not None or inquiry.status not in OPEN_STATUSES:
            continue
        figures = counts.setdefault(inquiry.queue_id, dict.fromkeys(workspace.VIEWS, 0))
        figures["all"] += 1
        figures["mine"] += inquiry.assignee_id == user.pk
        figures["unassigned"] += inquiry.assignee_id is None
        figures["breaching"] += (
            inquiry.status != InquiryStatus.WAITING
            and inquiry.sla_due_at is not None
            and inquiry.sla_due_at <= now + workspace.BREACHING_SOON
        )
    return counts


def tab_counts(user, now: datetime) -> dict:
    visible = workspace.visible_inquiries(user).filter(merged_into__isnull=True)
    return workspace._tab_counts(user, visible.filter(status__in=OPEN_STATUSES), now)


def due_in(inquiry: Inquiry, delta: timedelta) -> None:
    Inquiry.objects.filter(pk=inquiry.pk).update(first_response_due_at=timezone.now() + delta)


def test_the_counts_follow_every_change_and_survive_compaction():
    store = StoreFactory()
    rep = UserFactory(role=Role.REP)
    staff = store_staff(store)
    deliveries = QueueFactory.create(slug="deliveries")
    returns = QueueFactory.create(slug="returns")
    inquiries = [
        web_inquiry(email=f"c{n}@example.com", store=store if n % 2 else None) for n in range(6)
    ]
    twin = web_inquiry(email="c0@example.com")

    def check() -> None:
        now = timezone.now()
        for user in (rep, staff):
            assert tab_counts(user, now) == one_by_one(user, now)

    check()
    for inquiry, queue in zip(inquiries, [deliveries, returns] * 3, strict=True):
        inquiry_set_queue(inquiry=inquiry, queue=queue, actor=rep)
    check()
    # Due long ago, two hours ago, just inside and just outside "breaching soon", and later.
    for inquiry, minutes in zip(inquiries, [-60 * 24 * 40, -120, 59, 61, 60 * 5, 30], strict=True):
        due_in(inquiry, timedelta(minutes=minutes))
    check()
    inquiry_assign(inquiry=inquiries[0], assignee=rep, actor=rep)
    inquiry_assign(inquiry=inquiries[1], assignee=rep, actor=rep)
    check()
    inquiry_set_status(inquiry=inquiries[2], status=InquiryStatus.WAITING, actor=rep)
    inquiry_set_status(inquiry=inquiries[3], status=InquiryStatus.RESOLVED, actor=rep)
    check()
    inquiry_set_status(inquiry=inquiries[3], status=InquiryStatus.OPEN, actor=rep)
    inquiry_merge(survivor=inquiries[0], merged=twin, actor=rep)
    check()
    Inquiry.objects.filter(queue_id=returns.pk).update(queue_id=deliveries.pk, store=store)
    check()
    Inquiry.objects.filter(pk=inquiries[5].pk).delete()
    check()

    rows = OpenInquiryTally.objects.count()
    left = open_inquiry_tally_compact()

    assert left == OpenInquiryTally.objects.count() < rows
    check()
    # Hours already past are folded into one; they count as breaching alike.
    assert OpenInquiryTally.objects.filter(due_hour=DUE_LONG_AGO, running=True).exists()
    past = OpenInquiryTally.objects.exclude(due_hour=DUE_LONG_AGO)
    assert not past.filter(due_hour__lt=timezone.now() - timedelta(hours=1)).exists()
    assert not OpenInquiryTally.objects.filter(change=0).exists()


def test_a_queue_whose_inquiries_all_closed_is_not_listed():
    rep = UserFactory(role=Role.REP)
    queue = QueueFactory()
    inquiry = web_inquiry()
    inquiry_set_queue(inquiry=inquiry, queue=queue, actor=rep)

    inquiry_set_status(inquiry=inquiry, status=InquiryStatus.RESOLVED, actor=rep)

    assert tab_counts(rep, timezone.now()) == {}

"""The report dashboards as their readers meet them: who may open them, the date range and store
form, days in the reader's time zone, CSV downloads with the charts' own numbers, and a query
count that does not grow with the data."""

import csv
import io
import json
import os
import re
import subprocess
import sys
import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Channel, Role, User
from crm.reports.base import report_database
from crm.reports.dashboards import DASHBOARDS
from crm.reports.services import backlog_snapshot_take
from orders.models import PickupStatus
from stores.models import StoreRole
from tests.crm import factories_reports as rows
from tests.factories import QueueFactory, StoreFactory, UserFactory, store_staff

pytestmark = pytest.mark.django_db

CHART_SCRIPT = re.compile(
    r'<script id="(chart-[\w-]+)" type="application/json">(.*?)</script>', re.S
)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(slug: str) -> str:
    return reverse("reports:dashboard", args=[slug])


def download(slug: str, chart: str) -> str:
    return reverse("reports:download", args=[slug, chart])


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def charts_on(html: str) -> dict[str, dict]:
    return {name[len("chart-") :]: json.loads(data) for name, data in CHART_SCRIPT.findall(html)}


def recent(days: float = 2) -> datetime:
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def north():
    return StoreFactory.create(name="North", code="north")


@pytest.fixture
def south():
    return StoreFactory.create(name="South", code="south")


class TestWhoMayRead:
    @pytest.mark.parametrize(
        ("role", "status"),
        [
            (Role.CUSTOMER, 403),
            (Role.ASSOCIATE, 403),
            (Role.REP, 403),
            (Role.MANAGER, 200),
            (Role.SUPERVISOR, 200),
            (Role.ADMIN, 200),
        ],
    )
    def test_each_role(self, role: Role, status: int, north) -> None:
        if role in (Role.ASSOCIATE, Role.MANAGER):
            user = store_staff(north, StoreRole(role))
        else:
            user = UserFactory.create(role=role)
        client = signed_in(user)

        for slug in DASHBOARDS:
            assert client.get(page(slug)).status_code == status
        assert client.get(download("service", "backlog")).status_code == status
        assert client.get(download("stores", "pickups")).status_code == status
        assert client.get(reverse("reports:home")).status_code == (302 if status == 200 else 403)

    def test_signed_out_goes_to_the_login_page(self) -> None:
        response = Client().get(page("service"))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_the_navigation_offers_reports_to_those_who_may_read_them(self, north) -> None:
        link = f'href="{reverse("reports:home")}"'
        manager = store_staff(north, StoreRole.MANAGER)
        associate = store_staff(north, StoreRole.ASSOCIATE)
        home = reverse("customers:search")

        assert link in signed_in(manager).get(home).content.decode()
        assert (
            link in signed_in(UserFactory.create(role=Role.SUPERVISOR)).get(home).content.decode()
        )
        assert link not in signed_in(associate).get(home).content.decode()
        assert link not in signed_in(UserFactory.create(role=Role.REP)).get(home).content.decode()

    def test_unknown_dashboards_and_charts_are_404(self) -> None:
        client = signed_in(UserFactory.create(role=Role.SUPERVISOR))

        assert client.get(page("marketing")).status_code == 404
        assert client.get(download("service", "pickups")).status_code == 404


class TestRangeForm:
    def test_the_default_is_the_last_30_days_in_the_readers_time_zone(self) -> None:
        zone = "Pacific/Kiritimati"  # UTC+14: often a day ahead of the server
        reader = UserFactory.create(role=Role.SUPERVISOR, time_zone=zone)

        response = signed_in(reader).get(page("service"))

        today = datetime.now(zoneinfo.ZoneInfo(zone)).date()
        html = response.content.decode()
        assert f'value="{today - timedelta(days=29):%Y-%m-%d}"' in html
        assert f'value="{today:%Y-%m-%d}"' in html
        assert "Whole days in Pacific/Kiritimati" in html

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            (
                {"start": "2026-03-10", "end": "2026-03-01"},
                "The first day comes after the last day.",
            ),
            (
                {"start": "2023-01-01", "end": "2025-01-02"},
                "Choose at most 731 days (about two years).",
            ),
            ({"start": "2026-02-30", "end": "2026-03-01"}, "Enter a date."),
            ({"start": "", "end": "2026-03-01"}, "Give the first day."),
            ({"start": "2026-01-01", "end": "9999-12-31"}, "The range can end today"),
        ],
    )
    def test_bad_input_shows_the_errors_and_no_charts(self, query, message) -> None:
        client = signed_in(UserFactory.create(role=Role.SUPERVISOR))

        response = client.get(page("service"), query)

        html = response.content.decode()
        assert response.status_code == 200
        assert message in html
        assert 'aria-invalid="true"' in html
        assert "report-card" not in html
        assert client.get(download("service", "backlog"), query).status_code == 400

    def test_two_years_exactly_is_accepted(self) -> None:
        client = signed_in(UserFactory.create(role=Role.SUPERVISOR))

        response = client.get(page("stores"), {"start": "2024-01-01", "end": "2025-12-31"})

        assert response.context["form"].is_valid()
        assert len(response.context["charts"]) == 6

    def test_days_begin_and_end_at_midnight_in_the_readers_zone_across_a_dst_change(
        self,
    ) -> None:
        # 8 March 2026 in Los Angeles: 00:00 PST (08:00 UTC) to 00:00 PDT next day (07:00 UTC).
        for moment in [
            datetime(2026, 3, 8, 7, 59, tzinfo=UTC),  # 7 March, 23:59 there
            datetime(2026, 3, 8, 8, 0, tzinfo=UTC),  # midnight: in
            datetime(2026, 3, 9, 6, 59, tzinfo=UTC),  # 23:59 PDT: in
            datetime(2026, 3, 9, 7, 0, tzinfo=UTC),  # 9 March: out (24 h after start: would be in)
        ]:
            rows.inquiry(created_at=moment, channel=Channel.WEB_FORM)
        reader = UserFactory.create(role=Role.SUPERVISOR, time_zone="America/Los_Angeles")

        response = signed_in(reader).get(
            download("service", "inquiries-by-channel"),
            {"start": "2026-03-08", "end": "2026-03-08"},
        )

        assert csv_rows(response) == [["Channel", "Inquiries"], ["Web form", "2"]]


class TestStoreScope:
    def test_a_manager_sees_her_store_only(self, north, south) -> None:
        queue = QueueFactory.create(name="Alpha")
        rows.fill(2, stores=[north], queue=queue)
        rows.fill(3, stores=[south], queue=queue)
        manager = store_staff(north, StoreRole.MANAGER)
        client = signed_in(manager)

        returns = csv_rows(client.get(download("stores", "returns-by-store")))
        pickups = csv_rows(client.get(download("stores", "pickups")))
        inquiries = csv_rows(client.get(download("service", "inquiries-by-channel")))

        assert returns == [["Returned at", "Items returned"], ["North", "6"]]
        assert pickups[1:] == [["North", "2", "2", "0"]]
        # Two inquiries and two call-back requests (each opens one) were made at North.
        assert sum(int(count) for _label, count in inquiries[1:]) == 4
        html = client.get(page("stores")).content.decode()
        assert "your stores only" in html
        assert "South" not in html

    def test_a_manager_asking_for_another_store_is_refused(self, north, south) -> None:
        rows.fill(1, stores=[south], queue=None)
        client = signed_in(store_staff(north, StoreRole.MANAGER))

        response = client.get(page("stores"), {"store": south.pk})

        assert "Choose one of the stores in the list." in response.content.decode()
        assert response.context["charts"] == []
        assert client.get(download("stores", "pickups"), {"store": south.pk}).status_code == 400

    def test_a_supervisor_sees_every_store_and_may_pick_one(self, north, south) -> None:
        rows.fill(2, stores=[north, south], queue=None)
        client = signed_in(UserFactory.create(role=Role.SUPERVISOR))

        everything = csv_rows(client.get(download("stores", "returns-by-store")))
        one = client.get(download("stores", "returns-by-store"), {"store": south.pk})

        assert sorted(everything[1:]) == [["North", "3"], ["South", "3"]]
        assert csv_rows(one)[1:] == [["South", "3"]]
        assert "_south.csv" in one["Content-Disposition"]


class TestCsv:
    def test_every_csv_holds_the_numbers_its_chart_draws(self, north, south) -> None:
        rows.fill(6, stores=[north, south], queue=QueueFactory.create(name="Alpha"))
        backlog_snapshot_take()  # the call-back requests' inquiries are open
        client = signed_in(UserFactory.create(role=Role.SUPERVISOR))
        checked = 0

        for slug in DASHBOARDS:
            html = client.get(page(slug)).content.decode()
            for key, chart in charts_on(html).items():
                response = client.get(download(slug, key))
                assert response["Content-Type"] == "text/csv; charset=utf-8"
                assert response["Content-Disposition"].startswith(f'attachment; filename="{key}_')
                header, *body = csv_rows(response)
                assert header[1:] == [series["label"] for series in chart["series"]]
                assert [row[0] for row in body] == chart["labels"]
                for index, series in enumerate(chart["series"], start=1):
                    drawn = ["" if value is None else str(value) for value in series["values"]]
                    assert [row[index] for row in body] == drawn, (key, series["label"])
                checked += 1

        assert checked == 14

    def test_names_a_spreadsheet_would_run_as_formulas_are_quoted(self) -> None:
        queue = QueueFactory.create(name='=HYPERLINK("http://evil.example","Click")')
        rows.inquiry(created_at=recent(), queue=queue)
        client = signed_in(UserFactory.create(role=Role.SUPERVISOR))

        body = csv_rows(client.get(download("service", "inquiries-by-queue")))

        assert body[1] == ['\'=HYPERLINK("http://evil.example","Click")', "1"]

    def test_names_are_text_on_the_page_never_markup(self) -> None:
        store = StoreFactory.create(name="<script>alert(1)</script>")
        rows.pickup(store=store, status=PickupStatus.READY, ready_at=recent())

        html = (
            signed_in(UserFactory.create(role=Role.SUPERVISOR)).get(page("stores")).content.decode()
        )

        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the table of numbers
        assert charts_on(html)["pickups"]["labels"] == ["<script>alert(1)</script>"]

    def test_an_empty_range_downloads_the_labels_with_zeros(self) -> None:
        client = signed_in(UserFactory.create(role=Role.SUPERVISOR))

        body = csv_rows(client.get(download("service", "satisfaction")))

        assert body == [
            ["Rating", "Ratings"],
            ["1 star", "0"],
            ["2 stars", "0"],
            ["3 stars", "0"],
            ["4 stars", "0"],
            ["5 stars", "0"],
        ]


class TestQueryBudget:
    BUDGETS = {"service": 16, "stores": 12}

    @pytest.mark.parametrize("slug", sorted(BUDGETS))
    @pytest.mark.parametrize("reader", ["supervisor", "manager"])
    def test_the_count_does_not_grow_with_the_data(
        self, slug, reader, north, south, django_assert_max_num_queries
    ) -> None:
        queue = QueueFactory.create(name="Alpha")
        user = (
            UserFactory.create(role=Role.SUPERVISOR)
            if reader == "supervisor"
            else store_staff(north, StoreRole.MANAGER)
        )
        client = signed_in(user)
        counts = []
        for size in (2, 12):
            rows.fill(size, stores=[north, south], queue=queue)
            with (
                django_assert_max_num_queries(self.BUDGETS[slug]),
                CaptureQueriesContext(connection) as queries,
            ):
                response = client.get(page(slug))
            assert response.status_code == 200
            counts.append(len(queries))

        assert counts[0] == counts[1]

    def test_a_csv_runs_only_its_own_report(self, django_assert_max_num_queries) -> None:
        client = signed_in(UserFactory.create(role=Role.SUPERVISOR))

        with django_assert_max_num_queries(5):
            assert client.get(download("service", "satisfaction")).status_code == 200


class TestReplica:
    def test_reports_read_the_main_database_without_a_replica(self) -> None:
        assert report_database() == "default"

    def test_a_configured_replica_is_the_reports_database(self, tmp_path) -> None:
        code = (
            "from django.conf import settings as s; from crm.reports.base import report_database; "
            "r = s.DATABASES['reports']; "
            "print(report_database(), r['HOST'], r['NAME'], r['TEST']['MIRROR'])"
        )
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
            cwd=settings.BASE_DIR,
            env={
                "PATH": os.environ["PATH"],
                "CRM_VAR_DIR": str(tmp_path),
                "DJANGO_DEBUG": "true",
                "DATABASE_URL": "postgres://crm@db.internal:5432/crm",
                "CRM_REPORTS_DATABASE_URL": "postgres://reader@replica.internal:5432/crm",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )

        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["reports", "replica.internal", "crm", "default"]


def test_dates_outside_the_data_give_empty_states() -> None:
    client = signed_in(UserFactory.create(role=Role.SUPERVISOR))

    html = client.get(page("stores"), {"start": "2025-01-01", "end": "2025-01-31"}).content.decode()

    assert "No pickups were ready, collected or expired in this range." in html
    assert "No returns were completed in this range." in html
    assert "No customer was active in this range." in html
    assert date(2025, 1, 1).isoformat() in html

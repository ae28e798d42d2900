"""The API against its own OpenAPI schema (schemathesis): for every operation, generated requests
never get a 5xx, and every answer matches the schema (status code, content type, body)."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.models import Channel, Scope
from crm.services import token_create
from tests.factories import StoreFactory, UserFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 20


@pytest.fixture
def in_process_app() -> Iterator[object]:
    """The WSGI app, called in this process on the test's database. Django closes the database
    connection around each request (as Django's test client avoids too); the test's connection,
    with its transaction, must stay open."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def test_no_server_errors_and_answers_match_the_schema(db: None, in_process_app: object) -> None:
    admin = UserFactory(role="admin", is_staff=True, is_superuser=True)
    StoreFactory(code="sfo")
    _, raw = token_create(
        name="Schema check",
        scopes=list(Scope.values),
        channels=list(Channel.values),
        all_stores=True,
        actor=admin,
    )
    schema = schemathesis.openapi.from_wsgi("/api/schema/", in_process_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, "the schema lists the API's operations"

    failures = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {raw}"}, checks=CHECKS)

        try:
            check()
        except (FailureGroup, AssertionError) as failure:  # one report for every operation
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)

"""The API against its own OpenAPI schema (schemathesis, every check it has but one): for every
operation, requests generated to fit the schema and requests generated to break it never get a
5xx; the answers match the schema (status code, content type, headers, body); data that breaks
the schema is refused; a missing token, a wrong method and a missing required header are refused;
a resource is readable after it was created and gone after it was deleted."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from crm.models import Channel, Scope
from crm.services import token_create
from tests.factories import StoreFactory, UserFactory

load_all_checks()
EVERY_CHECK = [
    check
    for check in CHECKS.get_all()
    # A request the schema admits may still name an order, a store or a SKU that doesn't exist,
    # or break a rule across fields (a customer needs an id, an e-mail or a phone): the API
    # answers 400 with a message per field, as the schema documents.
    if check is not positive_data_acceptance
]
# A bulk request answers 207 with a result per item, an invalid item's being 400: invalid data is
# refused item by item, not by refusing the request.
PER_ITEM_CHECKS = [check for check in EVERY_CHECK if check is not negative_data_rejection]
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
        for mode in GenerationMode:
            try:
                examples(operation, mode, token=raw)()
            except (FailureGroup, AssertionError) as failure:  # one report for every operation
                failures.append(f"{operation.label} ({mode} data): {failure}")
    assert not failures, "\n\n".join(failures)


def examples(operation: Any, mode: GenerationMode, *, token: str) -> Callable[[], None]:
    """A hypothesis test sending EXAMPLES_PER_OPERATION generated requests to the operation."""
    checks = PER_ITEM_CHECKS if operation.path.endswith("/bulk/") else EVERY_CHECK

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        # The same examples every run: CI fails on a change, not on the luck of the draw.
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        # The token is sent unless the case itself is a broken Authorization header.
        broken = mode is GenerationMode.NEGATIVE and "Authorization" in (case.headers or {})
        headers = {} if broken else {"Authorization": f"Bearer {token}"}
        case.call_and_validate(headers=headers, checks=checks)

    return check
